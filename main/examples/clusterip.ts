// Placeholder until the scene is written (see example.ts for the shape).

import type { Example } from './example.ts';

export const clusterIp: Example = {
  name: 'clusterip',
  title: 'clusterip',
  summary: 'Not written yet.',
  scene: '',
  setup: () => [],
  walkthrough: () => ({ title: 'clusterip', steps: [] }),
};
