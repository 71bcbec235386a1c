// Vitest for `stryker.files.config.mjs`: the in-process tests of the text pipeline
// (src/data/text-*.ts) and of the model's file formats (src/nn/{weights-file,model-file,tfjs-export,backup}.ts).
// CPU: text-vectorization (Keras' TextVectorization fixtures), text-datasets (Keras'
// text_dataset_from_directory split and shuffle, the raw IMDB texts when shared/data has them),
// text, model-file, hostile-weights and hostile-checkpoint (forged files against each reader's
// checks), and the edge files written from the first run's survivors (text-table, text-datasets,
// text-vectorization, tfjs-export, model-files). GPU, each under 2 s on SwiftShader: tfjs-export
// (round trips through TensorFlow.js), backup (interrupted runs resumed), model-save.
// Left out: test/cli-texts.test.ts and the page tests run the built bundle in another process,
// where no mutant is active; test/fuzz.test.ts costs seconds per mutant and its cases are the
// hostile tests' classes at random.
import { defineConfig } from 'vitest/config';
import base from './stryker.kernels.vitest.config.js';

export const FILES_TESTS = [
  'test/text.test.ts',
  'test/text-vectorization.test.ts',
  'test/text-datasets.test.ts',
  'test/model-file.test.ts',
  'test/hostile-weights.test.ts',
  'test/hostile-checkpoint.test.ts',
  'test/tfjs-export.test.ts',
  'test/backup.test.ts',
  'test/model-save.test.ts',
  'test/text-table-edges.test.ts',
  'test/text-datasets-edges.test.ts',
  'test/text-vectorization-edges.test.ts',
  'test/tfjs-export-edges.test.ts',
  'test/model-files-edges.test.ts',
];

// Not mergeConfig: it would append this list to the base config's `include` instead of replacing it.
export default defineConfig({ ...base, test: { ...base.test, include: FILES_TESTS } });
