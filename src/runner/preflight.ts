// What the machine must have to build labs: privileges, tools, kernel features. `doctor` shows it all; `run`/`up`
// check what their lab needs before building anything (preflightLab), other commands the basics (preflight).
import { type NeighbourTable } from '../plan/neighbours.js';
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { EnvironmentError } from '../errors.js';
import { dotted, LabSource } from '../lab/source.js';
import type { Lab } from '../lab/types.js';
import type { Plan } from '../plan/planner.js';
import {
  KERNEL_INFO, kernelHint, LAB_FEATURES, labNeeds, NOT_UNPRIVILEGED, probeKernel, probeTools, probeUserns, PROVEN_BY_BUILD, TOOL_INFO,
  type KernelFeature, type LabFeature, type LabNeeds, type NeedSite, type ProbeResult, type ToolName,
} from './features.js';
import { unprivileged } from './runtime.js';

export interface Tool {
  cmd: ToolName;
  pkg: string;
  version: readonly string[];
  /** The lab features that need it, in words. */
  why: string;
  /** Needed by every lab (the rest only by labs that use the features in `why`). */
  required: boolean;
}

/** The lab features (keys of the one table) that need a tool. */
export function featuresNeeding(tool: ToolName): LabFeature[] {
  return (Object.keys(LAB_FEATURES) as LabFeature[]).filter((f) => (LAB_FEATURES[f].tools as readonly ToolName[]).includes(tool));
}

/** The lab features that need a kernel feature. */
export function featuresNeedingKernel(k: KernelFeature): LabFeature[] {
  return (Object.keys(LAB_FEATURES) as LabFeature[]).filter((f) => (LAB_FEATURES[f].kernel as readonly KernelFeature[]).includes(k));
}

/** System tools, the Debian package each comes from, and what needs it: derived from the table in features.ts. */
export const TOOLS: readonly Tool[] = (Object.keys(TOOL_INFO) as ToolName[]).map((cmd) => ({
  cmd,
  pkg: TOOL_INFO[cmd].pkg,
  version: TOOL_INFO[cmd].version,
  why: featuresNeeding(cmd).map((f) => LAB_FEATURES[f].what).join('; '),
  required: featuresNeeding(cmd).includes('namespaces'),
}));

/** Full path of a command on PATH, without spawning anything: the same lookup every spawn makes (so PATH decides). */
export function which(cmd: string): string | undefined {
  const dirs = (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter).filter(Boolean);
  for (const d of dirs) {
    const p = join(d, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** Effective capabilities of this process (bit numbers from linux/capability.h). */
export function capabilities(): Caps {
  const root = process.getuid?.() === 0;
  try {
    const hex = /CapEff:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
    const eff = BigInt(`0x${hex}`);
    const has = (bit: bigint) => ((eff >> bit) & 1n ? true : false);
    return { root, netAdmin: has(12n), sysAdmin: has(21n), setuid: has(7n) };
  } catch {
    return { root, netAdmin: root, sysAdmin: root, setuid: root };
  }
}

export interface Caps {
  root: boolean;
  netAdmin: boolean;
  sysAdmin: boolean;
  /** CAP_SETUID: what doctor's user-namespace probe needs as root, to become uid 65534 first. */
  setuid: boolean;
}

/**
 * Root (uid 0) without CAP_NET_ADMIN or CAP_SYS_ADMIN: a container started without --privileged (Docker's default
 * set has neither), or capabilities dropped. As root netlab builds labs with those capabilities; it cannot fall back
 * to user namespaces as root either (a user namespace mapping uid 0 needs CAP_SETFCAP), so the way out is the
 * capabilities or a user other than root.
 */
export function rootWithoutCaps(caps: Pick<Caps, 'root' | 'netAdmin' | 'sysAdmin'>): boolean {
  return caps.root && !(caps.netAdmin && caps.sysAdmin);
}

/** What root without the capabilities lacks, in words: the capabilities it does not have. */
export function lackedCaps(caps: Pick<Caps, 'netAdmin' | 'sysAdmin'>): string {
  return [caps.netAdmin ? '' : 'CAP_NET_ADMIN', caps.sysAdmin ? '' : 'CAP_SYS_ADMIN'].filter(Boolean).join(' and ');
}

/** What to do about root without the capabilities (doctor and the refusal to build say the same). */
export const ROOT_WITHOUT_CAPS_HINT =
  'give them (docker run --privileged; Kubernetes securityContext.privileged: true), or run netlab as a user other than root ' +
  '(docker run --user 1000:1000; Kubernetes securityContext.runAsUser: 1000): without root every lab runs boxed in user namespaces of its own, where they are allowed';

/** Whether the root namespace forwards IPv4 (read only; new namespaces copy this setting). */
export function rootForwards(): boolean {
  try {
    return readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim() !== '0';
  } catch {
    return true;
  }
}

/** The apt-get line that installs the given tools' packages. */
export function aptLine(tools: readonly Pick<Tool, 'pkg'>[]): string {
  return `apt-get install -y ${[...new Set(tools.map((t) => t.pkg))].join(' ')}`;
}

/** Privileges to act on an instance: root's, or — an unprivileged user — none (their instances are boxed: their own). */
function requirePrivileges(): void {
  if (unprivileged()) return;
  const caps = capabilities();
  if (rootWithoutCaps(caps)) {
    throw new EnvironmentError(`netlab runs as root but without ${lackedCaps(caps)}, which building labs as root needs (a container started without --privileged?)`, {
      hint: `${ROOT_WITHOUT_CAPS_HINT}; \`netlab doctor\` shows what is missing`,
    });
  }
  if (!caps.netAdmin || !caps.sysAdmin) {
    throw new EnvironmentError('building labs needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN)', {
      hint: 'run as root (sudo netlab ...), or in a privileged container; `netlab doctor` shows what is missing',
    });
  }
}

/**
 * Without root, a lab is built in a box of the user's own: that needs unprivileged user namespaces. Tried for real
 * (as doctor does); when the kernel refuses, the error names the setting that blocks them and how to allow them.
 */
async function requireUserns(signal?: AbortSignal): Promise<void> {
  const u = await probeUserns(signal ? { signal } : {});
  if (u.status === 'allowed') return;
  const fixes = u.blockedBy.map((b) => `${b.setting} = ${b.value} forbids them; as root: ${b.fix.join('; ')}`);
  throw new EnvironmentError(`building a lab without root needs unprivileged user namespaces, and ${u.status === 'blocked' ? 'this machine refuses them' : 'they could not be tried'}: ${u.reason ?? ''}`, {
    hint: [...fixes, 'or run netlab as root (sudo netlab ...); `netlab doctor` says what blocks them'].join('\n'),
  });
}

/** Throws EnvironmentError (exit 3) unless this process has the privileges and the tools every lab needs. */
export function preflight(): void {
  requirePrivileges();
  const missing = TOOLS.filter((t) => t.required && !which(t.cmd));
  if (missing.length) {
    throw new EnvironmentError(`missing tools: ${missing.map((t) => t.cmd).join(', ')}`, { hint: aptLine(missing) });
  }
}

/** One site as `file:line:col  path  element` (the element alone when the file cannot be read again). */
function siteLine(src: LabSource | undefined, s: NeedSite): string {
  if (!src || !s.at) return s.element;
  const { line, col } = src.locate(s.at);
  return `${src.file}:${line}:${col}  ${dotted(s.at)}  ${s.element}`;
}

/** The lines that say what is missing, which lab elements need it, and what to do. */
export function missingLines(
  src: LabSource | undefined,
  needs: LabNeeds,
  tools: readonly ToolName[],
  kernel: readonly ProbeResult[],
  loadable?: boolean,
): string[] {
  const sites = (e: { sites: NeedSite[]; count: number } | undefined) => {
    if (!e) return [];
    const more = e.count - e.sites.length;
    return [...e.sites.map((s) => `      needed by ${siteLine(src, s)}`), ...(more > 0 ? [`      and ${more} more`] : [])];
  };
  const out: string[] = [];
  for (const r of kernel) {
    if (tunClosed(r)) {
      out.push(`  tun and tap devices cannot work without root here: /dev/net/tun is not open to users (${r.reason ?? 'permission denied'})`, ...sites(needs.kernel.get(r.feature)));
      out.push(`      hint: ${TUN_CLOSED_HINT}`);
      continue;
    }
    out.push(`  kernel feature ${r.feature} (${KERNEL_INFO[r.feature].config}) is missing: ${r.reason ?? 'failed'}`, ...sites(needs.kernel.get(r.feature)));
    out.push(`      hint: ${kernelHint(r.feature, loadable)}`);
  }
  for (const [f, why] of blockedUnprivileged(needs)) {
    out.push(`  ${LAB_FEATURES[f].what} cannot work without root: ${why}`, ...sites(needs.features.get(f)));
    out.push('      hint: run the lab as root (sudo netlab run LAB --sandbox boxes it all the same)');
  }
  for (const t of tools) {
    out.push(`  tool ${t} is not on PATH (package ${TOOL_INFO[t].pkg})`, ...sites(needs.tools.get(t)));
    out.push(`      hint: apt-get install -y ${TOOL_INFO[t].pkg}`);
  }
  return out;
}

/** What to do when /dev/net/tun is root's alone and netlab runs without root. */
export const TUN_CLOSED_HINT = 'as root, `chmod 0666 /dev/net/tun` (what udev makes it on Debian and Ubuntu), or run the lab as root with --sandbox';

/** The tun probe refused by /dev/net/tun's mode, not by the kernel: an unprivileged user where the node is root's alone. */
export function tunClosed(r: ProbeResult): boolean {
  return unprivileged() && (r.feature === 'tun' || r.feature === 'tap') && /permission denied/i.test(r.reason ?? '');
}

/** The lab's features that cannot work without root (none as root), with the reason. */
export function blockedUnprivileged(needs: Pick<LabNeeds, 'features'>, user = unprivileged()): [LabFeature, string][] {
  if (!user) return [];
  return [...needs.features.keys()].flatMap((f) => (NOT_UNPRIVILEGED[f] !== undefined ? [[f, NOT_UNPRIVILEGED[f]] as [LabFeature, string]] : []));
}

/**
 * What of a lab cannot work without root, for `validate` run by a user without root (empty as root): each feature,
 * why, and the lab elements that use it (file:line:col). tun and tap count where /dev/net/tun is not this user's to open.
 */
export function rootOnlyLines(lab: Lab, plan: Pick<Plan, 'namespaces' | 'stages'>, user = unprivileged()): string[] {
  if (!user) return [];
  const needs = labNeeds(lab, plan);
  let src: LabSource | undefined;
  try {
    src = new LabSource(lab.file, readFileSync(lab.file, 'utf8'));
  } catch {
    src = undefined;
  }
  const out: string[] = [];
  for (const [f, why] of blockedUnprivileged(needs, user)) {
    const e = needs.features.get(f);
    out.push(`needs root: ${LAB_FEATURES[f].what}: ${why}`, ...(e?.sites ?? []).map((s) => `    ${siteLine(src, s)}`));
  }
  const tun = [needs.kernel.get('tun'), needs.kernel.get('tap')].filter((e) => e !== undefined);
  if (tun.length && !tunOpen()) {
    out.push('needs root here: tun and tap devices: /dev/net/tun is not open to this user', ...tun.flatMap((e) => e.sites).map((s) => `    ${siteLine(src, s)}`));
  }
  return out;
}

/** Whether this process may open /dev/net/tun for reading and writing. */
function tunOpen(): boolean {
  try {
    accessSync('/dev/net/tun', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export interface PreflightOptions {
  /** --pcap with --evidence: the capture tools are needed too. */
  pcap?: boolean;
  /** --sandbox: unshare, nsenter and setpriv start and enter the supervisor. */
  sandbox?: boolean;
  signal?: AbortSignal;
}

/**
 * Before `run`/`up` builds anything: the privileges, every tool the plan's ops and checks need (PATH lookups, no
 * process), and the kernel features it needs that the build would not prove at once (probed in throwaway namespaces;
 * a lab of veth links and bridges spawns nothing here). Throws EnvironmentError (exit 3) naming each missing one, the
 * lab elements that need it (file:line:col) and a hint. Nothing is cached across runs.
 */
export async function preflightLab(lab: Lab, plan: Pick<Plan, 'namespaces' | 'stages'>, opts: PreflightOptions = {}): Promise<void> {
  requirePrivileges();
  if (unprivileged()) await requireUserns(opts.signal);
  const needs = labNeeds(lab, plan, opts);
  const probe = [...needs.kernel.keys()].filter((k) => !PROVEN_BY_BUILD.has(k));
  if (probe.length) needs.tools.set('unshare', { sites: [{ feature: 'probe', element: `probing kernel features ${probe.join(', ')}` }], count: 1 });
  const tools = [...needs.tools.keys()].filter((t) => !which(t));
  // A feature whose probe tool is missing (unshare, or ip/tc/nft itself) is not probed: the missing tool is reported.
  const results = await probeKernel(probe.filter((k) => probeTools(k).every((t) => !tools.includes(t))), opts.signal);
  const kernel = results.filter((r) => r.status === 'missing');
  const blocked = blockedUnprivileged(needs);
  if (!tools.length && !kernel.length && !blocked.length) return;
  let src: LabSource | undefined;
  try {
    src = new LabSource(lab.file, readFileSync(lab.file, 'utf8'));
  } catch {
    src = undefined;
  }
  const what = [
    ...(blocked.length ? [`root for ${blocked.map(([f]) => LAB_FEATURES[f].what).join(', ')}`] : []),
    ...(kernel.length ? [`${kernel.length === 1 ? 'a kernel feature' : `${kernel.length} kernel features`} (${kernel.map((r) => r.feature).join(', ')})`] : []),
    ...(tools.length ? [`${tools.length === 1 ? 'a tool' : `${tools.length} tools`} (${tools.join(', ')})`] : []),
  ].join(' and ');
  throw new EnvironmentError(
    [`lab "${lab.name}" needs ${what} this machine lacks; nothing was created`, ...missingLines(src, needs, tools, kernel)].join('\n'),
    { hint: `\`netlab doctor\` lists every tool and kernel feature${tools.length ? `; ${aptLine(tools.map((t) => TOOL_INFO[t]))}` : ''}` },
  );
}

/** The kernel-wide IPv4 neighbour table's limit and fill, as /proc shows them to any namespace (read, never written). */
export function neighbourTable(): NeighbourTable | undefined {
  try {
    const limit = Number(readFileSync('/proc/sys/net/ipv4/neigh/default/gc_thresh3', 'utf8').trim());
    const stat = readFileSync('/proc/net/stat/arp_cache', 'utf8').split('\n')[1]?.trim().split(/\s+/)[0];
    const inUse = stat !== undefined ? parseInt(stat, 16) : NaN;
    return Number.isFinite(limit) && Number.isFinite(inUse) ? { limit, inUse } : undefined;
  } catch {
    return undefined;
  }
}
