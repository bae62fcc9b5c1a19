// Placeholder until the scene is written (see example.ts for the shape).

import type { Example } from './example.ts';

export const nodePort: Example = {
  name: 'nodeport',
  title: 'nodeport',
  summary: 'Not written yet.',
  scene: '',
  setup: () => [],
  walkthrough: () => ({ title: 'nodeport', steps: [] }),
};
