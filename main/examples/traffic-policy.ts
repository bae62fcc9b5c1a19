// Placeholder until the scene is written (see example.ts for the shape).

import type { Example } from './example.ts';

export const trafficPolicy: Example = {
  name: 'traffic-policy',
  title: 'traffic-policy',
  summary: 'Not written yet.',
  scene: '',
  setup: () => [],
  walkthrough: () => ({ title: 'traffic-policy', steps: [] }),
};
