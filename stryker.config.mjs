// StrykerJS over the engine's TypeScript: `npm run test:mutation` (not in CI: a full run is hours
// on a 2-core machine; see README, "Mutation testing"). Incremental: a run reuses the results of
// the last for every mutant whose code and covering tests did not change.
// `npm run test:mutation -- --mutate src/data/sequences.ts` runs one module.
import { existsSync } from 'node:fs';

// Stryker's vitest runner runs tests in worker threads, where src/gpu/device.ts setting
// process.env.VK_ICD_FILENAMES does not reach the native Vulkan loader (a thread's env is a copy):
// SwiftShader must be named in the real environment, before the runners start.
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json'; // as src/gpu/device.ts
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  // Only the test files that import a mutated file run, and per mutant only the tests covering it.
  vitest: { configFile: 'stryker.vitest.config.ts', related: true },
  coverageAnalysis: 'perTest',
  checkers: ['typescript'],
  // The checker compiles src alone, so unfinished work elsewhere (bench, scripts) cannot fail a run.
  tsconfigFile: 'stryker.tsconfig.json',
  mutate: ['src/data/**/*.ts', 'src/kernels/**/*.ts', 'src/nn/**/*.ts'],
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  // SwiftShader and Chromium want every core (vitest.config.ts runs one file at a time too).
  concurrency: 1,
  timeoutMS: 120_000,
  // Mutants in module-level constants would need every test re-run: Stryker's ignoreStatic.
  ignoreStatic: true,
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
