// StrykerJS over the text pipeline and the model's file formats, against their in-process tests:
//   npm run test:mutation -- stryker.files.config.mjs --mutate src/data/text-table.ts
// Modules: src/data/{text-table,text-vectorization,text-datasets}.ts and
// src/nn/{weights-file,model-file,tfjs-export,backup}.ts. As stryker.data.config.mjs: only the test
// files stryker.files.vitest.config.ts lists run, so a mutant only another test would kill counts as
// survived (a score can be understated, never overstated). Same incremental file as the others.
import base from './stryker.config.mjs';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...base,
  vitest: { ...base.vitest, configFile: 'stryker.files.vitest.config.ts' },
  mutate: [
    'src/data/text-table.ts',
    'src/data/text-vectorization.ts',
    'src/data/text-datasets.ts',
    'src/nn/weights-file.ts',
    'src/nn/model-file.ts',
    'src/nn/tfjs-export.ts',
    'src/nn/backup.ts',
  ],
  // The slowest of these files takes seconds (test/text-datasets.test.ts's full-corpus split, 7 s
  // when shared/data has the raw texts); a mutant that loops forever costs 10 s more, not 2 min.
  timeoutMS: 10_000,
};
