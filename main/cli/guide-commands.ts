// The `kpl` commands for examples and exercises: examples, example, check. `kpl check` is for
// teams that keep labs in a repository: it prints one line per check and exits 1 when any
// fails, so a CI job can hold a lab to its exercises (and, with --walkthrough, its walkthrough).

import type { CheckResult, LabService } from '../service/lab-service.ts';
import { int, need, parseOpts, UsageError, type Out } from './options.ts';
import { table } from './store-commands.ts';

export const GUIDE_USAGE = `
Examples and exercises:
  kpl examples [--json]                          the built-in labs, one per scene of the article
  kpl example NAME LAB [--proxy legacy|current]  create LAB from an example (built now from its manifests)
  kpl check LAB [--exercise N] [--walkthrough] [--json]
                                                 check the lab's exercises (and rehearse its walkthrough
                                                 on a copy); one line per check, exit 1 if any fails
`;

const mark = (r: CheckResult) => (r.pass ? 'PASS' : 'FAIL');

/** Runs a guide command; undefined when `cmd` is not one. */
export function runGuideCommand(cmd: string, rest: string[], svc: LabService, out: Out): number | undefined {
  switch (cmd) {
    case 'examples': {
      const { pos, opt } = parseOpts(rest, [], ['json']);
      need(pos, 0, 'kpl examples [--json]');
      const list = svc.examples();
      if (opt.has('json')) {
        out.stdout(JSON.stringify(list, null, 2) + '\n');
        return 0;
      }
      out.stdout(table([['NAME', 'LAYOUTS', 'STEPS', 'EXERCISES', 'TITLE'], ...list.map((e) => [e.name, e.layouts.join(',') || '-', String(e.steps), String(e.exercises), e.title])]));
      return 0;
    }
    case 'example': {
      const { pos, opt } = parseOpts(rest, ['proxy'], []);
      need(pos, 2, 'kpl example NAME LAB [--proxy legacy|current]');
      const proxy = opt.get('proxy');
      if (proxy !== undefined && proxy !== 'legacy' && proxy !== 'current') throw new UsageError(`--proxy: expected legacy or current, got "${proxy}"`);
      svc.createExample(pos[0], pos[1], proxy ? { proxy } : {});
      return 0;
    }
    case 'check': {
      const { pos, opt } = parseOpts(rest, ['exercise'], ['walkthrough', 'json']);
      need(pos, 1, 'kpl check LAB [--exercise N] [--walkthrough] [--json]');
      const only = int(opt.get('exercise'), '--exercise', 1, 1_000_000);
      const doc = svc.doc(pos[0]);
      const walk = opt.has('walkthrough');
      if (!doc.exercises?.length && !(walk && doc.walkthrough?.steps.length)) {
        out.stderr(`kpl: ${pos[0]}: the lab has no exercises${walk ? ' and no walkthrough' : ''} to check\n`);
        return 1;
      }
      const exercises = doc.exercises?.length ? svc.checkExercises(pos[0], only === undefined ? undefined : only - 1) : [];
      const steps = walk ? svc.rehearseWalkthrough(pos[0]) : [];
      const all = [...exercises.flatMap((e) => e.checks), ...steps];
      const passed = all.filter((c) => c.pass).length;
      const failed = all.length - passed;
      if (opt.has('json')) {
        out.stdout(JSON.stringify({ lab: pos[0], exercises, ...(walk ? { walkthrough: steps } : {}), passed, failed }, null, 2) + '\n');
      } else {
        for (const e of exercises) {
          out.stdout(`exercise ${e.index + 1}: ${e.title}: ${e.pass ? 'solved' : 'not solved'}\n`);
          for (const c of e.checks) out.stdout(`  ${mark(c)}  ${c.name}: ${c.detail}\n`);
        }
        if (walk) {
          out.stdout(`walkthrough: ${doc.walkthrough?.title ?? '(none)'}\n`);
          for (const c of steps) out.stdout(`  ${mark(c)}  ${c.name}: ${c.detail}\n`);
        }
        out.stdout(`${passed} passed, ${failed} failed\n`);
      }
      return failed ? 1 : 0;
    }
    default:
      return undefined;
  }
}
