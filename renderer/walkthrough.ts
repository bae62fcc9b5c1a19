// The guide panel beside the canvas: the lab's walkthrough (steps with an action button and a
// status the service checks) and its exercises (goal, checks, hints one at a time, the solution),
// in English or Korean. It also authors them: Record turns each console line into a command step
// and each trace started into a trace step; Edit makes titles and texts editable, steps movable
// and removable, exercises addable (with the stepper's trace as a check); Save stores them in the
// lab (setWalkthrough, setExercises), so they travel in its .kpl file. Text only, never HTML.

import type {
  CheckVerdict, ConsoleResult, Exercise, ExerciseVerdict, Expectation, LabApi, Walkthrough, WalkthroughStep,
} from '../shared/api/contract.ts';
import { stepAction } from '../shared/guide.ts';
import type { ConsolePanel } from './console.ts';
import type { Stepper } from './debugger.ts';
import { actionLine, OUTCOMES, recordedCommandStep, recordedTraceStep, type StartedTrace } from './guide-steps.ts';

export { actionLine, recordedCommandStep, recordedTraceStep };
import { busy, clear, errorText, h, toast } from './ui.ts';

export interface GuideDeps {
  api: LabApi;
  lab: string;
  /** Open the panel at once (a lab opened from the examples), or when the lab has a guide. */
  open?: boolean;
  consoles: ConsolePanel;
  stepper: Stepper;
  /** Selects and highlights a host, node, pod or Service on the canvas; false when it is not there. */
  show(target: string): boolean;
  /** The panel opened or closed: the canvas's size changed (`first`: the lab's first opening). */
  resized?(first: boolean): void;
}

export interface GuidePanel {
  el: HTMLElement;
  open(tab?: 'walkthrough' | 'exercises'): void;
  close(): void;
  toggle(): void;
  /** A console command ran (typed by the user): recorded, or the current step checked again. */
  onConsoleLine(host: string, line: string, result: ConsoleResult): void;
  /** A trace was started from the stepper's form: recorded, or the current step checked again. */
  onTrace(t: StartedTrace): void;
  dispose(): void;
}

type Lang = 'en' | 'ko';
type StepState = { state: 'done' | 'failed' | 'running'; detail: string };


const WORDS = {
  walkthrough: { en: 'Walkthrough', ko: '따라하기' },
  exercises: { en: 'Exercises', ko: '연습 문제' },
  command: { en: 'Run in console', ko: '콘솔에서 실행' },
  trace: { en: 'Start trace', ko: '트레이스 시작' },
  apply: { en: 'Apply', ko: '적용' },
  show: { en: 'Show', ko: '보기' },
  check: { en: 'Check', ko: '확인' },
  hint: { en: 'Hint', ko: '힌트' },
  reveal: { en: 'Reveal solution', ko: '정답 보기' },
  applySolution: { en: 'Apply solution', ko: '정답 적용' },
  passed: { en: 'Solved', ko: '해결' },
  failed: { en: 'Not yet', ko: '아직' },
  done: { en: 'done', ko: '완료' },
  noWalk: { en: 'This lab has no walkthrough. Turn on Record and run console lines or traces to make one.', ko: '이 랩에는 따라하기가 없습니다. 기록을 켜고 콘솔 명령이나 트레이스를 실행해 만들어 보세요.' },
  noEx: { en: 'This lab has no exercises. Edit adds one.', ko: '이 랩에는 연습 문제가 없습니다. 편집에서 추가하세요.' },
} satisfies Record<string, Record<Lang, string>>;

function savedLang(): Lang {
  try {
    return localStorage.getItem('kpl-guide-lang') === 'ko' ? 'ko' : 'en';
  } catch {
    return 'en';
  }
}

/** A console's host name for the prompt: a pod (namespace/name, or pod/namespace/name) by its name. */
const hostName = (host: string): string => host.split('/').pop() ?? host;
/** The console API names a pod as namespace/name. */
const consoleHost = (host: string): string => host.replace(/^pod\//, '');

export function createGuide(deps: GuideDeps): GuidePanel {
  const { api, lab } = deps;
  let lang: Lang = savedLang();
  let tab: 'walkthrough' | 'exercises' = 'walkthrough';
  let walk: Walkthrough | null = null;
  let exercises: Exercise[] = [];
  // Authoring: the drafts being edited (saved with Save).
  let editing = false;
  let recording = false;
  let draft: Walkthrough = { title: lab, steps: [] };
  let exDraft: Exercise[] = [];
  let dirty = false;
  let exDirty = false;
  // The learner's progress.
  let states: StepState[] = [];
  let current = 0;
  let acting = false;
  const exResults = new Map<number, ExerciseVerdict | { error: string }>();
  const hintsShown = new Map<number, number>();
  const revealed = new Set<number>();
  let disposed = false;
  let first = true;
  /** After a step is done, the next one is scrolled into view. */
  let revealCurrent = false;

  const w = (k: keyof typeof WORDS): string => WORDS[k][lang];

  const tabWalk = h('button', { 'data-testid': 'guide-tab-walkthrough', onclick: () => setTab('walkthrough') });
  const tabEx = h('button', { 'data-testid': 'guide-tab-exercises', onclick: () => setTab('exercises') });
  const langEn = h('span', { class: 'lang-en' }, 'EN');
  const langKo = h('span', { class: 'lang-ko' }, 'KO');
  const langBtn = h('button', { class: 'guide-lang', 'data-testid': 'guide-lang', title: 'Language: English / 한국어', onclick: () => setLang(lang === 'en' ? 'ko' : 'en') }, langEn, langKo);
  const recordBtn = h('button', { 'data-testid': 'guide-record', title: 'Record: each console line you run becomes a command step, each trace you start a trace step', onclick: () => setRecording(!recording) }, '● Record');
  const editBtn = h('button', { 'data-testid': 'guide-edit', title: 'Edit the steps and exercises', onclick: () => setEditing(!editing) }, '✎ Edit');
  const saveBtn = h('button', { class: 'primary', 'data-testid': 'guide-save', title: 'Store the walkthrough and exercises in the lab', onclick: () => void save() }, 'Save');
  const closeBtn = h('button', { title: 'Close the guide', 'aria-label': 'Close', onclick: () => close() }, '×');
  const body = h('div', { class: 'guide-body', 'data-testid': 'guide-body' });
  const el = h('aside', { class: 'guide', 'data-testid': 'guide', 'aria-label': 'Walkthrough and exercises' },
    h('div', { class: 'guide-head' }, h('div', { class: 'guide-tabs', role: 'tablist' }, tabWalk, tabEx), h('span', { class: 'spacer' }), langBtn, closeBtn),
    h('div', { class: 'guide-tools' }, recordBtn, editBtn, h('span', { class: 'spacer' }), saveBtn),
    body);
  el.hidden = true;
  el.addEventListener('keydown', (e) => {
    // Typing in the panel's fields must not reach the canvas's shortcuts.
    const t = e.target as HTMLElement | null;
    if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA')) e.stopPropagation();
  });

  function setTab(t: 'walkthrough' | 'exercises'): void {
    tab = t;
    render();
  }

  function setLang(l: Lang): void {
    lang = l;
    try {
      localStorage.setItem('kpl-guide-lang', l);
    } catch {
      // the choice holds for this page only
    }
    render();
  }

  function setEditing(on: boolean): void {
    if (on && !editing) {
      if (!dirty) draft = structuredClone(walk ?? { title: lab, steps: [] });
      if (!exDirty) exDraft = structuredClone(exercises);
    }
    editing = on;
    if (!on && recording) recording = false;
    render();
  }

  function setRecording(on: boolean): void {
    if (on) setEditing(true);
    recording = on;
    if (on) {
      tab = 'walkthrough';
      toast('Recording: console lines and traces become steps. Save stores them in the lab.');
    }
    render();
  }

  // ---- the lab's guide ---------------------------------------------------------------------------

  async function reload(): Promise<void> {
    let doc: { walkthrough?: Walkthrough; exercises?: Exercise[] };
    try {
      doc = (await api.doc(lab)) as typeof doc;
    } catch {
      return;
    }
    if (disposed) return;
    const before = JSON.stringify(walk);
    walk = doc.walkthrough ?? null;
    exercises = doc.exercises ?? [];
    if (JSON.stringify(walk) !== before) {
      states = [];
      current = 0;
    }
    if (!dirty) draft = structuredClone(walk ?? { title: lab, steps: [] });
    if (!exDirty) exDraft = structuredClone(exercises);
    if (first) {
      first = false;
      if (deps.open || walk?.steps.length || exercises.length) {
        open(walk?.steps.length || !exercises.length ? 'walkthrough' : 'exercises');
        deps.resized?.(true);
      }
    }
    render();
  }

  async function save(): Promise<void> {
    const ok = await busy(async () => {
      if (dirty) {
        const clean = { ...draft, steps: draft.steps.map((s) => ({ ...s, title: s.title.trim() || '(untitled step)' })) };
        await api.setWalkthrough(lab, clean.steps.length || clean.title !== lab ? clean : null);
      }
      if (exDirty) await api.setExercises(lab, exDraft);
      return true;
    });
    if (!ok) return;
    dirty = false;
    exDirty = false;
    toast('Saved in the lab');
    saveBtn.dataset.saved = String(Number(saveBtn.dataset.saved ?? '0') + 1);
    await reload();
  }

  // ---- the walkthrough: actions and checks -------------------------------------------------------

  function shownWalk(): Walkthrough | null {
    return editing ? draft : walk;
  }

  async function check(i: number, quiet = false): Promise<void> {
    if (!walk || i >= walk.steps.length) return;
    let r: CheckVerdict;
    try {
      r = await api.checkStep(lab, i);
    } catch (e) {
      if (!quiet) states[i] = { state: 'failed', detail: errorText(e) };
      render();
      return;
    }
    if (r.pass) {
      states[i] = { state: 'done', detail: r.detail === 'nothing to check' ? '' : r.detail };
      if (i === current) {
        let n = i + 1;
        while (n < walk.steps.length && states[n]?.state === 'done') n++;
        current = Math.min(n, walk.steps.length - 1);
        revealCurrent = current !== i;
      }
    } else if (!quiet) {
      states[i] = { state: 'failed', detail: r.detail };
    }
    render();
  }

  async function act(i: number): Promise<void> {
    const step = walk?.steps[i];
    if (!step) return;
    current = i;
    const a = stepAction(step);
    acting = true;
    states[i] = { state: 'running', detail: '' };
    render();
    let detail = '';
    try {
      switch (a?.kind) {
        case 'command':
          if (a.host.startsWith('@')) {
            const r = await api.runStep(lab, i);
            detail = `${r.output?.stdout ?? ''}${r.output?.stderr ?? ''}`.trim();
          } else {
            await deps.consoles.run(consoleHost(a.host), hostName(a.host), a.command);
          }
          break;
        case 'trace':
          await deps.stepper.trace({ from: a.from, to: a.to, proto: a.proto ?? 'tcp', ...(a.seed !== undefined ? { seed: a.seed } : {}) }, a.stepTo);
          break;
        case 'apply': {
          const r = await api.runStep(lab, i);
          detail = `${r.output?.stdout ?? ''}${r.output?.stderr ?? ''}`.trim();
          break;
        }
        case 'show':
          if (!deps.show(a.target)) detail = `${a.target} is not on the canvas`;
          break;
        default:
          break;
      }
    } catch (e) {
      states[i] = { state: 'failed', detail: errorText(e) };
      acting = false;
      render();
      return;
    } finally {
      acting = false;
    }
    states[i] = { state: 'running', detail };
    await check(i);
    if (detail && states[i]?.state === 'done') states[i] = { state: 'done', detail };
    render();
  }

  // ---- exercises -----------------------------------------------------------------------------------

  async function checkExercise(i: number): Promise<void> {
    try {
      const [r] = await api.checkExercises(lab, i);
      if (r) exResults.set(i, r);
    } catch (e) {
      exResults.set(i, { error: errorText(e) });
    }
    render();
  }

  async function applySolution(i: number): Promise<void> {
    const r = await busy(() => api.applySolution(lab, i));
    if (!r) return;
    toast(`Applied the solution of "${exercises[i]?.title ?? ''}"`);
    await checkExercise(i);
  }

  // ---- recording -----------------------------------------------------------------------------------

  function addStep(s: WalkthroughStep): void {
    draft.steps.push(s);
    dirty = true;
    render();
    body.querySelector('.guide-step:last-child')?.scrollIntoView({ block: 'nearest' });
  }

  function onConsoleLine(host: string, line: string, r: ConsoleResult): void {
    if (acting || (el.hidden && !recording)) return;
    if (recording) {
      if (/^\s*(clear|history)\s*$/.test(line)) return;
      addStep(recordedCommandStep(host, line, r));
      return;
    }
    if (walk && !editing && states[current]?.state !== 'done') void check(current, true);
  }

  function onTrace(t: StartedTrace): void {
    if (acting) return;
    if (recording) {
      addStep(recordedTraceStep(t));
      return;
    }
    if (walk && !editing && !el.hidden && states[current]?.state !== 'done') void check(current, true);
  }

  // ---- rendering -----------------------------------------------------------------------------------

  const txt = (s: string | undefined, ko: string | undefined): string => (lang === 'ko' && ko ? ko : (s ?? ''));

  function field(label: string, value: string, set: (v: string) => void, opts: { multi?: boolean; testid?: string } = {}): HTMLElement {
    const input = opts.multi
      ? h('textarea', { rows: 3, value, spellcheck: 'false', 'data-testid': opts.testid })
      : h('input', { value, spellcheck: 'false', 'data-testid': opts.testid });
    input.addEventListener('input', () => set(input.value));
    return h('label', { class: 'gf' }, h('span', {}, label), input);
  }

  function renderStepEdit(s: WalkthroughStep, i: number, steps: WalkthroughStep[]): HTMLElement {
    const touch = (): void => {
      dirty = true;
      saveBtn.classList.add('dirty');
    };
    const move = (d: number): void => {
      const j = i + d;
      if (j < 0 || j >= steps.length) return;
      [steps[i], steps[j]] = [steps[j], steps[i]];
      dirty = true;
      states = [];
      render();
    };
    const a = stepAction(s);
    return h('li', { class: 'guide-step editing', 'data-testid': 'guide-step', 'data-index': String(i) },
      h('div', { class: 'gs-head' },
        h('span', { class: 'gs-num' }, `${i + 1}.`),
        h('span', { class: 'gs-what-kind' }, a ? a.kind : 'text'),
        h('span', { class: 'spacer' }),
        h('button', { title: 'Move up', 'data-testid': 'step-up', disabled: i === 0, onclick: () => move(-1) }, '↑'),
        h('button', { title: 'Move down', 'data-testid': 'step-down', disabled: i === steps.length - 1, onclick: () => move(1) }, '↓'),
        h('button', { class: 'danger', title: 'Remove the step', 'data-testid': 'step-remove', onclick: () => {
          steps.splice(i, 1);
          dirty = true;
          states = [];
          render();
        } }, '✕')),
      field('Title', s.title, (v) => {
        s.title = v;
        touch();
      }, { testid: 'step-edit-title' }),
      field('Text', s.text, (v) => {
        s.text = v;
        touch();
      }, { multi: true, testid: 'step-edit-text' }),
      field('Korean title (한국어)', s.ko?.title ?? '', (v) => {
        s.ko = { ...s.ko, title: v };
        if (!v) delete s.ko.title;
        if (!s.ko.title && !s.ko.text) delete s.ko;
        touch();
      }, { testid: 'step-edit-ko-title' }),
      field('Korean text (한국어)', s.ko?.text ?? '', (v) => {
        s.ko = { ...s.ko, text: v };
        if (!v) delete s.ko.text;
        if (!s.ko.title && !s.ko.text) delete s.ko;
        touch();
      }, { multi: true, testid: 'step-edit-ko-text' }),
      a ? h('code', { class: 'gs-what' }, actionLine(a)) : null,
      s.expect ? h('div', { class: 'gs-expect muted' }, `expects: ${expectLine(s.expect)}`) : null);
  }

  function renderStep(s: WalkthroughStep, i: number): HTMLElement {
    const a = stepAction(s);
    const st = states[i];
    const status = h('span', { class: 'gs-status', 'data-testid': 'step-status', 'data-state': st?.state ?? 'todo', title: st?.state ?? '' },
      st?.state === 'done' ? '✓' : st?.state === 'failed' ? '✗' : st?.state === 'running' ? '…' : '');
    const actBtn = a ? h('button', { class: i === current ? 'primary' : '', 'data-testid': 'step-action', disabled: acting, onclick: () => void act(i) }, w(a.kind)) : null;
    const checkBtn = h('button', { 'data-testid': 'step-check', disabled: acting, title: 'Check whether the lab shows what this step expects', onclick: () => {
      current = i;
      void check(i);
    } }, w('check'));
    const li = h('li', { class: `guide-step${i === current ? ' current' : ''}`, 'data-testid': 'guide-step', 'data-index': String(i), 'data-state': st?.state ?? 'todo' },
      h('div', { class: 'gs-head' }, h('span', { class: 'gs-num' }, `${i + 1}.`), h('span', { class: 'gs-title', 'data-testid': 'step-title' }, txt(s.title, s.ko?.title)), status),
      s.text || s.ko?.text ? h('p', { class: 'gs-text' }, txt(s.text, s.ko?.text)) : null,
      a ? h('code', { class: 'gs-what' }, actionLine(a)) : null,
      h('div', { class: 'gs-buttons' }, actBtn, checkBtn),
      st?.detail ? h('pre', { class: `gs-detail${st.state === 'failed' ? ' bad' : ''}`, 'data-testid': 'step-detail' }, st.detail) : null);
    li.addEventListener('click', (e) => {
      if ((e.target as HTMLElement).closest('button')) return;
      current = i;
      render();
    });
    return li;
  }

  function renderWalkthrough(): void {
    const wk = shownWalk();
    if (editing) {
      body.append(h('div', { class: 'guide-edit-head' }, field('Walkthrough title', draft.title, (v) => {
        draft.title = v;
        dirty = true;
      }, { testid: 'walk-edit-title' }), field('Korean title (한국어)', draft.ko?.title ?? '', (v) => {
        draft.ko = v ? { title: v } : undefined;
        if (!v) delete draft.ko;
        dirty = true;
      })));
      if (recording) body.append(h('div', { class: 'guide-recording', 'data-testid': 'guide-recording' }, '● Recording: run console lines or start traces; each becomes a step.'));
      if (!draft.steps.length) body.append(h('div', { class: 'empty' }, recording ? 'No steps yet.' : 'No steps. Turn on Record and use the consoles or the stepper.'));
      else body.append(h('ol', { class: 'guide-steps' }, ...draft.steps.map((s, i) => renderStepEdit(s, i, draft.steps))));
      return;
    }
    if (!wk || !wk.steps.length) {
      body.append(h('div', { class: 'empty' }, w('noWalk')));
      return;
    }
    const done = wk.steps.filter((_, i) => states[i]?.state === 'done').length;
    body.append(
      h('h2', { class: 'guide-title', 'data-testid': 'guide-title' }, txt(wk.title, wk.ko?.title)),
      h('div', { class: 'guide-progress', 'data-testid': 'guide-progress', 'data-done': String(done), 'data-total': String(wk.steps.length) },
        h('span', { class: 'bar' }, h('span', { class: 'fill', style: `width: ${Math.round((100 * done) / wk.steps.length)}%` })),
        `${done} / ${wk.steps.length} ${w('done')}`),
      h('ol', { class: 'guide-steps' }, ...wk.steps.map(renderStep)));
  }

  function renderExercise(ex: Exercise, i: number): HTMLElement {
    const res = exResults.get(i);
    const shown = hintsShown.get(i) ?? 0;
    const hints = ex.hints ?? [];
    const box = h('div', { class: 'guide-ex', 'data-testid': 'exercise', 'data-index': String(i) },
      h('h3', {}, txt(ex.title, ex.ko?.title)),
      h('p', { class: 'gs-text' }, txt(ex.goal, ex.ko?.goal)));
    const buttons = h('div', { class: 'gs-buttons' },
      h('button', { class: 'primary', 'data-testid': 'exercise-check', onclick: () => void checkExercise(i) }, w('check')),
      hints.length ? h('button', { 'data-testid': 'exercise-hint', disabled: shown >= hints.length, onclick: () => {
        hintsShown.set(i, shown + 1);
        render();
      } }, `${w('hint')} (${shown}/${hints.length})`) : null,
      ex.solution !== undefined || ex.solutionActions?.length ? h('button', { 'data-testid': 'exercise-reveal', disabled: revealed.has(i), onclick: () => {
        revealed.add(i);
        render();
      } }, w('reveal')) : null);
    box.append(buttons);
    if (res && 'error' in res) box.append(h('div', { class: 'ex-result bad', 'data-testid': 'exercise-result', 'data-state': 'error' }, res.error));
    else if (res) {
      box.append(h('div', { class: `ex-result ${res.pass ? 'good' : 'bad'}`, 'data-testid': 'exercise-result', 'data-state': res.pass ? 'passed' : 'failed' },
        h('strong', {}, res.pass ? `✓ ${w('passed')}` : `✗ ${w('failed')}`),
        h('ul', {}, ...res.checks.map((c) => h('li', { class: c.pass ? 'good' : 'bad', 'data-testid': 'exercise-check-row', 'data-pass': String(c.pass) },
          `${c.pass ? '✓' : '✗'} ${c.name}`, c.detail ? h('div', { class: 'muted' }, c.detail) : null)))));
    }
    if (shown) box.append(h('ol', { class: 'ex-hints', 'data-testid': 'exercise-hints' }, ...hints.slice(0, shown).map((x) => h('li', {}, x))));
    if (revealed.has(i)) {
      box.append(h('div', { class: 'ex-solution', 'data-testid': 'exercise-solution' },
        ex.solution ? h('pre', {}, ex.solution) : null,
        ex.solutionActions?.length ? h('div', { class: 'muted' }, ex.solutionActions.map(actionLine).join('\n')) : null,
        ex.solutionActions?.length ? h('button', { 'data-testid': 'exercise-apply', onclick: () => void applySolution(i) }, w('applySolution')) : null));
    }
    return box;
  }

  function renderExerciseEdit(ex: Exercise, i: number): HTMLElement {
    const touch = (): void => {
      exDirty = true;
    };
    const addTrace = (): void => {
      const t = deps.stepper.current();
      if (!t) {
        toast('Start a trace in the stepper first (the Trace button, or a walkthrough step).', 'error');
        return;
      }
      const outcome = t.outcome && OUTCOMES.has(t.outcome) ? (t.outcome as 'delivered') : undefined;
      ex.checks.push({ name: `${t.spec.from} → ${t.spec.to} ${outcome ?? ''}`.trim(), expect: { kind: 'trace', from: t.spec.from, to: t.spec.to, proto: t.spec.proto, ...(outcome ? { outcome } : {}) } });
      exDirty = true;
      render();
    };
    return h('div', { class: 'guide-ex editing', 'data-testid': 'exercise', 'data-index': String(i) },
      h('div', { class: 'gs-head' }, h('span', { class: 'gs-num' }, `${i + 1}.`), h('span', { class: 'spacer' }),
        h('button', { class: 'danger', title: 'Remove the exercise', 'data-testid': 'exercise-remove', onclick: () => {
          exDraft.splice(i, 1);
          exDirty = true;
          exResults.clear();
          render();
        } }, '✕')),
      field('Title', ex.title, (v) => {
        ex.title = v;
        touch();
      }),
      field('Goal', ex.goal, (v) => {
        ex.goal = v;
        touch();
      }, { multi: true }),
      field('Hints (one a line)', (ex.hints ?? []).join('\n'), (v) => {
        const hs = v.split('\n').map((x) => x.trim()).filter(Boolean);
        if (hs.length) ex.hints = hs;
        else delete ex.hints;
        touch();
      }, { multi: true }),
      field('Solution', ex.solution ?? '', (v) => {
        if (v) ex.solution = v;
        else delete ex.solution;
        touch();
      }, { multi: true }),
      h('div', { class: 'ex-checks' }, h('strong', {}, `Checks (${ex.checks.length})`),
        h('ul', {}, ...ex.checks.map((c, k) => h('li', { 'data-testid': 'exercise-edit-check' }, `${c.name}  `, h('button', { class: 'danger', title: 'Remove the check', onclick: () => {
          ex.checks.splice(k, 1);
          exDirty = true;
          render();
        } }, '✕'))))),
      h('button', { 'data-testid': 'exercise-add-trace', title: "The stepper's current trace (from, to, protocol and its outcome) as a check", onclick: addTrace }, '+ Check: the stepper’s trace'));
  }

  function renderExercises(): void {
    if (editing) {
      body.append(...exDraft.map(renderExerciseEdit));
      const title = h('input', { placeholder: 'Title', 'data-testid': 'exercise-new-title', spellcheck: 'false' });
      const goal = h('textarea', { placeholder: 'Goal: what the lab should do', rows: 2, 'data-testid': 'exercise-new-goal' });
      const hints = h('textarea', { placeholder: 'Hints, one a line', rows: 2, 'data-testid': 'exercise-new-hints' });
      const solution = h('textarea', { placeholder: 'Solution', rows: 2, 'data-testid': 'exercise-new-solution' });
      body.append(h('div', { class: 'guide-ex new' }, h('h3', {}, 'New exercise'), title, goal, hints, solution,
        h('button', { 'data-testid': 'exercise-add', onclick: () => {
          if (!title.value.trim()) {
            toast('An exercise needs a title', 'error');
            return;
          }
          const hs = hints.value.split('\n').map((x) => x.trim()).filter(Boolean);
          exDraft.push({ title: title.value.trim(), goal: goal.value.trim(), checks: [], ...(hs.length ? { hints: hs } : {}), ...(solution.value.trim() ? { solution: solution.value.trim() } : {}) });
          exDirty = true;
          render();
        } }, '+ Add exercise')));
      return;
    }
    if (!exercises.length) {
      body.append(h('div', { class: 'empty' }, w('noEx')));
      return;
    }
    body.append(...exercises.map(renderExercise));
  }

  function render(): void {
    if (disposed) return;
    const scroll = body.scrollTop;
    clear(body);
    tabWalk.textContent = `${w('walkthrough')}${walk ? ` (${walk.steps.length})` : ''}`;
    tabEx.textContent = `${w('exercises')}${exercises.length ? ` (${exercises.length})` : ''}`;
    tabWalk.classList.toggle('on', tab === 'walkthrough');
    tabEx.classList.toggle('on', tab === 'exercises');
    tabWalk.setAttribute('aria-selected', String(tab === 'walkthrough'));
    tabEx.setAttribute('aria-selected', String(tab === 'exercises'));
    langEn.classList.toggle('on', lang === 'en');
    langKo.classList.toggle('on', lang === 'ko');
    langBtn.dataset.lang = lang;
    recordBtn.classList.toggle('recording', recording);
    recordBtn.setAttribute('aria-pressed', String(recording));
    editBtn.classList.toggle('on', editing);
    editBtn.setAttribute('aria-pressed', String(editing));
    saveBtn.hidden = !(editing || dirty || exDirty);
    saveBtn.classList.toggle('dirty', dirty || exDirty);
    el.dataset.editing = String(editing);
    if (tab === 'walkthrough') renderWalkthrough();
    else renderExercises();
    body.scrollTop = scroll;
    if (revealCurrent && tab === 'walkthrough' && !editing) {
      revealCurrent = false;
      body.querySelector('.guide-step.current')?.scrollIntoView({ block: 'nearest' });
    }
  }

  function open(t?: 'walkthrough' | 'exercises'): void {
    if (t) tab = t;
    const was = el.hidden;
    el.hidden = false;
    render();
    if (was) deps.resized?.(false);
    if (stale) {
      stale = false;
      void reload();
    }
  }

  function close(): void {
    el.hidden = true;
    deps.resized?.(false);
  }

  // Changes reload the guide while the panel shows (or Record is on); a hidden one reloads when opened.
  let stale = false;
  const off = api.onLabChanged((e) => {
    if (e.lab !== lab) return;
    if (el.hidden && !recording) stale = true;
    else void reload();
  });
  void reload();

  return {
    el,
    open,
    close,
    toggle: () => (el.hidden ? open() : close()),
    onConsoleLine,
    onTrace,
    dispose: () => {
      disposed = true;
      off();
    },
  };
}

/** An expectation in one line (for the author). */
function expectLine(e: Expectation): string {
  switch (e.kind) {
    case 'output':
      return [e.contains?.length ? `output contains ${e.contains.map((x) => JSON.stringify(x)).join(', ')}` : '', e.lines?.length ? `lines ${e.lines.length}` : '', e.absent?.length ? `no ${e.absent.join(', ')}` : '', e.code !== undefined ? `exit ${e.code}` : ''].filter(Boolean).join('; ') || 'output';
    case 'trace':
      return `trace ${e.outcome ?? ''}${e.deliveredTo ? ` to ${e.deliveredTo}` : ''}`.trim();
    case 'reach':
      return `${e.cells.length} connectivity cells`;
  }
}
