// Placeholder until the scene is written (see example.ts for the shape).

import type { Example } from './example.ts';

export const conntrackWalk: Example = {
  name: 'conntrack',
  title: 'conntrack',
  summary: 'Not written yet.',
  scene: '',
  setup: () => [],
  walkthrough: () => ({ title: 'conntrack', steps: [] }),
};
