// StrykerJS over the small kernel wrappers with their own tests only (stryker.kernels.vitest.config.ts
// says which, and why): `npm run test:mutation -- stryker.kernels.config.mjs --mutate ...`.
// Everything else as stryker.config.mjs (the same incremental file and reports).
import base from './stryker.config.mjs';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...base,
  vitest: { ...base.vitest, configFile: 'stryker.kernels.vitest.config.ts' },
  // The dry run of these GPU files (2-D dispatches of ~16.8 M invocations among them) takes longer
  // than Stryker's default 5 min on 2 shared cores.
  dryRunTimeoutMinutes: 40,
};
