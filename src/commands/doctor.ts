// `doctor`: can this machine build labs? Privileges, tools with versions, and the apt-get line for what is missing.
import { run } from '../runner/exec.js';
import { aptLine, capabilities, TOOLS, which } from '../runner/preflight.js';
import { green, red, yellow } from '../report/color.js';
import { useColor } from '../report/color.js';
import { printJson, type Command } from './common.js';

export const doctorCommand: Command<{ json: boolean }> = {
  builder: (y) => y.option('json', { type: 'boolean', default: false }) as never,
  handler: async (a) => {
    const caps = capabilities();
    const tools = await Promise.all(
      TOOLS.map(async (t) => {
        const path = which(t.cmd);
        let version: string | undefined;
        if (path) {
          const r = await run(t.version, { timeoutMs: 5000 });
          version = (r.stdout + r.stderr).split('\n').find((l) => l.trim())?.trim();
        }
        return { ...t, path, version };
      }),
    );
    const missing = tools.filter((t) => !t.path);
    const missingRequired = missing.filter((t) => t.required);
    const privileged = caps.netAdmin && caps.sysAdmin;
    const node = process.versions.node;
    const nodeOk = (() => {
      const [maj = 0, min = 0] = node.split('.').map(Number);
      return maj > 20 || (maj === 20 && min >= 19);
    })();
    if (a.json) {
      printJson({ privileged, root: caps.root, node, nodeOk, tools: tools.map(({ cmd, pkg, path, version, required }) => ({ cmd, pkg, path, version, required })), install: missing.length ? aptLine(missing) : null });
    } else {
      const c = useColor(process.stdout);
      const mark = (ok: boolean, optional = false) => (ok ? green(c, '✔') : optional ? yellow(c, '-') : red(c, '✘'));
      const lines = [
        `${mark(privileged)} privileges: ${privileged ? (caps.root ? 'root' : 'CAP_NET_ADMIN and CAP_SYS_ADMIN') : 'needs root (CAP_NET_ADMIN + CAP_SYS_ADMIN) to build labs'}`,
        `${mark(nodeOk)} node ${node}${nodeOk ? '' : ' (netlab needs >= 20.19)'}`,
        ...tools.map((t) => `${mark(!!t.path, !t.required)} ${t.cmd.padEnd(8)} ${t.path ? `${t.version ?? ''}` : `missing (package ${t.pkg}) — ${t.why}${t.required ? '' : ', optional for now'}`}`),
      ];
      if (missing.length) lines.push('', `install: ${aptLine(missing)}`);
      process.stdout.write(lines.join('\n') + '\n');
    }
    return privileged && nodeOk && !missingRequired.length ? 0 : 3;
  },
};
