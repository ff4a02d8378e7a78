import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/lib/**/*.test.ts', 'test/cli/**/*.test.ts', 'test/bench/**/*.test.ts'],
        },
      },
      { test: { name: 'simulator', include: ['test/simulator/**/*.test.ts'], testTimeout: 30_000 } },
      // The product and the simulator against real platform payloads; the simulator runs in process.
      { test: { name: 'contract', include: ['test/contract/**/*.test.ts'], testTimeout: 30_000 } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/globalSetup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
