/**
 * `model.save()` and `Sequential.load()`: a trained model goes through the model file (.sgm) and
 * comes back predicting the same probabilities bit for bit, its architecture rebuilt from Keras'
 * configs; a damaged file and weights that do not fit are refused with a typed error.
 */
import { describe, expect, it } from 'vitest';
import { Conv1D, Dense, Dropout, Embedding, GlobalAveragePooling1D, GlobalMaxPooling1D } from '../src/nn/layers.js';
import { ModelFileError } from '../src/nn/model-file.js';
import { Sequential } from '../src/nn/model.js';
import { syntheticReviews, useGpu } from './gpu-helpers.js';

const data = syntheticReviews(96, 5, { vocab: 120, steps: 12, minLength: 3, highFrom: 60, skewed: true });

describe('model files', () => {
  const gpu = useGpu();

  it('saves a trained model and loads it back: same architecture, weights and predictions', async () => {
    for (const layers of [
      () => [new Embedding(120, 8), new Dropout(0.3), new GlobalAveragePooling1D(), new Dense(4, { activation: 'relu' }), new Dense(1, { activation: 'sigmoid' })],
      () => [new Embedding(120, 6, { maskZero: true }), new Conv1D(5, 3, { padding: 'same', activation: 'relu' }), new GlobalMaxPooling1D(), new Dense(1, { activation: 'sigmoid' })],
    ]) {
      const m = new Sequential(layers());
      m.build(gpu(), [12], { seed: 3 });
      m.compile({ optimizer: 'adam' });
      await m.fit(data.x, data.y, { epochs: 2, batchSize: 16, verbose: 0 });
      const bytes = await m.save();
      const { model, vectorizer } = Sequential.load(gpu(), bytes);
      expect(vectorizer).toBeNull();
      expect(model.layers.map((l) => l.getConfig())).toEqual(m.layers.map((l) => l.getConfig()));
      expect(model.weightNames).toEqual(m.weightNames);
      const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');
      expect(bits(await model.predict(data.x))).toBe(bits(await m.predict(data.x)));
      // A flipped byte anywhere is refused; so are weights of another architecture.
      const damaged = bytes.slice();
      damaged[Math.floor(bytes.length / 2)] ^= 1;
      expect(() => Sequential.load(gpu(), damaged, 'damaged.sgm')).toThrow(/damaged.sgm: .*(CRC|checksum)/i);
      const description = await m.describe();
      description.weights[0] = { ...description.weights[0], shape: [7, 7], values: new Float32Array(49) };
      expect(() => Sequential.load(gpu(), description, 'other.sgm')).toThrow(ModelFileError);
    }
  });

  it('quotes hostile config values in bounded, one-line messages (a deep or huge value is never serialised)', async () => {
    const m = new Sequential([new Embedding(20, 4), new GlobalAveragePooling1D(), new Dense(1, { activation: 'sigmoid' })]);
    m.build(gpu(), [6]);
    let deep: unknown = 1;
    for (let i = 0; i < 300_000; i++) deep = [deep];
    for (const units of [deep, 'x'.repeat(5_000_000), { a: 1 }]) {
      const description = await m.describe();
      description.architecture[2] = { className: 'Dense', config: { ...description.architecture[2].config, units } };
      const error = (() => {
        try {
          Sequential.load(gpu(), description, 'hostile.sgm');
        } catch (e) {
          return e as Error;
        }
      })();
      expect(error?.message).toMatch(/units must be an integer/);
      expect(error!.message.length).toBeLessThanOrEqual(1000);
      expect(error!.message).not.toContain('\n');
    }
  });
});
