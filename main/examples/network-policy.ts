// Placeholder until the scene is written (see example.ts for the shape).

import type { Example } from './example.ts';

export const networkPolicy: Example = {
  name: 'network-policy',
  title: 'network-policy',
  summary: 'Not written yet.',
  scene: '',
  setup: () => [],
  walkthrough: () => ({ title: 'network-policy', steps: [] }),
};
