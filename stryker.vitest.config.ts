// Vitest for StrykerJS: the suite less the tests that run the built bundle in another process
// (a child Node or Chromium). Stryker switches mutants inside its own test process, so those
// tests can never see a mutant: they would only cost time (and they need dist/ and a browser).
import { configDefaults, defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

export const OUT_OF_PROCESS_TESTS = [
  'test/browser.test.ts',
  'test/cli.test.ts',
  'test/hostile-cli.test.ts',
  'test/package.test.ts',
  'test/pages-input.test.ts',
  'test/pages.test.ts',
  'test/resume-cli.test.ts',
];

export default mergeConfig(base, defineConfig({ test: { exclude: [...configDefaults.exclude, ...OUT_OF_PROCESS_TESTS] } }));
