// StrykerJS over the engine: src/nn/{ops,parameter-store,layers,execution,fused-training,model}.ts,
//   npm run test:mutation -- stryker.engine.config.mjs --mutate src/nn/ops.ts
// one module a run (each records its results when it ends). As stryker.kernels.config.mjs, with only
// the GPU test files stryker.engine.vitest.config.ts lists: the ones that build models, train them
// and check their gradients. A mutant only another test would kill counts as survived, so a score
// can be understated, never overstated. Same incremental file as the others.
import kernels from './stryker.kernels.config.mjs';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...kernels,
  vitest: { ...kernels.vitest, configFile: 'stryker.engine.vitest.config.ts' },
  // Each of these tests takes under 3 s on SwiftShader; a mutant that hangs a training loop costs
  // 30 s more than its tests took in the dry run, not 2 min.
  timeoutMS: 30_000,
};
