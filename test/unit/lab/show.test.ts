// netlab show: everything a lab builds, per stage, and its checks marked as not yet run.
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadLabFile } from '../../../src/lab/load.js';
import { describeLab } from '../../../src/lab/show.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const FILES = ['labs', 'test/fixtures/labs'].flatMap((d) => readdirSync(join(ROOT, d)).filter((f) => f.endsWith('.yaml')).map((f) => `${d}/${f}`));

describe('describeLab', () => {
  it.each(FILES)('%s: every stage, every check with a neutral marker, no ✓', async (file) => {
    const lab = await loadLabFile(join(ROOT, file));
    const out = describeLab(lab);
    expect(out).not.toContain('✓');
    expect(out).toContain('Setup:');
    lab.stages.slice(1).forEach((s, i) => expect(out).toContain(`Step ${i + 1}: ${s.title}  (${s.name})`));
    const plain = lab.stages.flatMap((s) => s.checks).filter((c) => !c.matrix);
    for (const c of plain) expect(out).toContain(`• ${c.name} — ${c.kind} `);
    for (const m of lab.stages.flatMap((s) => s.matrices)) expect(out).toContain(`• matrix ${m.name}: `);
  });

  it('lists every kind of thing a lab builds, in the stage that adds it', async () => {
    const out = describeLab(await loadLabFile(join(ROOT, 'test/fixtures/labs/every-device.yaml')));
    const [setup, step] = out.split('Step 1: ');
    for (const line of [
      'bridge sw:br0 — ports p1, p2, p3, tap0',
      'macvlan c:mv0 on sw:br0 — mode bridge',
      'ipvlan b:iv0 on ext:eth0 — mode l2',
      'vlan sw:up.10 on up — id 10',
      'vxlan sw:vx0 over up — vni 42, remote 172.16.0.2, port 4789',
      'tap sw:tap0 — no carrier until a program opens it',
      'tun r:tun0 — no carrier until a program opens it',
      'dummy ext:d0',
      'r:wan ⇄ ext:eth0',
    ])
      expect(out).toContain(`  ${line}\n`);
    for (const line of [
      'address   sw:lo 10.255.0.1/32',
      'dhcp      b:eth0 gets its address by DHCP',
      'link      r:wan mtu 1400, netem delay 10ms loss 1%',
      'sysctl    r: net.ipv4.ip_forward = 1',
      'nat       r: masquerade src 192.168.10.0/24 out wan',
      'forward   r: dnat tcp/8080 in wan → 192.168.10.2:80',
      'firewall  r forward: policy drop, replies (established) accepted first',
      '            accept src 192.168.10.0/24',
      'dhcp      sw: dhcp server on br0: 192.168.10.100–192.168.10.200',
      'service   c: dns server :53 (www.lab.test → c)',
      '• ping a → 203.0.113.10 — ping a → 203.0.113.10, must fail (no-route)',
    ])
      expect(setup).toContain(`  ${line}\n`);
    expect(step).toContain('  route     a: default via 192.168.10.1\n');
    expect(step).toContain('  nat       r: snat to 203.0.113.1 src 10.9.0.0/24 out wan\n');
    expect(setup).not.toContain('snat');
  });
});
