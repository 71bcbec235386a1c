/**
 * The engine through the public API a user imports (the built `dist/node.js`, made by `npm test`'s
 * build step; run `npm run build` first when running this file alone): three text models other than
 * the tutorial's each train on captured steps with each of the five Keras optimizers, as classes and
 * by name, on a small synthetic task.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticReviews } from './gpu-helpers.js';

type Api = typeof import('../src/node.js');
const BUNDLE = new URL('../dist/node.js', import.meta.url);

const VOCAB = 200;
const STEPS = 16;
const reviews = (samples: number, seed: number) => syntheticReviews(samples, seed, { vocab: VOCAB, steps: STEPS, minLength: 4, highFrom: VOCAB / 2, skewed: true });
const train = reviews(160, 1);
const val = reviews(48, 2);

describe('the public API (dist/node.js)', () => {
  let api: Api;
  let gpu: InstanceType<Api['Gpu']>;
  beforeAll(async () => {
    if (!existsSync(BUNDLE)) throw new Error('dist/node.js is missing: run `npm run build` (npm test builds it first)');
    api = (await import(BUNDLE.href)) as Api;
    gpu = await api.Gpu.create();
  });
  afterAll(() => gpu?.device.destroy());

  const models: Record<string, (a: Api) => InstanceType<Api['Layer']>[]> = {
    'Embedding -> Dropout -> GlobalAveragePooling1D -> Dropout -> Dense(1, sigmoid)': (a) => [
      new a.Embedding(VOCAB, 8),
      new a.Dropout(0.2),
      new a.GlobalAveragePooling1D(),
      new a.Dropout(0.2),
      new a.Dense(1, { activation: 'sigmoid' }),
    ],
    'Embedding -> Conv1D(relu) -> GlobalMaxPooling1D -> Dense(1, sigmoid)': (a) => [
      new a.Embedding(VOCAB, 8),
      new a.Conv1D(8, 3, { activation: 'relu' }),
      new a.GlobalMaxPooling1D(),
      new a.Dense(1, { activation: 'sigmoid' }),
    ],
    'Embedding -> Dense(8, relu) -> GlobalAveragePooling1D -> Dense(1, sigmoid)': (a) => [
      new a.Embedding(VOCAB, 8),
      new a.Dense(8, { activation: 'relu' }),
      new a.GlobalAveragePooling1D(),
      new a.Dense(1, { activation: 'sigmoid' }),
    ],
  };
  /** The five Keras optimizers, as the classes the bundle exports, at rates that learn this task in a few epochs. */
  const tuned = (a: Api) => ({
    sgd: new a.SGD({ learningRate: 0.5, momentum: 0.9 }),
    rmsprop: new a.RMSprop({ learningRate: 0.01 }),
    adam: new a.Adam({ learningRate: 0.02 }),
    adamw: new a.AdamW({ learningRate: 0.02 }),
    adagrad: new a.Adagrad({ learningRate: 0.2 }),
  });

  for (const [name, layers] of Object.entries(models)) {
    it(`trains ${name} with SGD, RMSprop, Adam, AdamW and Adagrad, as classes and by name`, async () => {
      for (const [key, optimizer] of Object.entries(tuned(api))) {
        const m = new api.Sequential(layers(api));
        m.build(gpu, [STEPS], { seed: 4 });
        m.compile({ optimizer });
        const { loss, val_accuracy } = (await m.fit(train.x, train.y, { epochs: 6, batchSize: 32, validationData: [val.x, val.y], verbose: 0, seed: 7 })).history;
        expect(m.execution, key).toBe('captured');
        expect(loss.at(-1)!, `${key} loss`).toBeLessThan(loss[0] - 0.05);
        expect(val_accuracy.at(-1)!, `${key} val_accuracy`).toBeGreaterThan(0.75);
        // By name, with Keras' defaults: it runs and moves the weights.
        const byName = new api.Sequential(layers(api));
        byName.build(gpu, [STEPS], { seed: 4 });
        byName.compile({ optimizer: key as 'adam' });
        const before = (await byName.getWeights()).map((w) => Array.from(w));
        const once = await byName.fit(train.x, train.y, { epochs: 1, batchSize: 32, verbose: 0 });
        expect(byName.compiledOptimizer!.name).toBe(key);
        expect(Number.isFinite(once.history.loss[0])).toBe(true);
        expect((await byName.getWeights()).map((w) => Array.from(w))).not.toEqual(before);
      }
    });
  }
});
