// scripts/kernel-vm's module resolution: what goes into the VM's initramfs, in the order insmod needs.
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain JavaScript script without types
import { loadOrder } from '../../../scripts/kernel-vm';

const DEP = [
  'kernel/drivers/net/dummy.ko:',
  'kernel/net/8021q/8021q.ko: kernel/net/802/garp.ko kernel/net/802/stp.ko kernel/net/llc/llc.ko',
  'kernel/net/802/garp.ko: kernel/net/802/stp.ko kernel/net/llc/llc.ko',
  'kernel/net/802/stp.ko: kernel/net/llc/llc.ko',
  'kernel/net/llc/llc.ko:',
  'kernel/lib/libcrc32c.ko:',
  'kernel/crypto/crc32c_generic.ko:',
  'kernel/drivers/char/hw_random/virtio-rng.ko:',
].join('\n');

describe('kernel-vm loadOrder', () => {
  it('puts dependencies first, once; soft dependencies through aliases; built-ins need nothing; names "-" or "_"', () => {
    const { order, missing } = loadOrder(['8021q', 'dummy', 'ipv6', 'libcrc32c', 'virtio_rng', 'stp', 'nosuch'], {
      dep: DEP,
      builtin: 'kernel/net/ipv6/ipv6.ko\n',
      alias: 'alias crc32c crc32c_generic\n',
      softdeps: (p: string) => (p.endsWith('libcrc32c.ko') ? ['crc32c'] : []),
    });
    expect(order).toEqual([
      'kernel/net/llc/llc.ko', 'kernel/net/802/stp.ko', 'kernel/net/802/garp.ko', 'kernel/net/8021q/8021q.ko',
      'kernel/drivers/net/dummy.ko', 'kernel/crypto/crc32c_generic.ko', 'kernel/lib/libcrc32c.ko',
      'kernel/drivers/char/hw_random/virtio-rng.ko',
    ]);
    expect(missing).toEqual(['nosuch']);
  });
});
