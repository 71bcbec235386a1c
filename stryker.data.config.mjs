// StrykerJS over the data readers (and helpers: random-state.ts, text.ts) with their CPU tests alone:
//   npm run test:mutation -- stryker.data.config.mjs --mutate src/data/zip.ts
// The base config (stryker.config.mjs) with `related: true` would also run every GPU test file that
// imports a module importing these readers (src/index.ts, src/nn/weights-file.ts, the runners), and
// its dry run alone takes hours on a 2-core machine with SwiftShader. Here only the test files in
// stryker.data.vitest.config.ts run. A mutant that only a GPU or out-of-process test would kill
// survives here, so this config can understate a module's score, never overstate it.
// Same incremental file as the base config, so results accumulate across both.
import base from './stryker.config.mjs';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...base,
  vitest: { ...base.vitest, configFile: 'stryker.data.vitest.config.ts' },
  mutate: ['src/data/zip.ts', 'src/data/imdb.ts', 'src/data/pickle.ts'],
  // The base's 120 s is for GPU tests; these take seconds, and a mutant that loops forever (a
  // reader's scan made to run backwards) would cost minutes each. A mutant slowed past this times
  // out, which Stryker counts as detected, as it does with the base's margin.
  timeoutMS: 10_000,
};
