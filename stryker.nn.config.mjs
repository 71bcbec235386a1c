// StrykerJS over src/nn/callbacks.ts and src/nn/progress.ts:
// `npm run test:mutation -- stryker.nn.config.mjs --mutate src/nn/callbacks.ts,src/nn/progress.ts`,
// and over the modules of src/nn/optimizers/ the same way (schedules.ts, validation.ts; sgd.ts, adam.ts,
// adamw.ts, lazy-adam.ts, rmsprop.ts, adagrad.ts, index.ts, optimizer.ts).
// As stryker.kernels.config.mjs, with only the test files that use these modules directly
// (stryker.nn.vitest.config.ts lists them and says why).
import kernels from './stryker.kernels.config.mjs';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...kernels,
  vitest: { ...kernels.vitest, configFile: 'stryker.nn.vitest.config.ts' },
};
