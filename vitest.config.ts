import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // A guard against hangs, not a bound on speed: with both cores busy, a test that runs a lab four times took
    // over 60 s, and a test cut off by its timeout skips its own `finally` (a lab it brought up stays up).
    testTimeout: 300_000,
    hookTimeout: 300_000,
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
