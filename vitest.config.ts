import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [
    {
      // WGSL files are imported as text, as esbuild's text loader does in scripts/build.mjs.
      name: 'wgsl-as-text',
      load(id) {
        if (id.endsWith('.wgsl')) return `export default ${JSON.stringify(readFileSync(id, 'utf8'))};`;
      },
    },
  ],
  test: {
    include: ['test/**/*.test.ts'],
    // Small dispatches split over x and y too (test/setup.ts).
    setupFiles: ['test/setup.ts'],
    // GPU tests on SwiftShader and the full-file end-to-end test are slow on 2 cores.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // One file at a time: SwiftShader and Chromium each want every core, and files that
    // ran side by side slowed the browser pages twentyfold on a 2-core machine.
    fileParallelism: false,
  },
});
