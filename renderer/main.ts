// The renderer's entry: finds the API (the Electron preload's window.lab, or the WebSocket
// client in browser mode; the rest of the renderer cannot tell which), applies the theme,
// and routes between the start page (#/) and a lab's editor (#/lab/NAME).

import type { LabApi } from '../shared/api/contract.ts';
import { openEditor } from './editor.ts';
import { showStartPage } from './start-page.ts';
import { clear } from './ui.ts';
import { connectWebSocketApi } from './ws-client.ts';

declare global {
  interface Window {
    lab?: LabApi;
  }
}

const api: LabApi = window.lab ?? connectWebSocketApi();
const root = document.getElementById('app') as HTMLElement;

export function setTheme(theme: 'dark' | 'light'): void {
  document.documentElement.dataset.theme = theme;
  try {
    localStorage.setItem('kpl-theme', theme);
  } catch {
    // storage may be unavailable; the theme still applies for this session
  }
  window.dispatchEvent(new CustomEvent('kpl-theme'));
}

function savedTheme(): 'dark' | 'light' {
  try {
    const t = localStorage.getItem('kpl-theme');
    if (t === 'dark' || t === 'light') return t;
  } catch {
    // fall through to the system preference
  }
  return matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
}

let dispose: (() => void) | null = null;

function route(): void {
  dispose?.();
  dispose = null;
  clear(root);
  // #/lab/NAME, or #/lab/NAME?guide (opened from the examples: the guide panel shown).
  const m = /^#\/lab\/([^?]+)(\?.*)?$/.exec(location.hash);
  if (m) dispose = openEditor(root, api, decodeURIComponent(m[1]), { guide: /[?&]guide\b/.test(m[2] ?? '') });
  else dispose = showStartPage(root, api);
}

setTheme(savedTheme());
window.addEventListener('hashchange', route);
route();
