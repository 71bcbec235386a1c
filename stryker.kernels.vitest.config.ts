// Vitest for the StrykerJS runs over the small kernel wrappers (stryker.kernels.config.mjs):
// stryker.vitest.config.ts with the 2-D dispatch tests at 8,000 invocations instead of ~16.8 M
// (test/stryker/gpu-helpers.ts says why). With `related: true` every test file importing a
// mutated module runs (through src/nn, nearly the whole GPU suite).
//
// The runs of 1 December 2026 used an earlier version that meant to keep only the kernels' own
// test files with `test: { include: [...] }`; Vite's mergeConfig appends arrays, so that list was
// added to the base `include` and every test file ran, the out-of-process ones too (which cannot
// see a mutant: they only cost time).
import { fileURLToPath } from 'node:url';
import { defineConfig, mergeConfig } from 'vitest/config';
import base from './stryker.vitest.config.js';

export default mergeConfig(
  base,
  defineConfig({
    resolve: { alias: [{ find: /^\.\/gpu-helpers\.js$/, replacement: fileURLToPath(new URL('./test/stryker/gpu-helpers.ts', import.meta.url)) }] },
  }),
);
