// Placeholder until the scene is written (see example.ts for the shape).

import type { Example } from './example.ts';

export const loadBalancer: Example = {
  name: 'loadbalancer',
  title: 'loadbalancer',
  summary: 'Not written yet.',
  scene: '',
  setup: () => [],
  walkthrough: () => ({ title: 'loadbalancer', steps: [] }),
};
