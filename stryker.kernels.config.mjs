// StrykerJS over the small kernel wrappers: `npm run test:mutation -- stryker.kernels.config.mjs --mutate ...`.
// As stryker.config.mjs (the same incremental file and reports), with the 2-D dispatch tests made
// smaller (stryker.kernels.vitest.config.ts says how and why) and a longer limit on the dry run.
import base from './stryker.config.mjs';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...base,
  vitest: { ...base.vitest, configFile: 'stryker.kernels.vitest.config.ts' },
  // The dry run of the GPU suites these modules pull in takes longer than Stryker's default 5 min
  // on 2 shared cores.
  dryRunTimeoutMinutes: 40,
};
