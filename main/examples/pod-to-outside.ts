// Placeholder until the scene is written (see example.ts for the shape).

import type { Example } from './example.ts';

export const podToOutside: Example = {
  name: 'pod-to-outside',
  title: 'pod-to-outside',
  summary: 'Not written yet.',
  scene: '',
  setup: () => [],
  walkthrough: () => ({ title: 'pod-to-outside', steps: [] }),
};
