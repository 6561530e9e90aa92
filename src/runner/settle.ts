// Waiting for the kernel after a build: bridges and devices switched on, bridge ports forwarding, no tentative IPv6
// address (an IPv6 router's link-local ones included). Until then a lab drops packets (the first ARP reply of a bridge, say), and a check would measure that.
import type { Op } from '../plan/ops.js';
import { inNamespace } from '../plan/argv.js';
import { run } from './exec.js';
import { pause, pool } from './pool.js';
import { currentProber, type Prober, type ProbedLink } from './prober.js';
import { nsPath } from '../plan/naming.js';

/** How long a namespace may take to settle (STP's listening + learning is 2 × 15 s by default). */
const SETTLE_LIMIT_MS = 35_000;

/**
 * Namespaces whose ops need a moment before traffic flows: devices and bridge ports (the kernel activates a bridge's
 * transmit queue up to a second after its carrier came on; STP states) and IPv6 addresses (DAD).
 */
export function settleNamespaces(ops: readonly Op[]): string[] {
  const out = new Set<string>();
  for (const o of ops) {
    if (o.kind === 'link-add') out.add(o.into ?? o.ns);
    // A tunnel gives its device carrier: the device (and a bridge it is a port of) is switched on a moment later.
    else if (o.kind === 'link-master' || o.kind === 'tunnel-start' || (o.kind === 'addr-add' && o.cidr.includes(':'))) out.add(o.ns);
  }
  return [...out];
}


/**
 * Namespaces that forward IPv6 (a forwarding sysctl set to 1 by these ops). A router resolves the next hop of a
 * packet it forwards from its link-local address: until that address has passed DAD (~1-2 s after the link came
 * up) its neighbour solicitations go unanswered and forwarded packets are dropped. Measured: a two-hop IPv6 ping
 * right after the build got no reply for 2 s; one hop (the router's own address) answered.
 */
export function ipv6Routers(ops: readonly Op[]): string[] {
  return [...new Set(ops.filter((o) => o.kind === 'sysctl' && /^net\.ipv6\.conf\.[^.]+\.forwarding$/.test(o.key) && o.value === '1').map((o) => o.ns))];
}

/**
 * What is not settled yet in `ip -j -d addr show` output: bridge ports still listening/learning, tentative addresses
 * (link-local ones only with `linkLocal`: an IPv6 router's).
 */
export function unsettled(ipJson: string, linkLocal = false): string[] {
  let links: ProbedLink[];
  try {
    links = JSON.parse(ipJson) as ProbedLink[];
  } catch {
    return [];
  }
  return unsettledLinks(links, linkLocal);
}

/** unsettled() of links already read (`ip -j` parsed, or the prober's). */
export function unsettledLinks(links: readonly ProbedLink[], linkLocal = false): string[] {
  // A router forwards IPv6 between the IPv6 networks it is on: with no IPv6 address of its own beyond link-local
  // ones (an IPv4 lab whose router turns forwarding on for both families) there is nothing to forward, and waiting
  // for its link-local DAD (1-2 s) would only delay the checks.
  linkLocal &&= links.some((l) => (l.addr_info ?? []).some((a) => a.local.includes(':') && a.scope !== 'link' && a.scope !== 'host'));
  return links.flatMap((l) => {
    // Up with carrier, but the kernel's link watcher has not switched it on yet: until then it drops what it sends.
    const carrier = (l.flags ?? []).includes('UP') && (l.flags ?? []).includes('LOWER_UP');
    const port = l.linkinfo?.info_slave_kind === 'bridge' ? l.linkinfo.info_slave_data?.state ?? '' : '';
    return [
      ...(carrier && /^(DOWN|LOWERLAYERDOWN)$/.test(l.operstate ?? '') ? [`${l.ifname}: operstate ${l.operstate} with carrier`] : []),
      ...(/^(listening|learning)$/.test(port) || (carrier && port === 'disabled') ? [`${l.ifname}: bridge port ${port}`] : []),
    // Link-local addresses are left out: checks aim at configured addresses, which netlab adds with nodad.
      ...(l.addr_info ?? []).filter((a) => a.tentative && (linkLocal || a.scope !== 'link')).map((a) => `${l.ifname}: ${a.local} tentative`),
    ];
  });
}

/**
 * Waits until every namespace has settled; gives up after the limit. Through the prober: its links, then again each
 * time the kernel says a link or an address changed (no process, no polling). Without one (or if it cannot read a
 * namespace): `ip -j -d addr show` every 50 ms.
 */
export async function settle(namespaces: readonly string[], signal?: AbortSignal, routers: readonly string[] = []): Promise<void> {
  const all = [...new Set([...namespaces, ...routers])];
  if (!all.length) return;
  const prober = await currentProber();
  // Through the prober a waiting namespace costs two sockets, not a process: more at once.
  await pool(all, prober ? 64 : 8, async (ns) => {
    const end = performance.now() + SETTLE_LIMIT_MS;
    if (prober && (await settleWatching(prober, ns, routers.includes(ns), end, signal))) return;
    for (;;) {
      const r = await run(inNamespace(ns, ['ip', '-j', '-d', 'addr', 'show']), { timeoutMs: 5000, ...(signal ? { signal } : {}) });
      if (!unsettled(r.stdout, routers.includes(ns)).length || performance.now() > end) return;
      await pause(50, signal);
    }
  });
}


/** How long one wait for a change may last before the links are read again all the same. */
const WATCH_STEP_MS = 250;

/** settle() of one namespace through the prober; false when the prober could not read it (settle then polls). */
async function settleWatching(prober: Prober, ns: string, linkLocal: boolean, end: number, signal?: AbortSignal): Promise<boolean> {
  const path = nsPath(ns);
  try {
    let links = await prober.links(path, undefined, signal);
    for (;;) {
      // The signal fired: settling ends, as the build does; any other failure: settle polls instead.
      if (typeof links === 'string') return signal?.aborted === true;
      if (!unsettledLinks(links, linkLocal).length || performance.now() > end) return true;
      links = await prober.links(path, Math.max(1, Math.min(WATCH_STEP_MS, end - performance.now())), signal);
    }
  } finally {
    // Not waited for: the prober answers requests in order, so nothing sent after this sees the watch.
    void prober.unwatch(path);
  }
}
