// Vitest for `stryker.data.config.mjs`: only the CPU tests of the data readers (src/data/zip.ts,
// pickle.ts, imdb.ts, npy.ts, ...) and of the data helpers beside them (random-state.ts, text.ts,
// ngrams.ts). With the whole suite, `related: true` also pulls in every GPU
// test file, because these readers' importers (src/index.ts, src/nn/weights-file.ts, the runners)
// are imported by them, and the dry run alone then takes hours on SwiftShader.
import { defineConfig } from 'vitest/config';
import base from './stryker.vitest.config.js';

/**
 * CPU-only, in-process test files that exercise the data readers and helpers (no GPU, no child
 * process running our code). test/text-datasets.test.ts (textDatasetFromDirectory's seeded
 * shuffle and split, RandomState against numpy) extracts the raw IMDB tarball with `tar` when
 * shared/data has it, but the splitting and shuffling it checks run in-process.
 * test/ngrams.test.ts checks ngrams.ts against Keras' imdb_fasttext.py fixtures (its full-imdb.npz
 * case is skipped unless $IMDB_NPZ is set), test/ngrams-edges.test.ts against oracles written in
 * it (Keras' create_ngram_set/add_ngram, fastText's addWordNgrams in BigInt); the other files importing ngrams.ts (pages, recipes,
 * best-search) use the GPU and are left out.
 * Left out: test/fuzz.test.ts (each reader's 2,500-case loop costs seconds per mutant, and nearly
 * every mutant in a reader is covered by it: a run over pickle.ts would take hours), and
 * test/hostile-bounds.test.ts (it loads its files in a child process, where no mutant is active).
 */
export const DATA_CPU_TESTS = [
  'test/zip.test.ts',
  'test/zip-edges.test.ts',
  'test/pickle.test.ts',
  'test/pickle-edges.test.ts',
  'test/npy.test.ts',
  'test/npy-edges.test.ts',
  'test/imdb.test.ts',
  'test/imdb-edges.test.ts',
  'test/hostile.test.ts',
  'test/sequences.test.ts',
  'test/sequences-edges.test.ts',
  'test/files.test.ts',
  'test/files-edges.test.ts',
  'test/errors.test.ts',
  'test/random-state.test.ts',
  'test/text.test.ts',
  'test/text-datasets.test.ts',
  'test/random-state-edges.test.ts',
  'test/text-edges.test.ts',
  'test/ngrams.test.ts',
  'test/ngrams-edges.test.ts',
];

// Not mergeConfig: it would append this list to the base config's `include` instead of replacing it.
export default defineConfig({ ...base, test: { ...base.test, include: DATA_CPU_TESTS } });
