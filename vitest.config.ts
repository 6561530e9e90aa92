import { defineConfig } from 'vitest/config';

/** How much slower than this machine the tests run (a VM in software emulation: 8); every timeout is multiplied. */
const TIME_SCALE = Number(process.env.NETLAB_TEST_TIME_SCALE) > 0 ? Number(process.env.NETLAB_TEST_TIME_SCALE) : 1;

export default defineConfig({
  test: {
    // A guard against hangs, not a bound on speed: with both cores busy, a test that runs a lab four times took
    // over 60 s, and a test cut off by its timeout skips its own `finally` (a lab it brought up stays up).
    // NETLAB_TEST_TIME_SCALE (scripts/test-kernel: the VM's software emulation is 6-9x slower) stretches both.
    testTimeout: 300_000 * TIME_SCALE,
    hookTimeout: 300_000 * TIME_SCALE,
    // `npm run test:kernel` runs the tests tagged `kernel` (--tags-filter kernel) in a VM on a stock kernel.
    tags: [{ name: 'kernel', description: 'needs kernel features the machines here may lack (dummy, ipvlan, 802.1Q vlan, netem): `npm run test:kernel` runs these in a VM on Debian\'s stock kernel' }],
    // e2e files build real namespaces; two at a time is plenty on 2 cores.
    maxWorkers: 2,
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      { extends: true, test: { name: 'main', globalSetup: ['test/global-setup.ts'], include: ['test/**/*.test.ts'], exclude: ['test/e2e/exclusive/**'], sequence: { groupOrder: 0 } } },
      // Tests that run `netlab cleanup` (which removes every idle netlab instance) run alone, after the rest.
      { extends: true, test: { name: 'exclusive', globalSetup: ['test/global-setup.ts'], include: ['test/e2e/exclusive/**/*.test.ts'], sequence: { groupOrder: 1 } } },
    ],
  },
});
