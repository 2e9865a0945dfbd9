import { defineConfig } from 'vitest/config';

/**
 * Two projects. Unit and property tests run in parallel. Integration and end-to-end tests
 * start real processes (the built CLI, a fake AWS, Prometheus): they run one file at a time,
 * after the unit tests, so that they never compete with each other for the CPU.
 */
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // The SDK's nine-line notice about Node 20 (see src/cli.ts).
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
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
