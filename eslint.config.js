// Lint rules that keep the layers honest: each folder may import only what its runtime and
// place in the design allow (see ARCHITECTURE in the README).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Bare built-in names are matched exactly (as `paths`), so `../net/ipv4.ts` is not mistaken
// for Node's `net`; everything else is a gitignore-style pattern.
const BARE = new Set(['fs', 'path', 'os', 'child_process', 'crypto', 'net', 'http', 'worker_threads', 'electron', 'better-sqlite3']);
const nodeBuiltins = ['node:*', 'fs', 'path', 'os', 'child_process', 'crypto', 'net', 'http', 'worker_threads'];
const restrict = (list, message) => ({
  'no-restricted-imports': [
    'error',
    {
      paths: list.filter((n) => BARE.has(n)).map((name) => ({ name, message })),
      patterns: list.filter((n) => !BARE.has(n)).map((group) => ({ group: [group], message })),
    },
  ],
});

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'out/**', 'test-results/**', 'scratch/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly', performance: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', URL: 'readonly', Buffer: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['main/engine/**'],
    rules: restrict(
      [...nodeBuiltins, 'electron', 'better-sqlite3', '**/store/**', '**/service/**', '**/cli/**', '**/web/**', '**/electron/**', '**/renderer/**'],
      'The engine is pure: no I/O, no Node or Electron modules, no store/service/transports.',
    ),
  },
  {
    files: ['main/store/**'],
    rules: restrict(['electron', '**/engine/**', '**/service/**', '**/cli/**', '**/web/**', '**/electron/**', '**/renderer/**'], 'The store knows only shared/ and SQLite.'),
  },
  {
    files: ['main/service/**'],
    rules: restrict(['electron', '**/cli/**', '**/web/**', '**/electron/**', '**/renderer/**'], 'The service is called by transports, never the other way.'),
  },
  {
    files: ['main/cli/**', 'main/web/**'],
    rules: restrict(['**/engine/**', '**/store/**', '**/renderer/**'], 'Transports talk to the service only.'),
  },
  {
    files: ['shared/**'],
    rules: restrict([...nodeBuiltins, 'electron', '**/main/**', '**/renderer/**'], 'shared/ is runtime-neutral vocabulary.'),
  },
  {
    files: ['renderer/**'],
    rules: restrict([...nodeBuiltins, 'electron', '**/main/**'], 'The renderer talks only to window.lab.'),
  },
  {
    // Browser code: the DOM's globals.
    files: ['renderer/**'],
    languageOptions: {
      globals: Object.fromEntries(
        ['window', 'document', 'location', 'localStorage', 'navigator', 'getComputedStyle', 'matchMedia', 'requestAnimationFrame', 'cancelAnimationFrame', 'setInterval', 'clearInterval',
          'WebSocket', 'URLSearchParams', 'Blob', 'File', 'FileList', 'FileReader', 'CustomEvent', 'Event', 'KeyboardEvent', 'DragEvent', 'MouseEvent', 'Node', 'Element',
          'HTMLElement', 'HTMLInputElement', 'HTMLTextAreaElement', 'HTMLSelectElement', 'HTMLElementTagNameMap', 'structuredClone'].map((g) => [g, 'readonly']),
      ),
    },
  },
  {
    // The Electron shell: electron, the service and shared/; never the engine or the store directly.
    files: ['main/electron/**'],
    rules: restrict(['**/engine/**', '**/store/**', '**/cli/**', '**/web/**', '**/renderer/**'], 'The Electron shell talks to the service (in its utilityProcess) and shared/ only.'),
    languageOptions: { globals: { __dirname: 'readonly' } },
  },
);
