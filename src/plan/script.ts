// Plan → a runnable bash script of the same ip/sysctl commands, for learners to read beside the source document.
// Inert whatever the lab says: commands come from shellLine (every word quoted as needed) and every piece of lab
// text (titles, names, explanations, check descriptions) is a comment, line by line, control characters escaped.
import { describeExpectation } from '../lab/describe.js';
import { shellLine } from './argv.js';
import type { Plan } from './planner.js';
import { commentLines, shellCommand, wrappedComment } from './shell.js';

/** The build script: every stage's commands in order, checks as comments. */
export function planScript(plan: Plan, opts: { title?: string } = {}): string {
  const out = [
    '#!/usr/bin/env bash',
    ...commentLines(`netlab plan for lab "${plan.lab}", instance "${plan.instance}"${opts.title ? ` — ${opts.title}` : ''}`),
    '# Builds the same namespaces, links, addresses, routes and sysctls that `netlab up` builds.',
    ...(plan.stages.some((s) => s.ops.some((o) => o.kind === 'veth-add'))
      ? ['# `index 10000`… on a veth end: its ifindex never equals its peer\'s, so the kernel switches the pair on at once.']
      : []),
    ...commentLines(`Tear down: ${plan.namespaces.map((n) => shellCommand(['ip', 'netns', 'del', n.ns])).join('; ')}`),
    'set -euo pipefail',
  ];
  plan.stages.forEach((stage, i) => {
    out.push('', ...commentLines(`--- ${i === 0 ? 'setup' : `step ${i}: ${stage.name}`} — ${stage.title}`));
    if (stage.explain) out.push(...wrappedComment(stage.explain));
    out.push(...stage.ops.map(shellLine));
    for (const c of stage.checks) {
      out.push(...commentLines(`check: ${c.name} — ${c.kind} ${c.target ? `from ${c.from} to ${c.target}` : `in ${c.from}`}, ${describeExpectation(c)}`));
    }
  });
  return out.join('\n') + '\n';
}

/** The teardown script: deleting a namespace removes every device, address and route inside it. */
export function teardownScript(plan: Plan): string {
  return (
    [
      '#!/usr/bin/env bash',
      ...commentLines(`netlab teardown for instance "${plan.instance}"`),
      ...plan.namespaces.map((n) => `${shellCommand(['ip', 'netns', 'del', n.ns])} || true`),
    ].join('\n') + '\n'
  );
}
