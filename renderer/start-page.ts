// The start page: saved labs (name, nodes, services, last change) with new, rename,
// duplicate, delete, import (file picker or a file dropped on the window) and export; and the
// built-in examples (the article's scenes), each opened as a new lab with its walkthrough shown.

import type { ExampleInfo, LabApi, LabSummary } from '../shared/api/contract.ts';
import { busy, clear, dialog, download, formatBytes, h, relativeTime, toast, type Field } from './ui.ts';
import { topbar } from './topbar.ts';

const CLUSTER = 'an empty Kubernetes cluster';
const PLAIN = 'Linux hosts only (no cluster)';
const NAME_HINT = 'up to 253 characters; no / or \\, not ending in .kpl or .json';

export function labUrl(name: string): string {
  return `#/lab/${encodeURIComponent(name)}`;
}

export async function importFiles(api: LabApi, files: FileList | File[], after: (name: string) => void): Promise<void> {
  for (const file of Array.from(files)) {
    const text = await file.text();
    const base = file.name.replace(/\.(kpl|json|ya?ml)$/i, '') || 'imported';
    if (/\.ya?ml$/i.test(file.name)) {
      const caps = await api.capabilities();
      if (!caps.apply) {
        toast(`${file.name}: importing Kubernetes YAML needs the cluster layer, which this build does not have yet`, 'error');
        continue;
      }
      const name = await freeName(api, base);
      await busy(async () => {
        await api.createLab(name, { cluster: true, nodes: 1 });
        await api.apply(name, text);
        after(name);
      });
      continue;
    }
    await busy(async () => {
      let name: string | undefined;
      try {
        name = (await api.importLab(text)).name;
      } catch (e) {
        if (!/already exists/.test((e as Error).message)) throw e;
        name = (await api.importLab(text, { name: await freeName(api, base) })).name;
      }
      toast(`Imported ${file.name} as "${name}"`);
      after(name);
    });
  }
}

/** The examples: title (and Korean title), summary, layouts; "Open" makes a lab of one. */
function examplesSection(api: LabApi): HTMLElement {
  const box = h('div', { class: 'examples', 'data-testid': 'examples' });
  const openExample = async (ex: ExampleInfo, layout: string | undefined): Promise<void> => {
    const made = await busy(async () => {
      const name = await freeName(api, ex.name);
      await api.createExample(ex.name, name, layout === 'legacy' || layout === 'current' ? { proxy: layout } : {});
      return name;
    });
    if (made) location.hash = `${labUrl(made)}?guide`;
  };
  const card = (ex: ExampleInfo): HTMLElement => {
    const pick = ex.layouts.length > 1
      ? h('select', { 'data-testid': 'example-layout', 'aria-label': `kube-proxy layout for ${ex.title}`, title: 'kube-proxy\'s iptables layout' }, ...ex.layouts.map((l) => h('option', { value: l }, l === 'legacy' ? 'legacy (KUBE-SVC, KUBE-SEP)' : 'current (1.28+)')))
      : null;
    return h('div', { class: 'example', 'data-testid': 'example', 'data-example': ex.name },
      h('div', { class: 'ex-titles' }, h('strong', {}, ex.title), ex.ko ? h('span', { class: 'muted', lang: 'ko' }, ex.ko) : null),
      h('p', {}, ex.summary),
      h('div', { class: 'ex-meta muted' },
        [ex.cluster ? 'cluster' : 'hosts only', `${ex.steps} step${ex.steps === 1 ? '' : 's'}`, ex.exercises ? `${ex.exercises} exercise${ex.exercises === 1 ? '' : 's'}` : '', ex.layouts.length === 1 ? `${ex.layouts[0]} layout` : ''].filter(Boolean).join(' · ')),
      h('div', { class: 'ex-open' }, pick,
        h('button', { class: 'primary', 'data-testid': `example-open-${ex.name}`, onclick: () => void openExample(ex, pick?.value ?? ex.layouts[0]) }, 'Open')));
  };
  void api.examples().then((list) => {
    clear(box);
    if (!list.length) box.append(h('div', { class: 'empty' }, 'No examples in this build.'));
    box.append(...list.map(card));
  }).catch((e: unknown) => box.append(h('div', { class: 'empty' }, `Examples are not available: ${(e as Error).message}`)));
  return box;
}

async function freeName(api: LabApi, base: string): Promise<string> {
  const names = new Set((await api.listLabs()).map((l) => l.name));
  if (!names.has(base)) return base;
  for (let i = 2; ; i++) if (!names.has(`${base} (${i})`)) return `${base} (${i})`;
}

export function showStartPage(root: HTMLElement, api: LabApi): () => void {
  const body = h('div', { class: 'start' });
  const list = h('div', { 'data-testid': 'lab-list' });
  const fileInput = h('input', { type: 'file', accept: '.kpl,.json,.yaml,.yml', multiple: true, style: 'display:none', 'data-testid': 'import-input' });
  fileInput.addEventListener('change', () => {
    if (fileInput.files?.length) void importFiles(api, fileInput.files, () => void refresh());
    fileInput.value = '';
  });

  const newLab = async (): Promise<void> => {
    const labs = await api.listLabs();
    let n = labs.length + 1;
    while (labs.some((l) => l.name === `lab ${n}`)) n++;
    const caps = await api.capabilities();
    const fields: Field[] = [{ name: 'name', label: 'Name', value: `lab ${n}` }];
    if (caps.cluster) {
      fields.push(
        { name: 'type', label: 'Start from', type: 'select', options: [CLUSTER, PLAIN], value: CLUSTER },
        { name: 'nodes', label: 'Nodes', type: 'number', value: '1' },
      );
    }
    const v = await dialog('New lab', fields, {
      ok: 'Create',
      check: async (v) => {
        try {
          const nodes = Number(v.nodes ?? '1');
          if (v.type === CLUSTER && (!Number.isInteger(nodes) || nodes < 0 || nodes > 250)) return 'nodes: expected a whole number 0-250';
          await api.createLab(v.name, v.type === CLUSTER ? { cluster: true, nodes } : {});
          return null;
        } catch (e) {
          return (e as Error).message;
        }
      },
    });
    if (v) location.hash = labUrl(v.name);
  };

  const rowOf = (l: LabSummary): HTMLElement => {
    const open = h('a', { href: labUrl(l.name), 'data-testid': 'lab-link' }, l.name);
    const rename = async (): Promise<void> => {
      await dialog(`Rename "${l.name}"`, [{ name: 'name', label: 'New name', value: l.name }], {
        ok: 'Rename',
        check: async (v) => {
          try {
            if (v.name !== l.name) await api.renameLab(l.name, v.name);
            return null;
          } catch (e) {
            return (e as Error).message;
          }
        },
      });
    };
    const duplicate = async (): Promise<void> => {
      await dialog(`Duplicate "${l.name}"`, [{ name: 'name', label: 'Copy name', value: `${l.name} copy` }], {
        ok: 'Duplicate',
        check: async (v) => {
          try {
            await api.duplicateLab(l.name, v.name);
            return null;
          } catch (e) {
            return (e as Error).message;
          }
        },
      });
    };
    const exportLab = async (): Promise<void> => {
      const r = await busy(() => api.exportLab(l.name));
      if (r) download(r.fileName, new Blob([r.text], { type: 'application/json' }));
    };
    const remove = async (): Promise<void> => {
      const ok = await dialog(`Delete "${l.name}"?`, [], { ok: 'Delete' });
      if (ok) await busy(() => api.deleteLab(l.name));
    };
    return h('tr', { 'data-lab': l.name },
      h('td', {}, open),
      h('td', { class: 'num' }, String(l.nodes)),
      h('td', { class: 'num' }, String(l.services)),
      h('td', { title: new Date(l.changed).toLocaleString() }, relativeTime(l.changed)),
      h('td', { class: 'num muted' }, formatBytes(l.size)),
      h('td', { class: 'ops' },
        h('button', { onclick: () => void rename(), title: 'Rename' }, 'Rename'),
        h('button', { onclick: () => void duplicate(), title: 'Duplicate' }, 'Duplicate'),
        h('button', { onclick: () => void exportLab(), title: 'Export .kpl' }, 'Export'),
        h('button', { class: 'danger', onclick: () => void remove(), title: 'Delete' }, 'Delete')));
  };

  async function refresh(): Promise<void> {
    const labs = await busy(() => api.listLabs());
    if (!labs) return;
    clear(list);
    if (labs.length === 0) {
      list.append(h('div', { class: 'empty' }, 'No labs yet. Create one, or import a .kpl file (drop it anywhere on this window).'));
      return;
    }
    list.append(h('table', { class: 'labs' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', { class: 'num' }, 'Nodes'), h('th', { class: 'num' }, 'Services'), h('th', {}, 'Last change'), h('th', { class: 'num' }, 'Size'), h('th', {}))),
      h('tbody', {}, ...labs.map(rowOf))));
  }

  const zone = h('div', { class: 'dropzone' }, 'Drop .kpl or YAML files to import');
  let depth = 0;
  const onEnter = (e: DragEvent): void => {
    if (!e.dataTransfer?.types.includes('Files')) return;
    depth++;
    zone.classList.add('on');
  };
  const onLeave = (): void => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) zone.classList.remove('on');
  };
  const onOver = (e: DragEvent): void => {
    if (e.dataTransfer?.types.includes('Files')) e.preventDefault();
  };
  const onDrop = (e: DragEvent): void => {
    if (!e.dataTransfer?.files.length) return;
    e.preventDefault();
    depth = 0;
    zone.classList.remove('on');
    void importFiles(api, e.dataTransfer.files, () => void refresh());
  };
  window.addEventListener('dragenter', onEnter);
  window.addEventListener('dragleave', onLeave);
  window.addEventListener('dragover', onOver);
  window.addEventListener('drop', onDrop);

  body.append(
    h('h1', {}, 'Labs'),
    h('div', { class: 'actions' },
      h('button', { class: 'primary', onclick: () => void newLab(), 'data-testid': 'new-lab' }, 'New lab'),
      h('button', { onclick: () => fileInput.click(), 'data-testid': 'import' }, 'Import…'),
      fileInput),
    list,
    h('p', { class: 'muted' }, `Lab names: ${NAME_HINT}. Every change is stored at once; there is nothing to save.`),
    h('h1', {}, 'Examples'),
    h('p', { class: 'muted' }, 'The article\'s scenes as labs, each with a walkthrough to follow step by step and exercises the lab checks. Opening one makes a new lab.'),
    examplesSection(api));
  root.append(topbar(null), body, zone);
  const off = api.onLabsChanged(() => void refresh());
  void refresh();
  return () => {
    off();
    window.removeEventListener('dragenter', onEnter);
    window.removeEventListener('dragleave', onLeave);
    window.removeEventListener('dragover', onOver);
    window.removeEventListener('drop', onDrop);
    zone.remove();
  };
}
