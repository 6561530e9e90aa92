// --sandbox file system (runner/runtime.ts, the supervisor's script): inside the sandbox the host's file system is
// read-only except the instance's work directory (/run/netlab/<instance>, shared with netlab on the host) and a
// private /tmp; a node's own net.* sysctls and /dev/net/tun still work.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ROOT, describeLab, itRootOnly, netlab, tempDir, results, STATE, UNPRIVILEGED } from './helpers.js';


describeLab('--sandbox: read-only host file system', () => {
  const dir = tempDir('netlab-sandbox-fs-');

  it('a boxed check cannot write outside the work directory; the work directory, /tmp, net sysctls and /dev/net/tun work', async () => {
    const id = 'e2e-sbx-fs';
    const tag = `netlab-rofs-${process.pid}`;
    // Paths a hostile check might write to, on the host: none may appear.
    const outside = [`/etc/${tag}`, `/root/${tag}`, join(ROOT, tag), join(dir, tag), `/run/${tag}`, `/var/tmp/${tag}`];
    const work = `${STATE}/${id}`;
    const lab = join(dir, 'fs.yaml');
    const cmd = (name: string, shell: string) => `  - { kind: cmd, name: ${name}, node: a, shell: ${JSON.stringify(shell)} }`;
    writeFileSync(
      lab,
      [
        'name: fs',
        'nodes:',
        '  a: {}',
        'checks:',
        ...outside.map((p, i) => cmd(`outside-${i}`, `touch ${p}`)),
        // Writing back the value already there: harmless on the host even if it got through.
        cmd('host-sysctl', 'v=$(cat /proc/sys/vm/swappiness) && echo $v > /proc/sys/vm/swappiness'),
        cmd('remount-dir', `mkdir ${join(ROOT, tag)}`),
        // Root in the box cannot undo the read-only mounts: they are locked (remount and unmount refused).
        cmd('remount-rw', `mount -o remount,rw / ; umount -l /etc ; touch /etc/${tag}`),
        cmd('work-dir', `echo from-the-lab > ${work}/${tag} && cat ${work}/${tag}`),
        cmd('tmp', `echo private > /tmp/${tag} && cat /tmp/${tag} && ! test -e ${dir}`),
        cmd('node-sysctl', 'sysctl -w net.ipv4.ip_forward=1 && test "$(cat /proc/sys/net/ipv4/ip_forward)" = 1'),
        cmd('tun', 'exec 3<>/dev/net/tun && echo opened'),
      ].join('\n') + '\n',
    );
    const up = await netlab(['up', lab, '-i', id, '--sandbox', '--check', '-f', 'json', '-q']);
    try {
      expect(up.exitCode, up.stdout + up.stderr).toBe(1);
      const got = results(up.stdout);
      const byName = Object.fromEntries(got.map((r) => [r.name, r]));
      for (const i of outside.keys()) {
        // Unprivileged, the box's root is the user, who owns the box's private tmpfs on /run: writing there works and
        // stays in the box (no such file appears on the host, asserted below).
        if (UNPRIVILEGED && outside[i]!.startsWith('/run/')) continue;
        expect(byName[`outside-${i}`]?.got, `touch ${outside[i]}`).toBe('fail');
        // The box's root is not the host's (BOX_UID, or the user): the host's own permissions come first where it had
        // none to begin with (/root).
        expect(byName[`outside-${i}`]?.evidence?.stderr).toMatch(/Read-only file system|No such file or directory|Permission denied/);
      }
      expect(byName['outside-0']?.evidence?.stderr).toContain('Read-only file system');
      expect(byName['host-sysctl']?.got).toBe('fail');
      expect(byName['remount-dir']?.got).toBe('fail');
      expect(byName['remount-rw']?.got).toBe('fail');
      expect(byName['remount-rw']?.evidence?.stderr).toMatch(/permission denied|not permitted/i);
      // tun: /dev/net/tun is root's alone (0600) here, and a user's box does not replace it.
      for (const ok of ['work-dir', 'tmp', 'node-sysctl', ...(UNPRIVILEGED ? [] : ['tun'])]) expect(byName[ok]?.got, `${ok}: ${byName[ok]?.evidence?.stderr}`).toBe('pass');
      // The lab's file is in the host's work directory; nothing it tried outside is on the host.
      expect(readFileSync(`${work}/${tag}`, 'utf8')).toBe('from-the-lab\n');
      expect(outside.filter((p) => existsSync(p))).toEqual([]);
      expect(existsSync(`/tmp/${tag}`)).toBe(false);
    } finally {
      const down = await netlab(['down', id]);
      expect(down.exitCode, down.stderr).toBe(0);
    }
    expect(existsSync(work)).toBe(false);
  });

  it("netlab on the host follows nothing a boxed lab plants in its run directory: a symlink or a FIFO under a log's name is an error", async () => {
    const tag = `netlab-planted-${process.pid}`;
    // Host paths the planted symlinks point at (the box's /tmp is its own: only netlab on the host would reach these).
    const victims = ['services', 'dns'].map((k) => `/tmp/${tag}-${k}`);
    const lab = (name: string, id: string, plant: string) => {
      const file = join(dir, `${name}.yaml`);
      writeFileSync(
        file,
        [
          `name: ${name}`,
          'nodes:',
          '  a: {}',
          'checks:',
          `  - { kind: cmd, name: plant, node: a, shell: ${JSON.stringify(plant.replaceAll('$W', `${STATE}/${id}`))} }`,
          'steps:',
          '  - name: serve',
          '    nodes:',
          '      a: { services: [{ kind: http, port: 80 }, { kind: dns, port: 53, records: { www.lab.test: 192.0.2.1 } }] }',
          '    checks:',
          '      - { kind: cmd, name: after, node: a, argv: ["true"] }',
        ].join('\n') + '\n',
      );
      return file;
    };
    const [links, fifo] = await Promise.all([
      netlab(['run', lab('plant-links', 'e2e-sbx-plant', `ln -s ${victims[0]} $W/a.services.log && ln -s ${victims[1]} $W/a.dns53.dnsmasq.log`), '-i', 'e2e-sbx-plant', '--sandbox', '-f', 'json', '-q']),
      // A FIFO: netlab would block for ever opening it (no reader), its timers dead with it.
      netlab(['run', lab('plant-fifo', 'e2e-sbx-fifo', 'mkfifo $W/a.services.log'), '-i', 'e2e-sbx-fifo', '--sandbox', '-f', 'json', '-q']),
    ]);
    expect(links.exitCode, links.stderr).toBe(3);
    expect(links.stderr).toContain('is a symlink');
    expect(victims.filter((v) => existsSync(v))).toEqual([]);
    expect(fifo.exitCode, fifo.stderr).toBe(3);
    expect(fifo.stderr).toContain('not a regular file');
    for (const id of ['e2e-sbx-plant', 'e2e-sbx-fifo']) expect(existsSync(`${STATE}/${id}`)).toBe(false);
  });

  it('a boxed check sees a read-only /sys, cannot open a device node it makes, and a check printing without end is stopped', async () => {
    const id = 'e2e-sbx-sysfs';
    const lab = join(dir, 'sysfs.yaml');
    const cmd = (name: string, shell: string) => `  - { kind: cmd, name: ${name}, node: a, shell: ${JSON.stringify(shell)} }`;
    writeFileSync(
      lab,
      [
        'name: sysfs',
        'nodes:',
        '  a: {}',
        'checks:',
        // `ip netns exec` mounts the node's sysfs read-write whenever it can unmount the /sys it finds: the host's
        // kernel settings (/sys/kernel, /sys/module, /sys/power…) were writable. test -w asks without writing.
        cmd('sys-writable', 'test -w /sys/kernel'),
        cmd('sys-node', 'ls /sys/class/net | sort | tr "\\n" ,'),
        // /dev/null's numbers: harmless even if the open got through.
        cmd('mknod', `mknod ${STATE}/${id}/null c 1 3 && echo x > ${STATE}/${id}/null`),
        cmd('endless', 'yes'),
      ].join('\n') + '\n',
    );
    const r = await netlab(['run', lab, '-i', id, '--sandbox', '-f', 'json', '-q']);
    expect(r.exitCode, r.stderr).toBe(1);
    const byName = Object.fromEntries(results(r.stdout).map((x) => [x.name, x]));
    expect(byName['sys-writable']?.got).toBe('fail');
    expect(byName['sys-node']?.got).toBe('pass');
    expect(byName['sys-node']?.evidence?.stdout).toBe('lo,');
    expect(byName['mknod']?.got).toBe('fail');
    // nodev on the work directory (the open is refused), or no CAP_MKNOD at all (a user namespace).
    expect(byName['mknod']?.evidence?.stderr).toMatch(/Permission denied|Operation not permitted/);
    expect(byName['endless']?.got).toBe('fail');
    expect(byName['endless']?.evidence?.stderr).toContain('its output went over');
    expect(r.stdout.length).toBeLessThan(16 * 1024 ** 2);
  });

  itRootOnly('--pcap: tcpdump calls setgroups, which an unprivileged box denies (refused before building)')('--evidence --pcap of a boxed run: the capture lands in the evidence folder', async () => {
    const ev = join(dir, 'evidence');
    const lab = join(dir, 'miss.yaml');
    writeFileSync(
      lab,
      'name: miss\nnodes:\n  a: {}\n  b: {}\nlinks:\n  - endpoints: [{ at: "a:eth0", address: 192.0.2.1/24 }, { at: "b:eth0", address: 192.0.2.2/24 }]\n' +
        'checks:\n  - { kind: ping, name: unreachable, from: a, to: 198.51.100.7 }\n',
    );
    const r = await netlab(['run', lab, '-i', 'e2e-sbx-fs-pcap', '--sandbox', '--evidence', ev, '--pcap', '-f', 'json', '-q']);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(results(r.stdout).map((x) => x.got)).toEqual(['fail']);
    const pcaps = readdirSync(ev, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('capture.pcap'));
    expect(pcaps.length, readdirSync(ev, { recursive: true, encoding: 'utf8' }).join(' ')).toBe(1);
    // A pcap file: the magic number, then at least the header.
    const head = readFileSync(join(ev, pcaps[0] as string));
    expect(head.length).toBeGreaterThanOrEqual(24);
    expect(head.readUInt32LE(0)).toBe(0xa1b2c3d4);
  });
});
