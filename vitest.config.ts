import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // GPU tests on SwiftShader and the full-file end-to-end test are slow on 2 cores.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
