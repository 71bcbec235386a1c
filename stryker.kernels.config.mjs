// StrykerJS over the small kernel wrappers with their own tests only (stryker.kernels.vitest.config.ts
// says which, and why): `npm run test:mutation -- stryker.kernels.config.mjs --mutate ...`.
// Everything else as stryker.config.mjs (the same incremental file and reports).
import base from './stryker.config.mjs';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...base,
  vitest: { ...base.vitest, configFile: 'stryker.kernels.vitest.config.ts' },
};
