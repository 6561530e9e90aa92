// Rules on exercises (steps held back for the learner): the solution names nodes of the lab, and the step has checks
// to grade the learner's work by.
import type { Dropped } from './dropped.js';
import type { RuleProblem } from './rules.js';
import type { Lab } from './types.js';

/** Problems of every step's `exercise`. */
export function exerciseProblems(lab: Lab, dropped: Dropped): RuleProblem[] {
  const out: RuleProblem[] = [];
  const nodes = new Set(lab.nodes.map((n) => n.name));
  lab.stages.forEach((stage) => {
    const ex = stage.exercise;
    if (!ex) return;
    for (const s of ex.solution) {
      if (!nodes.has(s.node) && !dropped.node(s.node)) {
        out.push({ at: s.at, key: true, message: `unknown node "${s.node}"`, hint: `nodes in this lab: ${[...nodes].join(', ')}` });
      }
    }
    if (!stage.checks.length) {
      const step = ex.at.slice(0, -1);
      out.push({
        at: ex.at,
        key: true,
        absent: [...step, 'checks'],
        message: `step "${stage.name}" is an exercise but has no checks`,
        hint: '`netlab check` grades the learner by the step\'s checks: give it at least one that fails before the work and holds after',
      });
    }
  });
  return out;
}
