// The rules that look at a stage as a whole once checkRules has taken in its addresses: prefixes and routes
// (address-rules.ts) and check targets (target-rules.ts). Keeps what they need across stages (services, forwards).
import { hostBitsProblem, overlapProblems, type SeenAddress } from './address-rules.js';
import type { Dropped } from './dropped.js';
import type { RuleProblem } from './rules.js';
import { targetProblems } from './target-rules.js';
import type { Forward, Ref, Route, Stage, Sysctl } from './types.js';

/** Runs the stage rules stage after stage; the lab's stages must be given in order. */
export class StageRules {
  private seen = 0;
  private readonly http = new Set<string>();
  private readonly forwards: Forward[] = [];
  private readonly routes: Route[] = [];
  private readonly sysctls: Sysctl[] = [];
  private leases = false;
  constructor(
    private readonly nodes: ReadonlySet<string>,
    private readonly segmentOf: (r: Ref) => string,
    private readonly dropped: Dropped,
  ) {}

  /** Problems of `stage`; `addrs`: every static address the rules accepted so far, this stage's included. */
  stage(stage: Stage, addrs: readonly SeenAddress[]): RuleProblem[] {
    const out: RuleProblem[] = [];
    out.push(...overlapProblems(addrs.slice(this.seen), addrs));
    this.seen = addrs.length;
    for (const r of stage.config.routes) {
      const p = this.nodes.has(r.node) ? hostBitsProblem(r.dst, [...r.at, 'dst']) : undefined;
      if (p) out.push(p);
    }
    for (const c of stage.checks) {
      const p = c.kind === 'state' && c.query.what === 'route' ? hostBitsProblem(c.query.dst, [...c.at, 'route', 'dst']) : undefined;
      if (p) out.push({ ...p, hint: 'the kernel keeps routes to networks: this one can never be found' });
    }
    for (const s of stage.config.services) if (s.kind === 'http' && this.nodes.has(s.node)) this.http.add(`${s.node} ${s.port}`);
    this.forwards.push(...stage.config.forwards.filter((f) => this.nodes.has(f.node)));
    this.routes.push(...stage.config.routes.filter((r) => this.nodes.has(r.node)));
    this.sysctls.push(...stage.config.sysctls.filter((s) => this.nodes.has(s.node)));
    this.leases ||= stage.config.dhcpClients.length > 0;
    const ctx = {
      stage: stage.name,
      nodes: this.nodes,
      addrs,
      segmentOf: this.segmentOf,
      dropped: this.dropped,
      http: this.http,
      forwards: this.forwards,
      routes: this.routes,
      sysctls: this.sysctls,
      leases: this.leases,
    };
    // The checks of one matrix key share its location: say each thing once.
    const said = new Set<string>();
    for (const c of stage.checks) {
      for (const p of targetProblems(c, ctx)) {
        const id = `${JSON.stringify(p.at)} ${p.message}`;
        if (!said.has(id)) out.push(p);
        said.add(id);
      }
    }
    return out;
  }
}
