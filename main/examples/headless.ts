// Placeholder until the scene is written (see example.ts for the shape).

import type { Example } from './example.ts';

export const headless: Example = {
  name: 'headless',
  title: 'headless',
  summary: 'Not written yet.',
  scene: '',
  setup: () => [],
  walkthrough: () => ({ title: 'headless', steps: [] }),
};
