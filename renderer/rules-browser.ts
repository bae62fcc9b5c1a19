// The rules browser of one host, node or pod: a tab per netfilter table (raw, mangle, nat,
// filter, security — those that exist), each chain with its policy, policy counters,
// references and rule count, its rules (as `iptables -S` prints them) with their counters;
// a filter box (over rule text and chain names, asked of the service); a jump or goto target
// that is a chain scrolls to that chain and highlights it; a tab of ipsets with their members
// and one of conntrack entries. It follows the lab (labChanged).
//
// Big nodes: the service answers at most a budget of chains and rules (LabApi.rules); chains
// are shown collapsed with their rule counts when the table is big, a chain's rules are asked
// for when it is opened, and a long chain shows its rules 500 at a time.
//
// Compare: another host's rules, or this host's at an earlier revision of the lab, against these
// (LabApi.compareRules), in a tab of their own —
// per table, the chains that differ, with the rules only this host has (−) and only the other (+).
//
// Paths: the chain graph of one packet's possible paths (LabApi.pathGraph) for a packet described
// in a form (addresses, protocol, ports, interfaces; or a hook or chain to start from), drawn
// with Cytoscape in layers (dagre, left to right): chains, verdicts, an edge per rule that could
// match with its number and conditions (dashed: maybe), the hooks' order dotted. Clicking a
// chain shows it in its table's tab; clicking an edge shows the rule in full below the graph.

import type { ChainRow, LabApi, RuleRow, RulesCompare, RulesQuery, RulesView, TableRow } from '../shared/api/contract.ts';
import type { PathEdge, PathGraph, PathHook, PathQuery } from '../shared/api/contract.ts';
import cytoscape, { type Core, type ElementDefinition } from 'cytoscape';
import dagre from 'cytoscape-dagre';
import { clear, errorText, h } from './ui.ts';

// (The editor registers dagre too; registering it again is harmless, but done only once here.)
if (!(cytoscape as unknown as (kind: string, name: string) => unknown)('layout', 'dagre')) cytoscape.use(dagre);

export interface RulesBrowserOpts {
  api: LabApi;
  lab: string;
  /** A host or node name, or a pod as namespace/name. */
  host: string;
  /** What the title calls it (a pod's own name). */
  title?: string;
  /** The debugger's rule breakpoints: a rule's gutter dot sets or clears one. */
  breakpoints?: RuleBreakpoints;
}

/** Breakpoints on rules (a host's table, chain and 1-based rule number), kept by the debugger. */
export interface RuleBreakpoints {
  has(host: string, table: string, chain: string, rule: number): boolean;
  toggle(host: string, table: string, chain: string, rule: number): void;
  /** Calls `fn` whenever the breakpoints change; returns what stops it. */
  watch(fn: () => void): () => void;
}

export interface RulesBrowser {
  el: HTMLElement;
  close(): void;
  /** Resolves once the first answer is shown. */
  ready: Promise<void>;
}

/** Rows of a chain rendered at once (then "Show more"). */
const CHUNK = 500;
/** A table with at most this many rules in the answer opens with every chain expanded. */
const EXPAND_ALL = 600;
/** Chains rendered at once, then per slice. */
const FIRST_CHAINS = 120;
/** Milliseconds of work per slice after the first. */
const SLICE_MS = 12;
/** Chains listed per answer (the service lists the built-in chains' jump targets past it). */
const CHAIN_LIMIT = 1_000;
/** Rules per answer (a chain cut short asks for its own when opened). */
const RULE_LIMIT = 2_000;
/** Characters of the filter before it is asked of the service (debounced). */
const FILTER_DELAY = 200;

let current: RulesBrowser | null = null;

const fmt = (n: number): string => {
  if (n < 100_000) return String(n);
  const units = ['K', 'M', 'G', 'T'];
  let v = n;
  let i = -1;
  while (v >= 10_000 && i < units.length - 1) {
    v = Math.round(v / 1000);
    i++;
  }
  return `${v}${units[i]}`;
};

/** Opens the rules browser (one at a time: opening another host replaces it). */
export function openRulesBrowser(o: RulesBrowserOpts): RulesBrowser {
  current?.close();
  const { api, lab, host } = o;
  let view: RulesView | null = null;
  let tab = 'nat';
  let filter = '';
  let disposed = false;
  /** Chains opened (or closed) by the user, per table: kept across refreshes. */
  const open = new Map<string, boolean>();
  /** Chains whose rules were fetched on their own (the answer did not carry them). */
  const fetched = new Map<string, ChainRow>();
  const key = (table: string, chain: string): string => `${table}\u0000${chain}`;
  /** The table's chains still to render (see renderTable). */
  let renderToken = 0;
  let pending: ReturnType<typeof setTimeout> | undefined;
  let flushPending: () => void = () => undefined;

  const status = h('span', { class: 'rb-status muted', 'data-testid': 'rules-status' });
  const filterBox = h('input', { class: 'rb-filter', type: 'search', placeholder: 'Filter rules and chains…', spellcheck: 'false', 'data-testid': 'rules-filter' });
  const tabs = h('div', { class: 'rb-tabs', role: 'tablist' });
  const compareWith = h('select', { title: 'Compare these rules with another host’s', 'data-testid': 'rules-compare' }, h('option', { value: '' }, 'Compare with…')) as HTMLSelectElement;
  let compared: RulesCompare | null = null;
  /** The Paths tab: the packet last asked about, its graph, the Cytoscape instance drawing it. */
  let pathQuery: PathQuery | null = null;
  let pathResult: PathGraph | null = null;
  let pathError = '';
  let pathCy: Core | null = null;
  compareWith.addEventListener('focus', () => void fillCompareChoices(), { once: true });
  compareWith.addEventListener('change', () => void compareTo(compareWith.value));
  const body = h('div', { class: 'rb-body', 'data-testid': 'rules-body' });
  const el = h('div', { class: 'rules-browser', role: 'dialog', 'aria-label': `Rules of ${o.title ?? host}`, 'data-testid': 'rules-browser', 'data-host': host },
    h('div', { class: 'rb-head' },
      h('strong', {}, 'Rules'), h('span', { class: 'rb-host' }, o.title ?? host), status,
      h('span', { class: 'rb-spacer' }),
      filterBox, compareWith,
      h('button', { title: 'Read the rules again', 'data-testid': 'rules-refresh', onclick: () => void load() }, 'Refresh'),
      h('button', { title: 'Close (Esc)', 'aria-label': 'Close', 'data-testid': 'rules-close', onclick: () => close() }, '×')),
    tabs, body);
  document.body.append(el);

  // Keys stay in the browser (the editor's shortcuts would act on the canvas).
  el.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      if (e.target === filterBox && filterBox.value) {
        filterBox.value = '';
        setFilter('');
      } else close();
    }
    e.stopPropagation();
  });
  let filterTimer: ReturnType<typeof setTimeout> | undefined;
  filterBox.addEventListener('input', () => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(() => setFilter(filterBox.value.trim()), FILTER_DELAY);
  });
  function setFilter(f: string): void {
    if (f === filter) return;
    filter = f;
    void load();
  }

  let seq = 0;
  let resolveReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (resolveReady = r));

  async function load(): Promise<void> {
    const mine = ++seq;
    status.textContent = 'reading…';
    const q: RulesQuery = { chainLimit: CHAIN_LIMIT, limit: RULE_LIMIT, ...(filter ? { filter: filter.slice(0, 200) } : {}) };
    const t0 = performance.now();
    try {
      const v = await api.rules(lab, host, q);
      if (disposed || mine !== seq) return;
      el.dataset.loadMs = String(Math.round(performance.now() - t0));
      view = v;
      fetched.clear();
      if (compared) {
        const rev = /^rev:(\d+)$/.exec(compareWith.value);
        compared = await (rev ? api.compareRules(lab, host, host, { rev: Number(rev[1]) }) : api.compareRules(lab, host, compared.b)).catch(() => null);
      }
      if (pathQuery) await askPaths(pathQuery, false);
      if (disposed || mine !== seq) return;
      if (!v.tables.some((t) => t.name === tab) && !['ipsets', 'conntrack', 'paths', ...(compared ? ['compare'] : [])].includes(tab)) tab = v.tables.find((t) => t.name === 'nat')?.name ?? v.tables[0]?.name ?? 'ipsets';
      render();
    } catch (e) {
      if (disposed || mine !== seq) return;
      status.textContent = '';
      clear(body);
      body.append(h('div', { class: 'error', 'data-testid': 'rules-error' }, errorText(e)));
    } finally {
      if (mine === seq) resolveReady();
    }
  }

  function render(keepScroll = true): void {
    if (!view) return;
    const top = body.scrollTop;
    const v = view;
    const n = (x: number): string => x.toLocaleString('en-US');
    const listed = v.tables.reduce((k, t) => k + t.chains.length, 0);
    const chains = v.tables.reduce((k, t) => k + t.chainCount, 0);
    status.textContent = `${n(v.totalRules)} rules in ${v.tables.length} table${v.tables.length === 1 ? '' : 's'}` +
      (filter ? ` · ${n(v.carriedRules)} match “${filter}”${v.truncated ? ' (more not shown)' : ''}` : listed < chains ? ` · ${n(listed)} of ${n(chains)} chains listed` : '');
    clear(tabs);
    for (const t of v.tables) tabs.append(tabButton(t.name, `${t.name} ${fmt(t.ruleCount)}`));
    tabs.append(tabButton('ipsets', `ipsets ${v.ipsets.length}`), tabButton('conntrack', `conntrack ${fmt(v.conntrackCount)}`), tabButton('paths', 'paths'));
    if (compared) tabs.append(tabButton('compare', `vs ${compared.b}: −${fmt(compared.onlyA)} +${fmt(compared.onlyB)}`));
    pathCy?.destroy();
    pathCy = null;
    clear(body);
    renderToken++;
    clearTimeout(pending);
    const t0 = performance.now();
    if (tab === 'ipsets') renderIpsets(v);
    else if (tab === 'conntrack') renderConntrack(v);
    else if (tab === 'compare') renderCompare();
    else if (tab === 'paths') renderPaths();
    else {
      const t = v.tables.find((x) => x.name === tab);
      if (t) renderTable(t);
    }
    if (keepScroll) body.scrollTop = top;
    el.dataset.renderMs = String(Math.round(performance.now() - t0));
  }

  function tabButton(name: string, label: string): HTMLElement {
    return h('button', {
      class: `rb-tab${tab === name ? ' on' : ''}`, role: 'tab', 'aria-selected': tab === name ? 'true' : 'false', 'data-testid': `rules-tab-${name}`,
      onclick: () => {
        tab = name;
        render(false);
        body.scrollTop = 0;
      },
    }, label);
  }

  // ---- a table --------------------------------------------------------------------------------

  function renderTable(t: TableRow): void {
    const carried = t.chains.reduce((n, c) => n + c.rules.length, 0);
    const expandAll = filter !== '' || carried <= EXPAND_ALL;
    if (!t.chains.length) body.append(h('p', { class: 'muted' }, filter ? `No chain or rule of ${t.name} contains “${filter}”.` : `${t.name} has no chains listed.`));
    body.append(h('div', { class: 'rb-rule rb-columns' }, h('span', { class: 'rb-num' }, '#'), h('span', { class: 'rb-pk' }, 'pkts'), h('span', { class: 'rb-by' }, 'bytes'), h('span', {}, 'rule (as iptables -S prints it after -A CHAIN)')));
    const list = h('div', { class: 'rb-chains' });
    body.append(list);
    // The first chains at once, the rest in slices between frames (2,000 chains of a big node
    // would hold the window for a while).
    let i = 0;
    const slice = (n: number, ms = Infinity): void => {
      const frag = document.createDocumentFragment();
      const t0 = performance.now();
      for (const end = Math.min(t.chains.length, i + n); i < end; i++) {
        const c = t.chains[i];
        frag.append(chainSection(t, c, open.get(key(t.name, c.name)) ?? (expandAll || c.builtin)));
        if ((i & 15) === 15 && performance.now() - t0 > ms) {
          i++;
          break;
        }
      }
      list.append(frag);
    };
    slice(FIRST_CHAINS);
    const token = ++renderToken;
    const next = (): void => {
      if (token !== renderToken || disposed) return;
      slice(t.chains.length, SLICE_MS);
      if (i < t.chains.length) pending = setTimeout(next, 0);
      else pending = undefined;
    };
    flushPending = () => {
      if (token !== renderToken) return;
      clearTimeout(pending);
      pending = undefined;
      slice(t.chains.length);
    };
    if (i < t.chains.length) pending = setTimeout(next, 0);
    const more = t.chainCount - t.chains.length;
    if (more > 0 && !filter) body.append(h('p', { class: 'muted rb-more-chains', 'data-testid': 'rules-more-chains' }, `${more.toLocaleString('en-US')} more chains not listed: type a name in the filter, or follow a jump.`));
  }

  function chainSection(t: TableRow, c0: ChainRow, expanded: boolean): HTMLElement {
    const c = fetched.get(key(t.name, c0.name)) ?? c0;
    const sec = h('section', { class: `rb-chain${c.builtin ? ' builtin' : ''}`, 'data-chain': c.name, 'data-testid': `chain-${c.name}` });
    const twisty = h('span', { class: 'rb-twisty' }, expanded ? '▾' : '▸');
    const head = h('div', { class: 'rb-chain-head', role: 'button', tabindex: '0', 'aria-expanded': expanded ? 'true' : 'false' },
      twisty,
      h('span', { class: 'rb-chain-name' }, c.name),
      c.builtin
        ? h('span', { class: `rb-policy ${c.policy === 'DROP' ? 'drop' : ''}` }, `policy ${c.policy ?? 'ACCEPT'} · ${fmt(c.packets)} packets, ${fmt(c.bytes)} bytes`)
        : h('span', { class: 'rb-refs' }, `${c.references} reference${c.references === 1 ? '' : 's'}`),
      h('span', { class: 'rb-count' }, `${c.ruleCount.toLocaleString('en-US')} rule${c.ruleCount === 1 ? '' : 's'}`));
    const rules = h('div', { class: 'rb-rules' });
    sec.append(head, rules);
    const toggle = (): void => {
      const on = head.getAttribute('aria-expanded') !== 'true';
      open.set(key(t.name, c.name), on);
      head.setAttribute('aria-expanded', on ? 'true' : 'false');
      twisty.textContent = on ? '▾' : '▸';
      if (on) void fill(t, c, rules);
      else clear(rules);
    };
    head.addEventListener('click', toggle);
    head.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        toggle();
      }
    });
    if (expanded) void fill(t, c, rules);
    return sec;
  }

  /** Shows a chain's rules: those the answer carried, or (a chain cut short by the budget)
   *  the chain's own answer, 500 rows at a time. */
  async function fill(t: TableRow, c: ChainRow, box: HTMLElement): Promise<void> {
    clear(box);
    let rows = c.rules;
    if (c.partial && !filter) {
      const got = fetched.get(key(t.name, c.name));
      if (got) rows = got.rules;
      else {
        box.append(h('div', { class: 'muted rb-loading' }, 'reading…'));
        try {
          const one = await api.rules(lab, host, { table: t.name, chain: c.name, limit: 100_000, chainLimit: 1 });
          const row = one.tables.find((x) => x.name === t.name)?.chains[0];
          if (row) {
            fetched.set(key(t.name, c.name), row);
            rows = row.rules;
          }
        } catch (e) {
          clear(box);
          box.append(h('div', { class: 'error' }, errorText(e)));
          return;
        }
        clear(box);
      }
    }
    if (!rows.length) {
      box.append(h('div', { class: 'muted rb-empty' }, c.ruleCount && filter ? 'no rule matches' : 'no rules'));
      return;
    }
    let shown = 0;
    const more = h('button', { class: 'rb-show-more', 'data-testid': 'rules-show-more' });
    const step = (): void => {
      const frag = document.createDocumentFragment();
      const end = Math.min(rows.length, shown + CHUNK);
      for (let i = shown; i < end; i++) frag.append(ruleRow(t, c.name, rows[i]));
      shown = end;
      more.before(frag);
      if (shown >= rows.length) more.remove();
      else more.textContent = `Show more (${(rows.length - shown).toLocaleString('en-US')} left)`;
    };
    more.addEventListener('click', step);
    box.append(more);
    step();
    if (filter && c.partial) box.append(h('div', { class: 'muted rb-empty' }, 'more matching rules not loaded: narrow the filter'));
  }

  /** A rule's breakpoint dot (with the debugger's breakpoints): a click sets or clears it. */
  function gutter(t: string, chain: string, num: number): HTMLElement | null {
    const bps = o.breakpoints;
    if (!bps) return null;
    const dot = h('span', { class: `rb-bp${bps.has(host, t, chain, num) ? ' on' : ''}`, title: 'Toggle a debugger breakpoint on this rule', 'data-testid': 'rules-bp', 'data-table': t, 'data-chain': chain, 'data-num': String(num) });
    dot.addEventListener('click', (e) => {
      e.stopPropagation();
      bps.toggle(host, t, chain, num);
    });
    return dot;
  }
  const offBps = o.breakpoints?.watch(() => {
    for (const d of el.querySelectorAll<HTMLElement>('.rb-bp')) d.classList.toggle('on', o.breakpoints!.has(host, d.dataset.table ?? '', d.dataset.chain ?? '', Number(d.dataset.num)));
  }) ?? (() => undefined);

  function ruleRow(t: TableRow, chain: string, r: RuleRow): HTMLElement {
    const spec = h('code', { class: 'rb-spec' });
    const word = r.target === null ? '' : `${r.goto ? '-g' : '-j'} ${r.target}`;
    const mark = word ? r.spec.lastIndexOf(word) : -1;
    if (r.target === null || mark < 0) spec.append(r.spec || '(no match, no target: counts every packet)');
    else {
      const name = r.target;
      // A chain is a link to follow; a verdict stands out (ACCEPT, DROP, DNAT…).
      const target = r.targetChain
        ? h('a', {
          class: 'rb-target', href: '#', title: `${r.goto ? 'Go to' : 'Jump to'} ${name}`, 'data-target': name,
          onclick: (e: Event) => {
            e.preventDefault();
            void showChain(t.name, name);
          },
        }, name)
        : h('span', { class: `rb-verdict t-${verdictClass(name)}` }, name);
      spec.append(r.spec.slice(0, mark + 3), target, r.spec.slice(mark + word.length));
    }
    return h('div', { class: `rb-rule${r.packets ? ' hit' : ''}`, 'data-num': String(r.num) },
      h('span', { class: 'rb-num' }, gutter(t.name, chain, r.num), String(r.num)),
      h('span', { class: 'rb-pk', title: `${r.packets} packets` }, fmt(r.packets)),
      h('span', { class: 'rb-by', title: `${r.bytes} bytes` }, fmt(r.bytes)),
      spec);
  }

  function verdictClass(target: string): string {
    if (target === 'DROP' || target === 'REJECT') return 'drop';
    if (target === 'ACCEPT') return 'accept';
    if (/NAT$|^MASQUERADE$|^REDIRECT$/.test(target)) return 'nat';
    if (target === 'RETURN') return 'return';
    return 'other';
  }

  /** Scrolls to a chain of the table and highlights it: opened, asked of the service when the
   *  answer did not list it (the chain budget, or a filter that leaves it out). */
  async function showChain(table: string, name: string): Promise<void> {
    if (!view) return;
    if (tab !== table) {
      tab = table;
      render(false);
    }
    const find = (): HTMLElement | null => body.querySelector<HTMLElement>(`section.rb-chain[data-chain="${CSS.escape(name)}"]`);
    let sec = find();
    if (!sec) {
      flushPending();
      sec = find();
    }
    const t = view.tables.find((x) => x.name === table);
    if (!sec && t) {
      try {
        const one = await api.rules(lab, host, { table: t.name, chain: name, limit: 100_000, chainLimit: 1 });
        const row = one.tables.find((x) => x.name === table)?.chains[0];
        if (!row) return;
        fetched.set(key(table, name), row);
        t.chains.push({ ...row, rules: row.rules, partial: false });
        open.set(key(table, name), true);
        sec = chainSection(t, row, true);
        const list = body.querySelector('.rb-chains');
        (list ?? body).append(sec);
      } catch (e) {
        status.textContent = errorText(e);
        return;
      }
    }
    if (!sec) return;
    const head = sec.querySelector<HTMLElement>('.rb-chain-head');
    if (head && head.getAttribute('aria-expanded') !== 'true') head.click();
    for (const old of body.querySelectorAll('.rb-highlight')) old.classList.remove('rb-highlight');
    sec.classList.add('rb-highlight');
    sec.scrollIntoView({ block: 'start', behavior: 'auto' });
    head?.focus({ preventScroll: true });
  }

  // ---- compare with another host ----------------------------------------------------------------

  async function fillCompareChoices(): Promise<void> {
    const [v, history] = await Promise.all([api.view(lab).catch(() => null), api.history(lab).catch(() => [])]);
    if (!v || disposed) return;
    // This host at its earlier revisions (the lab's history, newest first), then the others.
    for (const r of history.filter((x) => !x.current).slice(-10).reverse()) {
      const what = r.command.length > 60 ? `${r.command.slice(0, 57)}…` : r.command;
      compareWith.append(h('option', { value: `rev:${r.seq}` }, `${host} at revision ${r.seq} (${what})`));
    }
    const names = [...(v.cluster?.nodes.map((n) => n.name) ?? []), ...v.hosts.map((x) => x.name), ...(v.cluster?.pods.slice(0, 500).map((p) => `${p.namespace}/${p.name}`) ?? [])];
    for (const n of names) if (n !== host && ![...compareWith.options].some((o) => o.value === n)) compareWith.append(h('option', { value: n }, n));
  }

  async function compareTo(other: string): Promise<void> {
    if (!other) {
      compared = null;
      if (tab === 'compare') tab = 'nat';
      render(false);
      return;
    }
    try {
      const rev = /^rev:(\d+)$/.exec(other);
      compared = rev ? await api.compareRules(lab, host, host, { rev: Number(rev[1]) }) : await api.compareRules(lab, host, other);
    } catch (e) {
      compared = null;
      clear(body);
      body.append(h('div', { class: 'error', 'data-testid': 'rules-error' }, errorText(e)));
      return;
    }
    if (disposed) return;
    tab = 'compare';
    render(false);
  }

  function renderCompare(): void {
    const c = compared;
    if (!c) return;
    const n = (x: number): string => x.toLocaleString('en-US');
    body.append(h('p', { class: 'rb-compare-sum', 'data-testid': 'compare-summary' },
      `${c.a} vs ${c.b}: ${n(c.onlyA)} rules only on ${c.a} (−), ${n(c.onlyB)} only on ${c.b} (+), ${n(c.same)} on both.` +
      (c.truncated ? ' (Not every differing rule is listed.)' : '')));
    for (const t of c.tables) {
      if (!t.chains.length) continue;
      body.append(h('h4', { class: 'rb-compare-table' }, `${t.name}`, h('span', { class: 'muted' }, ` · ${t.chains.length} chains differ, ${t.sameChains} alike`)));
      for (const ch of t.chains) {
        const note = !ch.inB ? `only on ${c.a}` : !ch.inA ? `only on ${c.b}` : ch.policyA !== ch.policyB ? `policy ${ch.policyA ?? '-'} vs ${ch.policyB ?? '-'}` : `${ch.same} rules alike`;
        const box = h('div', { class: 'rb-chain', 'data-testid': 'compare-chain', 'data-chain': ch.name },
          h('div', { class: 'rb-chain-head' }, h('span', { class: 'rb-chain-name' }, ch.name), h('span', { class: 'rb-refs' }, note)));
        for (const r of ch.onlyA) box.append(h('div', { class: 'rb-rule rb-only-a', 'data-testid': 'compare-only-a' }, h('span', { class: 'rb-num' }, '−'), h('span', { class: 'rb-spec' }, r)));
        for (const r of ch.onlyB) box.append(h('div', { class: 'rb-rule rb-only-b', 'data-testid': 'compare-only-b' }, h('span', { class: 'rb-num' }, '+'), h('span', { class: 'rb-spec' }, r)));
        body.append(box);
      }
    }
    if (!c.onlyA && !c.onlyB && c.tables.every((t) => !t.chains.length)) body.append(h('p', { class: 'muted' }, 'The two hosts have the same rules.'));
  }


  // ---- paths: the chain graph of one packet ----------------------------------------------------

  async function askPaths(q: PathQuery, show = true): Promise<void> {
    pathQuery = q;
    try {
      pathResult = await api.pathGraph(lab, host, q);
      pathError = '';
    } catch (e) {
      pathResult = null;
      pathError = errorText(e);
    }
    if (show && !disposed && tab === 'paths') render(false);
  }

  function renderPaths(): void {
    const q = pathQuery ?? {};
    const field = (name: keyof PathQuery, placeholder: string, width = 120): HTMLInputElement =>
      h('input', { name, placeholder, value: q[name] === undefined ? '' : String(q[name]), spellcheck: 'false', style: `width: ${width}px`, 'data-testid': `paths-${name}` });
    const select = (name: keyof PathQuery, options: [string, string][]): HTMLSelectElement => {
      const sel = h('select', { name, 'data-testid': `paths-${name}` }, ...options.map(([v, label]) => h('option', { value: v }, label))) as HTMLSelectElement;
      sel.value = q[name] === undefined ? '' : String(q[name]);
      return sel;
    };
    const form = h('form', { class: 'rb-paths-form', 'data-testid': 'paths-form' },
      select('proto', [['', 'any protocol'], ['tcp', 'tcp'], ['udp', 'udp'], ['icmp', 'icmp'], ['sctp', 'sctp']]),
      field('src', 'source address'), field('sport', 'sport', 60),
      h('span', { class: 'muted' }, '→'),
      field('dst', 'destination address'), field('dport', 'dport', 60),
      field('in', 'in interface', 90), field('out', 'out interface', 90),
      select('hook', [['', 'hooks it passes'], ...(['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'] as PathHook[]).map((x): [string, string] => [x, `from ${x}`])]),
      select('table', [['', 'table'], ...['raw', 'mangle', 'nat', 'filter', 'security'].map((x): [string, string] => [x, x])]),
      field('chain', 'or from chain', 130),
      h('button', { type: 'submit', class: 'primary', 'data-testid': 'paths-show' }, 'Show paths'));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const data = new FormData(form);
      const next: PathQuery = {};
      for (const [k, v] of data.entries()) {
        const text = String(v).trim();
        if (!text) continue;
        if (k === 'sport' || k === 'dport') (next as Record<string, unknown>)[k] = Number(text);
        else (next as Record<string, unknown>)[k] = text;
      }
      if (next.chain && !next.table) next.table = 'filter';
      if (!next.chain) delete next.table;
      void askPaths(next);
    });
    body.append(form);
    if (!pathQuery) {
      body.append(h('p', { class: 'muted', 'data-testid': 'paths-help' },
        'Describe a packet (any field may stay empty: then it may be anything) and see every chain it could pass through on ' +
        `${o.title ?? host}, by which rules, to which verdicts. Rules that cannot match it are left out; rules that depend on ` +
        'state the graph cannot know (conntrack, marks, statistic…) are drawn dashed, as “maybe”.'));
      return;
    }
    if (pathError) {
      body.append(h('div', { class: 'error', 'data-testid': 'paths-error' }, pathError));
      return;
    }
    const g = pathResult;
    if (!g) return;
    const chains = g.nodes.filter((n) => n.kind === 'chain').length;
    const maybe = g.edges.filter((e) => e.maybe.length).length;
    body.append(h('p', { class: 'rb-paths-sum', 'data-testid': 'paths-summary' },
      `${g.packet}: ${g.hooks.length ? `${g.hooks.join(' → ')}; ` : ''}${chains} chain${chains === 1 ? '' : 's'}, ${g.edges.length} edges (${maybe} maybe), ` +
      `${g.excluded.toLocaleString('en-US')} rules left out as unable to match${g.truncated ? '. Cut at 600 edges: say more of the packet.' : '.'}`));
    const box = h('div', { class: 'rb-paths-graph', 'data-testid': 'paths-graph' });
    const detail = h('div', { class: 'rb-paths-detail muted', 'data-testid': 'paths-detail' }, 'Click a chain to open it, an edge to read its rule.');
    body.append(box, detail,
      h('div', { class: 'rb-paths-legend muted' },
        h('span', { class: 'rb-legend-solid' }, '— always, once there'), h('span', { class: 'rb-legend-dashed' }, '- - maybe'),
        h('span', { class: 'rb-legend-dotted' }, '··· next table or hook'), h('span', {}, '↩ the chain may end (back to its caller)')));
    drawPaths(g, box, detail);
  }

  function drawPaths(g: PathGraph, box: HTMLElement, detail: HTMLElement): void {
    const css = getComputedStyle(el);
    const color = (name: string, fallback: string): string => css.getPropertyValue(name).trim() || fallback;
    const fg = color('--text', '#e3e7ee');
    const muted = color('--muted', '#888');
    const accent = color('--accent', '#4aa3ff');
    const panel = color('--panel', '#222');
    const danger = color('--danger', '#e5484d');
    const ok = color('--ok', '#30a46c');
    const verdictColor = (v: string): string =>
      v === 'DROP' || v === 'REJECT' ? danger : v === 'ACCEPT' ? ok : /NAT$|^MASQUERADE$|^REDIRECT$/.test(v) ? '#d4a72c' : muted;
    const short = (t: string, n: number): string => (t.length > n ? `${t.slice(0, n - 1)}…` : t);
    const label = (e: PathEdge): string => {
      if (e.kind === 'next') return e.cond;
      if (e.kind === 'policy' || e.kind === 'end') return e.cond;
      const cond = e.cond || (e.comment ? `/* ${e.comment} */` : 'always');
      return `#${e.rule} ${short(cond, 44)}`;
    };
    // Verdicts are drawn as leaves of the chain that decides them (one per chain and verdict:
    // shared ones would pull every chain's edges across the picture), and a user chain's end
    // (back to its caller) as a mark on the chain rather than an edge.
    const elements: ElementDefinition[] = [];
    const returns = new Set(g.edges.filter((e) => e.kind === 'end').map((e) => e.from));
    for (const n of g.nodes) {
      if (n.kind !== 'chain') continue;
      elements.push({
        group: 'nodes',
        data: {
          id: n.id,
          label: `${n.table}\n${n.chain}${returns.has(n.id) ? '  ↩' : ''}`,
          kind: n.kind,
          builtin: n.builtin ? 1 : 0,
          start: n.depth === 0 ? 1 : 0,
          color: n.builtin ? accent : muted,
        },
      });
    }
    const leaves = new Set<string>();
    g.edges.forEach((e, i) => {
      if (e.kind === 'end') return;
      let target = e.to;
      if (e.to.startsWith('verdict/')) {
        const verdict = e.to.slice('verdict/'.length);
        target = `leaf:${e.from}:${verdict}`;
        if (!leaves.has(target)) {
          leaves.add(target);
          elements.push({ group: 'nodes', data: { id: target, label: verdict, kind: 'verdict', verdict, color: verdictColor(verdict) } });
        }
      }
      elements.push({ group: 'edges', data: { id: `e${i}`, source: e.from, target, label: label(e), kind: e.kind, maybe: e.maybe.length ? 1 : 0, index: i } });
    });
    const cy = cytoscape({
      container: box,
      elements,
      wheelSensitivity: 0.3,
      minZoom: 0.1,
      maxZoom: 3,
      style: [
        { selector: 'node', style: { shape: 'round-rectangle', width: 'label', height: 'label', padding: '6px', label: 'data(label)', 'text-wrap': 'wrap', 'text-valign': 'center', 'text-halign': 'center', 'font-size': 13, 'font-family': 'ui-monospace, DejaVu Sans Mono, monospace', color: fg, 'background-color': panel, 'border-width': 1.5, 'border-color': 'data(color)' } },
        { selector: 'node[builtin = 1]', style: { 'border-width': 2.5, 'font-weight': 'bold' } },
        { selector: 'node[kind = "verdict"]', style: { shape: 'ellipse', 'background-color': 'data(color)', color: '#fff', 'font-weight': 'bold', 'border-width': 0, padding: '10px' } },
        { selector: 'edge', style: { width: 1.5, 'curve-style': 'bezier', 'target-arrow-shape': 'triangle', 'line-color': muted, 'target-arrow-color': muted, label: 'data(label)', 'font-size': 10, color: fg, 'text-background-color': panel, 'text-background-opacity': 0.85, 'text-background-padding': '1px', 'text-rotation': 'autorotate' } },
        { selector: 'edge[maybe = 1]', style: { 'line-style': 'dashed' } },
        { selector: 'edge[kind = "jump"], edge[kind = "goto"]', style: { 'line-color': accent, 'target-arrow-color': accent } },
        { selector: 'edge[kind = "goto"]', style: { 'target-arrow-shape': 'triangle-tee' } },
        { selector: 'edge[kind = "next"]', style: { 'line-style': 'dotted', width: 2, color: muted } },
        { selector: 'edge[kind = "policy"], edge[kind = "end"]', style: { color: muted } },
        { selector: ':selected', style: { 'border-color': color('--select', '#f5a623'), 'line-color': color('--select', '#f5a623'), 'target-arrow-color': color('--select', '#f5a623'), 'border-width': 3 } },
      ],
      layout: { name: 'dagre', rankDir: 'LR', nodeSep: 18, rankSep: 90, edgeSep: 8, animate: false } as cytoscape.LayoutOptions,
    });
    // A big graph fitted whole is too small to read: no smaller than this, its start on the left.
    if (cy.zoom() < 0.65) cy.zoom({ level: 0.65, renderedPosition: { x: 0, y: cy.height() / 2 } });
    pathCy = cy;
    (box as HTMLElement & { cy?: Core }).cy = cy;
    box.dataset.nodes = String(g.nodes.length);
    box.dataset.edges = String(g.edges.length);
    cy.on('tap', 'node', (ev) => {
      const d = ev.target.data() as { id: string; kind: string; verdict?: string };
      const node = g.nodes.find((n) => n.id === d.id);
      if (node?.kind === 'chain' && node.table && node.chain) void showChain(node.table, node.chain);
      else if (d.verdict) detail.textContent = `${d.verdict}: ${d.verdict === 'RETURN' ? 'back to the calling chain' : 'the packet’s verdict in this table'}`;
    });
    cy.on('tap', 'edge', (ev) => {
      const e = g.edges[(ev.target.data() as { index: number }).index];
      if (!e) return;
      const where = e.from.replace('/', ' ');
      const what = e.kind === 'next' ? `then ${e.to.replace('/', ' ')}${e.cond ? ` (${e.cond})` : ''}`
        : e.kind === 'policy' ? `${where}: its end, policy ${e.to.replace('verdict/', '')}`
        : e.kind === 'end' ? `${where}: its end, back to the calling chain`
        : `${where} rule ${e.rule}: ${e.cond || '(no conditions)'}${e.comment ? ` /* ${e.comment} */` : ''} ${e.kind === 'goto' ? '-g' : '-j'} ${e.target ?? e.to.replace(/^[a-z]+\//, '')}`;
      detail.textContent = `${what}${e.maybe.length ? ` — maybe: ${e.maybe.join(', ')}` : ''}`;
      detail.dataset.edge = String(e.rule ?? '');
    });
  }

  // ---- ipsets and conntrack (filtered here: the answer holds them whole, up to their caps) ----

  function renderIpsets(v: RulesView): void {
    const f = filter.toLowerCase();
    const sets = v.ipsets.filter((s) => !f || s.name.toLowerCase().includes(f) || s.members.some((m) => m.toLowerCase().includes(f)));
    if (!sets.length) {
      body.append(h('p', { class: 'muted' }, v.ipsets.length ? `No set or member contains “${filter}”.` : 'No ipsets on this host.'));
      return;
    }
    for (const s of sets) {
      const members = f && !s.name.toLowerCase().includes(f) ? s.members.filter((m) => m.toLowerCase().includes(f)) : s.members;
      body.append(h('section', { class: 'rb-set', 'data-set': s.name, 'data-testid': `ipset-${s.name}` },
        h('div', { class: 'rb-chain-head' },
          h('span', { class: 'rb-chain-name' }, s.name), h('span', { class: 'rb-refs' }, s.type),
          h('span', { class: 'rb-refs' }, `${s.references} reference${s.references === 1 ? '' : 's'}`),
          h('span', { class: 'rb-count' }, `${s.elements.toLocaleString('en-US')} entr${s.elements === 1 ? 'y' : 'ies'}`)),
        h('div', { class: 'rb-set-header muted' }, `Header: ${s.header}`),
        h('pre', { class: 'rb-members' }, members.length ? members.join('\n') : '(no members)'),
        s.members.length < s.elements ? h('div', { class: 'muted rb-empty' }, `first ${s.members.length.toLocaleString('en-US')} of ${s.elements.toLocaleString('en-US')} shown`) : null));
    }
  }

  function renderConntrack(v: RulesView): void {
    const f = filter.toLowerCase();
    const lines = f ? v.conntrack.filter((l) => l.toLowerCase().includes(f)) : v.conntrack;
    body.append(h('p', { class: 'muted' }, `conntrack -L: ${v.conntrackCount.toLocaleString('en-US')} flow entr${v.conntrackCount === 1 ? 'y' : 'ies'}` +
      (v.conntrack.length < v.conntrackCount ? ` (first ${v.conntrack.length.toLocaleString('en-US')} shown)` : '') + (f ? `, ${lines.length} containing “${filter}”` : '')));
    body.append(h('pre', { class: 'rb-conntrack', 'data-testid': 'rules-conntrack' }, lines.join('\n')));
  }

  // ---- life ---------------------------------------------------------------------------------

  let refreshTimer: ReturnType<typeof setTimeout> | undefined;
  const offChanged = api.onLabChanged((e) => {
    if (e.lab !== lab) return;
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => void load(), 150);
  });
  const onHash = (): void => close();
  window.addEventListener('hashchange', onHash);

  function close(): void {
    if (disposed) return;
    disposed = true;
    clearTimeout(filterTimer);
    clearTimeout(refreshTimer);
    clearTimeout(pending);
    offChanged();
    offBps();
    pathCy?.destroy();
    pathCy = null;
    window.removeEventListener('hashchange', onHash);
    el.remove();
    if (current === handle) current = null;
    resolveReady();
  }

  const handle: RulesBrowser = { el, close, ready };
  current = handle;
  void load();
  filterBox.focus();
  return handle;
}
