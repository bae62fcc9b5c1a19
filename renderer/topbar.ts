// The bar across the top: the app's name (a link home), the page's own tools, the theme
// switch and the help overlay of keyboard shortcuts.

import { h } from './ui.ts';

export const SHORTCUTS: [string, string][] = [
  ['Drag from the palette', 'add a node, pod, Deployment, Service, client, load balancer or LAN'],
  ['C', 'connect mode: drag from one element to another (host → LAN, host → host)'],
  ['Delete / Backspace', 'delete the selection'],
  ['Ctrl+Z', 'undo (the store’s history)'],
  ['Ctrl+Shift+Z / Ctrl+Y', 'redo'],
  ['Shift+drag, Ctrl+click', 'select several'],
  ['Ctrl+A', 'select everything'],
  ['Ctrl+C, Ctrl+V', 'copy and paste the selection (hosts, LANs, Deployments, Services, pods; not their cables)'],
  ['L', 'automatic layout (fcose)'],
  ['F', 'zoom to fit'],
  ['/', 'search by name or IP'],
  ['G', 'show or hide the guide: the lab’s walkthrough and exercises'],
  ['T', 'switch dark / light theme'],
  ['F11', 'debugger: step into (the next rule)'],
  ['F10', 'debugger: step over (past the chain this rule jumps to)'],
  ['Shift+F11', 'debugger: step out (back in the calling chain)'],
  ['Shift+F10', 'debugger: step back'],
  ['F5', 'debugger: continue to the next breakpoint or the end'],
  ['Shift+F5', 'debugger: reverse-continue to the previous breakpoint'],
  ['F9', 'debugger: toggle a breakpoint on the current rule'],
  ['?', 'this help'],
  ['Esc', 'clear the selection, close dialogs'],
];

let helpOpen: HTMLElement | null = null;

export function toggleHelp(): void {
  if (helpOpen) {
    helpOpen.remove();
    helpOpen = null;
    return;
  }
  const close = (): void => {
    helpOpen?.remove();
    helpOpen = null;
  };
  const box = h('div', { class: 'dialog help', role: 'dialog', 'aria-label': 'Keyboard shortcuts', 'data-testid': 'help' },
    h('h2', {}, 'Keyboard shortcuts'),
    h('table', {}, ...SHORTCUTS.map(([k, d]) => h('tr', {}, h('td', {}, h('kbd', {}, k)), h('td', {}, d)))),
    h('div', { class: 'buttons' }, h('button', { class: 'primary', onclick: close }, 'Close')));
  helpOpen = h('div', { class: 'backdrop', onclick: (e: Event) => { if (e.target === helpOpen) close(); } }, box);
  document.body.append(helpOpen);
}

export function toggleTheme(): void {
  const next = document.documentElement.dataset.theme === 'light' ? 'dark' : 'light';
  document.documentElement.dataset.theme = next;
  try {
    localStorage.setItem('kpl-theme', next);
  } catch {
    // not persisted
  }
  window.dispatchEvent(new CustomEvent('kpl-theme'));
}

export function topbar(title: string | null, ...tools: Node[]): HTMLElement {
  return h('div', { class: 'topbar' },
    h('a', { class: 'brand', href: '#/', title: 'All labs', style: 'color:inherit;text-decoration:none' }, h('img', { src: 'icon.svg', alt: '' }), 'Kube Packet Lab'),
    title ? h('span', { class: 'title', 'data-testid': 'lab-title' }, `/ ${title}`) : null,
    ...tools,
    h('span', { class: 'spacer' }),
    h('button', { onclick: toggleTheme, title: 'Dark / light theme (T)', 'data-testid': 'theme' }, '◐ Theme'),
    h('button', { onclick: toggleHelp, title: 'Keyboard shortcuts (?)' }, '?'));
}
