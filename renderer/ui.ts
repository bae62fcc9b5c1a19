// Small DOM helpers: element building (text only, never HTML from data), dialogs, toasts and
// a progress bar for anything slower than 300 ms.

type Attrs = Record<string, string | number | boolean | ((ev: Event) => void) | undefined>;
type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, '').toLowerCase(), v);
    else if (k === 'class') el.className = String(v);
    // Through the CSSOM: a style attribute would be refused by the CSP (style-src 'self').
    else if (k === 'style') el.style.cssText = String(v);
    else if (k === 'value' && (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement)) el.value = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

export function clear(el: Element): void {
  while (el.firstChild) el.firstChild.remove();
}

let toastBox: HTMLElement | null = null;
export function toast(text: string, kind: 'info' | 'error' = 'info', ms = 4000): void {
  if (!toastBox) {
    toastBox = h('div', { class: 'toasts', role: 'status' });
    document.body.append(toastBox);
  }
  const t = h('div', { class: `toast ${kind}` }, text);
  toastBox.append(t);
  setTimeout(() => t.remove(), kind === 'error' ? ms * 2 : ms);
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Runs `fn`, showing the progress bar if it takes over 300 ms and a toast if it fails. */
export async function busy<T>(fn: () => Promise<T>): Promise<T | undefined> {
  let bar: HTMLElement | null = null;
  const timer = setTimeout(() => {
    bar = h('div', { class: 'progress', 'data-testid': 'progress' });
    document.body.append(bar);
  }, 300);
  try {
    return await fn();
  } catch (e) {
    toast(errorText(e), 'error');
    return undefined;
  } finally {
    clearTimeout(timer);
    (bar as HTMLElement | null)?.remove();
  }
}

export interface Field {
  name: string;
  label: string;
  value?: string;
  type?: 'text' | 'number' | 'select';
  options?: string[];
  placeholder?: string;
}

/**
 * A modal form. Resolves with the values, or null when cancelled. `check` may refuse the
 * values with a message shown in the dialog (kept open).
 */
export function dialog(title: string, fields: Field[], opts: { ok?: string; check?: (v: Record<string, string>) => Promise<string | null> | string | null } = {}): Promise<Record<string, string> | null> {
  return new Promise((resolve) => {
    const inputs = new Map<string, HTMLInputElement | HTMLSelectElement>();
    const err = h('div', { class: 'error', 'data-testid': 'dialog-error' });
    const grid = h('div', { class: 'fields' });
    for (const f of fields) {
      const id = `f-${f.name}`;
      let input: HTMLInputElement | HTMLSelectElement;
      if (f.type === 'select') {
        input = h('select', { id, name: f.name }, ...(f.options ?? []).map((o) => h('option', { value: o }, o)));
        input.value = f.value ?? f.options?.[0] ?? '';
      } else {
        input = h('input', { id, name: f.name, type: f.type ?? 'text', value: f.value ?? '', placeholder: f.placeholder, autocomplete: 'off', spellcheck: 'false' });
      }
      inputs.set(f.name, input);
      grid.append(h('label', { for: id }, f.label), input);
    }
    const close = (v: Record<string, string> | null): void => {
      back.remove();
      resolve(v);
    };
    const submit = async (): Promise<void> => {
      const v: Record<string, string> = {};
      for (const [k, i] of inputs) v[k] = i.value.trim();
      const problem = opts.check ? await opts.check(v) : null;
      if (problem) {
        err.textContent = problem;
        return;
      }
      close(v);
    };
    const form = h('form', { class: 'dialog', role: 'dialog', 'aria-label': title },
      h('h2', {}, title), grid, err,
      h('div', { class: 'buttons' },
        h('button', { type: 'button', onclick: () => close(null) }, 'Cancel'),
        h('button', { type: 'submit', class: 'primary', 'data-testid': 'dialog-ok' }, opts.ok ?? 'OK')));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void submit();
    });
    form.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') close(null);
      e.stopPropagation();
    });
    const back = h('div', { class: 'backdrop' }, form);
    document.body.append(back);
    const first = inputs.values().next().value;
    if (first) {
      first.focus();
      if (first instanceof HTMLInputElement) first.select();
    }
  });
}

export async function confirmDialog(title: string, ok = 'OK'): Promise<boolean> {
  return (await dialog(title, [], { ok })) !== null;
}

/** Saves bytes as a download (the browser or Electron asks where). */
export function download(name: string, data: Blob): void {
  const url = URL.createObjectURL(data);
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function relativeTime(ms: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return new Date(ms).toLocaleDateString();
}

export function formatBytes(n: number): string {
  return n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
