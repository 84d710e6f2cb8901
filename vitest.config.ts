import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{app,main,renderer,broker,sandbox,infra,bench,scripts}/**/*.test.{ts,tsx}'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Sandbox-backed tests start real servers and shells; two workers suit a 2-core machine.
    maxWorkers: 2,
  },
});
