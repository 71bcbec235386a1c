// Vitest for `stryker.engine.config.mjs`: the test files that exercise the engine in process, all on
// SwiftShader and under 20 s a file (test/fused-training.test.ts is the slowest): gradients
// (gradients-f64 in float64 references, nn-gradients, gradient-forms, extreme-logits), layers
// (layers-text, initializers), training (engine, fused-training, nn-model, splitting, row-sparse,
// best-search, recipes, public-api), the files a model writes (backup, model-save, tfjs-export), and
// the edge files written from the first runs' survivors (callbacks, ops, parameter-store, layers,
// execution, fused-training, model a to c).
// Left out: the kernel suites (they test src/kernels, which these modules call, not these modules),
// the out-of-process tests (stryker.vitest.config.ts), test/large-inputs.test.ts (only under $IMDB_NPZ).
import { defineConfig } from 'vitest/config';
import base from './stryker.kernels.vitest.config.js';

export const ENGINE_TESTS = [
  'test/gradients-f64.test.ts',
  'test/nn-gradients.test.ts',
  'test/gradient-forms.test.ts',
  'test/extreme-logits.test.ts',
  'test/layers-text.test.ts',
  'test/initializers.test.ts',
  'test/engine.test.ts',
  'test/fused-training.test.ts',
  'test/nn-model.test.ts',
  'test/splitting.test.ts',
  'test/row-sparse.test.ts',
  'test/best-search.test.ts',
  'test/recipes.test.ts',
  'test/public-api.test.ts',
  'test/backup.test.ts',
  'test/model-save.test.ts',
  'test/tfjs-export.test.ts',
  'test/callbacks-edges.test.ts',
  'test/ops-edges.test.ts',
  'test/parameter-store.test.ts',
  'test/layers-edges.test.ts',
  'test/execution-edges.test.ts',
  'test/fused-training-edges.test.ts',
  'test/model-edges-a.test.ts',
  'test/model-edges-b.test.ts',
  'test/model-edges-c.test.ts',
];

// Not mergeConfig: it would append this list to the base config's `include` instead of replacing it.
export default defineConfig({ ...base, test: { ...base.test, include: ENGINE_TESTS } });
