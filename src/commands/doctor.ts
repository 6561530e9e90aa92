// `doctor`: can this machine build labs? Privileges, every tool labs may need (with versions), every kernel feature a
// lab may use (tried in a throwaway network namespace), which lab features need what, and what the built-in labs lack.
// Exit 0 when every built-in lab can be built and checked here, 3 otherwise (docs/cli.md).
import { builtinLabs, loadLab } from '../lab/catalog.js';
import { planLab } from '../plan/planner.js';
import { run } from '../runner/exec.js';
import {
  KERNEL_FEATURES, KERNEL_INFO, kernelHint, kernelModules, LAB_FEATURES, labNeeds, modulesLoadable, probeKernel, probeUserns,
  type KernelFeature, type LabFeature, type ToolName, type UsernsResult,
} from '../runner/features.js';
import {
  aptLine, blockedUnprivileged, capabilities, featuresNeeding, lackedCaps, ROOT_WITHOUT_CAPS_HINT, rootWithoutCaps, type Caps,
   featuresNeedingKernel, TOOLS, TUN_CLOSED_HINT, tunClosed, which,
} from '../runner/preflight.js';
import { green, red, useColor, yellow } from '../report/color.js';
import { printJson, type Command } from './common.js';

/** What each built-in lab needs (tools and kernel features), from its plan through the one table. */
async function builtinNeeds(): Promise<{ lab: string; tools: ToolName[]; kernel: KernelFeature[]; rootOnly: LabFeature[]; error?: string }[]> {
  return Promise.all(
    builtinLabs().map(async (name) => {
      try {
        const lab = await loadLab(name);
        const needs = labNeeds(lab, planLab(lab, 'doctor'));
        return { lab: name, tools: [...needs.tools.keys()], kernel: [...needs.kernel.keys()], rootOnly: blockedUnprivileged(needs).map(([f]) => f) };
      } catch (e) {
        return { lab: name, tools: [], kernel: [], rootOnly: [], error: (e as Error).message };
      }
    }),
  );
}

const words = (fs: readonly LabFeature[]) => fs.map((f) => LAB_FEATURES[f].what).join('; ');

/**
 * Whether unprivileged user namespaces work here (tried as uid 65534 when root), or why it could not be tried. Root
 * without CAP_SETUID (a container without privileges) cannot become that uid, nor try as itself: a user namespace
 * that maps uid 0 needs CAP_SETFCAP. Only a user other than root can tell, so doctor says to run it as one.
 */
function userns(caps: Pick<Caps, 'root' | 'setuid'>): Promise<UsernsResult & { allowed: boolean }> {
  const unshare = which('unshare');
  const lacking = !unshare ? 'unshare' : caps.root && !which('setpriv') ? 'setpriv' : undefined;
  const r = lacking
    ? Promise.resolve<UsernsResult>({ status: 'unknown', probedAs: null, probe: '', reason: `not probed: ${lacking} (util-linux) is missing`, blockedBy: [] })
    : caps.root && !caps.setuid
      ? Promise.resolve<UsernsResult>({ status: 'unknown', probedAs: null, probe: '', reason: CANNOT_PROBE_AS_ROOT, blockedBy: [] })
      : probeUserns({ unshare: unshare as string });
  return r.then((u) => ({ allowed: u.status === 'allowed', ...u }));
}

/** Why root without CAP_SETUID does not probe user namespaces, and how to find out. */
export const CANNOT_PROBE_AS_ROOT =
  'not probed: root without CAP_SETUID cannot become another user to try them, and as root a user namespace needs CAP_SETFCAP; run `netlab doctor` as a user other than root to see (docker run --user 1000:1000 IMAGE doctor)';

/**
 * The privileges line: what netlab can build with, or what it lacks and what to do. Root without CAP_NET_ADMIN /
 * CAP_SYS_ADMIN is told as such (not "needs root": it is root), with the two ways out.
 */
export function privilegesLine(caps: Caps, usernsAllowed: boolean): string {
  if (caps.netAdmin && caps.sysAdmin) return caps.root ? 'root' : 'CAP_NET_ADMIN and CAP_SYS_ADMIN';
  if (rootWithoutCaps(caps)) {
    return `root, but without ${lackedCaps(caps)} (a container started without --privileged?): building labs as root needs both; ${ROOT_WITHOUT_CAPS_HINT}`;
  }
  if (usernsAllowed) return 'not root: every lab runs boxed, in user namespaces of your own';
  return 'needs root (CAP_NET_ADMIN + CAP_SYS_ADMIN), or unprivileged user namespaces, to build labs';
}

/** What a built-in lab lacks when nothing can be built here: the privileges, in a few words. */
export function privilegesMissing(caps: Caps): string {
  return rootWithoutCaps(caps) ? `${lackedCaps(caps)} (or a user other than root)` : 'root, or unprivileged user namespaces';
}

/** The doctor lines of the user-namespace probe (as root they never change the exit code; without root they decide it). */
function usernsLines(u: UsernsResult, c: boolean): string[] {
  const why = 'needed for running without root (every lab boxed in a user namespace of its own)';
  const as = u.probedAs !== null ? ` (probed as uid ${u.probedAs})` : '';
  if (u.status === 'allowed') return [`${green(c, '✔')} unprivileged user namespaces: allowed${as} — ${why}`];
  if (u.status === 'unknown') return [`${yellow(c, '?')} unprivileged user namespaces: ${u.reason ?? 'not probed'} — ${why}`];
  const head = `${yellow(c, '✘')} unprivileged user namespaces: blocked${as}: ${u.reason ?? ''} — ${why}`;
  if (!u.blockedBy.length) return [head, '             none of kernel.unprivileged_userns_clone, kernel.apparmor_restrict_unprivileged_userns, user.max_user_namespaces forbids them: a seccomp filter (a container) or a security module may'];
  return [head, ...u.blockedBy.flatMap((b) => [`             blocked by ${b.setting} = ${b.value}; to allow them (as root):`, ...b.fix.map((l) => `               ${l}`)])];
}

export const doctorCommand: Command<{ json: boolean }> = {
  builder: (y) => y.option('json', { type: 'boolean', default: false, describe: 'Print the findings as JSON' }) as never,
  handler: async (a) => {
    const caps = capabilities();
    const privileged = caps.netAdmin && caps.sysAdmin;
    const node = process.versions.node;
    const nodeOk = (() => {
      const [maj = 0, min = 0] = node.split('.').map(Number);
      return maj > 20 || (maj === 20 && min >= 19);
    })();
    // Without root, labs are built boxed in user namespaces: what can run depends on whether those are allowed.
    const uns = await userns(caps);
    const user = !privileged && !caps.root;
    const canBuild = privileged || (user && uns.allowed);
    const canProbe = canBuild && !!which('unshare');
    const [labs, tools, probes] = await Promise.all([
      builtinNeeds(),
      Promise.all(
        TOOLS.map(async (t) => {
          const path = which(t.cmd);
          let version: string | undefined;
          if (path) {
            const r = await run(t.version, { timeoutMs: 5000 });
            // The first line with a version number (socat's first line is its authors).
            const ls = (r.stdout + r.stderr).split('\n').map((l) => l.trim()).filter(Boolean);
            version = ls.find((l) => /\d+\.\d+/.test(l)) ?? ls[0];
          }
          return { ...t, path, version };
        }),
      ),
      canProbe ? probeKernel(KERNEL_FEATURES) : Promise.resolve(undefined),
    ]);
    const loadable = modulesLoadable();
    const labsNeedingTool = (t: ToolName) => labs.filter((l) => l.tools.includes(t)).map((l) => l.lab);
    const labsNeedingKernel = (k: KernelFeature) => labs.filter((l) => l.kernel.includes(k)).map((l) => l.lab);
    const kernel = KERNEL_FEATURES.map((f) => {
      const r = probes?.find((p) => p.feature === f);
      const status = r?.status ?? 'unknown';
      return {
        feature: f,
        status,
        ...(r?.reason !== undefined ? { reason: r.reason } : !r ? { reason: canBuild ? 'not probed: unshare (util-linux) is missing' : `not probed: needs ${privilegesMissing(caps)}` } : {}),
        // A feature that was not probed gets no hint: nothing says the kernel lacks it.
        ...(r && status !== 'ok' ? { hint: tunClosed(r) ? TUN_CLOSED_HINT : kernelHint(f, loadable) } : {}),
        config: KERNEL_INFO[f].config,
        // The module(s) to load where it is not built in: the table the kernel VM (scripts/kernel-vm) loads too.
        module: kernelModules(f),
        probe: r?.probe ?? '',
        neededBy: featuresNeedingKernel(f),
        builtinLabs: labsNeedingKernel(f),
      };
    });
    const toolRows = tools.map((t) => ({ cmd: t.cmd, pkg: t.pkg, path: t.path, version: t.version, required: t.required, neededBy: featuresNeeding(t.cmd), builtinLabs: labsNeedingTool(t.cmd) }));
    const missingTools = toolRows.filter((t) => !t.path);
    const labRows = labs.map((l) => {
      const missing = [
        ...l.tools.filter((t) => !which(t)),
        ...l.kernel.filter((k) => kernel.find((r) => r.feature === k)?.status === 'missing'),
        ...(user ? l.rootOnly.map((f) => `root (${LAB_FEATURES[f].what})`) : []),
        ...(canBuild ? [] : [privilegesMissing(caps)]),
      ];
      return { lab: l.lab, ok: !l.error && !missing.length && canBuild && nodeOk, missing, ...(l.error ? { error: l.error } : {}) };
    });
    const ok = canBuild && nodeOk && labRows.every((l) => l.ok);
    if (a.json) {
      printJson({ ok, privileged, root: caps.root, boxedWithoutRoot: user && uns.allowed, node, nodeOk, userns: uns, modulesLoadable: loadable, tools: toolRows, kernel, install: missingTools.length ? aptLine(missingTools) : null, labs: labRows });
      return ok ? 0 : 3;
    }
    const c = useColor(process.stdout);
    // ✘ red: a built-in lab needs it; ✘ yellow: only labs using that feature do; ? could not be probed.
    const mark = (good: boolean, builtin: boolean) => (good ? green(c, '✔') : builtin ? red(c, '✘') : yellow(c, '✘'));
    // Columns: a long version line (curl's) is cut so the "needed by" column stays aligned.
    const pad = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s.padEnd(n));
    const lines = [
      `${mark(canBuild, true)} privileges: ${privilegesLine(caps, uns.allowed)}`,
      `${mark(nodeOk, true)} node ${node}${nodeOk ? '' : ' (netlab needs >= 20.19)'}`,
      ...usernsLines(uns, c),
      '',
      'tools (looked up on PATH), and what needs them:',
      ...toolRows.map((t) => `${mark(!!t.path, t.builtinLabs.length > 0)} ${pad(t.cmd, 8)} ${pad(t.path ? (t.version ?? '') : `missing (package ${t.pkg})`, 44)} ${words(t.neededBy)}`),
      '',
      `kernel features (tried in a throwaway network namespace${loadable ? '' : '; this kernel cannot load modules'}), and what needs them:`,
      ...kernel.flatMap((k) => [
        `${k.status === 'unknown' ? yellow(c, '?') : mark(k.status === 'ok', k.builtinLabs.length > 0)} ${pad(k.feature, 8)} ${pad(k.status === 'ok' ? 'ok' : `${k.status}: ${k.reason ?? ''}`, 44)} ${words(k.neededBy)} [${k.config}${k.module.length ? `; module ${k.module.join(', ')}` : ''}]`,
        ...(k.hint ? [`             hint: ${k.hint}`] : []),
      ]),
      '',
    ];
    const lacking = [...missingTools.map((t) => t.cmd), ...kernel.filter((k) => k.status === 'missing').map((k) => k.feature)];
    if (lacking.length) lines.push(`missing here: ${lacking.join(', ')} — \`netlab run\`/\`up\` of a lab that needs one stops before building (exit 3)`);
    if (missingTools.length) lines.push(`install: ${aptLine(missingTools)}`);
    for (const l of labRows) {
      lines.push(l.ok ? `${green(c, '✔')} built-in lab ${l.lab} can run here` : `${red(c, '✘')} built-in lab ${l.lab} cannot run here${l.error ? `: ${l.error}` : l.missing.length ? `: needs ${l.missing.join(', ')}` : ''}`);
    }
    process.stdout.write(lines.join('\n') + '\n');
    return ok ? 0 : 3;
  },
};
