// `validate` extra: asks nftables itself (`nft -c`, in a throwaway network namespace) whether each generated ruleset loads.
import type { Lab } from '../lab/types.js';
import { nftText } from '../plan/argv.js';
import { parseNsName } from '../plan/naming.js';
import { planLab, type Plan } from '../plan/planner.js';
import { run } from './exec.js';
import { capabilities, which } from './preflight.js';

export interface NftProblem {
  node: string;
  stage: string;
  message: string;
}

/** Checks every ruleset of the lab with `nft -c`; undefined when it cannot (no nft, no privileges). */
export async function nftCheck(lab: Lab, plan: Plan = planLab(lab, 'validate')): Promise<{ checked: number; problems: NftProblem[] } | undefined> {
  // Tools and capabilities are looked for only when there is a ruleset to check (a PATH search is ~2 ms).
  if (!plan.stages.some((s) => s.ops.some((o) => o.kind === 'nft-apply'))) return { checked: 0, problems: [] };
  const caps = capabilities();
  if (!which('nft') || !which('unshare') || !caps.netAdmin || !caps.sysAdmin) return undefined;
  const problems: NftProblem[] = [];
  let checked = 0;
  for (const stage of plan.stages) {
    for (const op of stage.ops) {
      if (op.kind !== 'nft-apply') continue;
      checked++;
      const r = await run(['unshare', '--net', '--', 'nft', '-c', '-f', '-'], { input: nftText(op), timeoutMs: 10_000 });
      if (r.exitCode !== 0) {
        const first = r.stderr.split('\n').find((l) => /Error/.test(l)) ?? r.stderr.trim();
        problems.push({ node: parseNsName(op.ns)?.node ?? op.ns, stage: stage.name, message: first.replace(/^\/dev\/stdin:/, 'line ') });
      }
    }
  }
  return { checked, problems };
}
