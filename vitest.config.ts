import { defineConfig } from 'vitest/config';

/**
 * Unit and property tests run first, in parallel. Integration and end-to-end tests start real
 * processes (the built CLI, a fake AWS, Prometheus, Chromium) and wait for events, never for
 * time; they run after the unit tests, two files at a time: most of them spend their time
 * waiting (for AWS deadlines to pass, for Prometheus to refresh), so the waits overlap, and no
 * more than two files ever compete for the two cores. Where a test needs a deadline to pass,
 * the deadline is far above what an ordinary call takes even on a loaded machine.
 */
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // The SDK's nine-line notice about Node 20 (see src/cliMain.ts).
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts', 'test/property/**/*.test.ts'], sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          maxWorkers: 2,
          // Above every wait's own deadline (30 s), so that a stuck test fails with the log of what it waited for.
          testTimeout: 120_000,
          hookTimeout: 60_000,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
