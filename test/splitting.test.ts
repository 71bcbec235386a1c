/**
 * A model whose embedding table (and its Adam moments and gradient) is split over several
 * buffers, on the general path, against the same model unsplit: tensors past the binding limit
 * are split by rows (src/gpu/gpu.ts) and the kernels that meet them go chunk by chunk, so
 * training, evaluation, prediction and weights files must come out the same, bit for bit.
 */
import { describe, expect, it } from 'vitest';
import { Gpu } from '../src/gpu/gpu.js';
import { Dense, Embedding, GlobalAveragePooling1D } from '../src/nn/layers.js';
import { Sequential, type TokenMatrix } from '../src/nn/model.js';
import { Adam } from '../src/nn/optimizers/index.js';
import { useGpu, syntheticReviews } from './gpu-helpers.js';

const VOCAB = 2000;
const DIM = 8;
const STEPS = 16;
const BATCH = 16;
/**
 * The table [2000, 8] is 64,000 bytes: 8 chunks of 256 rows. The largest batch-sized tensor,
 * the embedding output [16, 16, 8], is 8,192 bytes: it still fits one binding.
 */
const MAX_BINDING_BYTES = 8192;

const reviews = (samples: number, seed: number) =>
  syntheticReviews(samples, seed, { vocab: VOCAB, steps: STEPS, minLength: 6, highFrom: VOCAB / 2, skewed: false });

const train = reviews(300, 1); // 18 batches of 16 and one of 12
const val = reviews(40, 2);

/** The tutorial's model, small; layers named so that weights files load across models. */
function model(gpu: Gpu, seed: number): { model: Sequential; adam: Adam } {
  const m = new Sequential([
    new Embedding(VOCAB, DIM, { name: 'embedding' }),
    new GlobalAveragePooling1D({ name: 'pooling' }),
    new Dense(16, { activation: 'relu', name: 'hidden' }),
    new Dense(1, { activation: 'sigmoid', name: 'output' }),
  ]);
  m.build(gpu, [STEPS], { seed });
  const adam = new Adam({ learningRate: 0.01 });
  m.compile({ optimizer: adam, jitCompile: false });
  return { model: m, adam };
}

const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function expectBitwiseEqual(actual: Float32Array[], expected: Float32Array[]): void {
  expect(actual.map((a) => a.length)).toEqual(expected.map((e) => e.length));
  actual.forEach((a, i) => expect(bytes(a).equals(bytes(expected[i])), `array ${i}`).toBe(true));
}

describe('a model with its embedding table split over buffers', () => {
  const gpu = useGpu();
  const fitOptions = { epochs: 2, batchSize: BATCH, validationData: [val.x, val.y] as [TokenMatrix, Uint8Array], verbose: 0 as const, seed: 3 };

  it('trains, evaluates and predicts as the unsplit model does, bit for bit', async () => {
    const split = model(new Gpu(gpu().device, undefined, { maxBindingBytes: MAX_BINDING_BYTES }), 7);
    const whole = model(gpu(), 7);
    const table = split.model.weights[0].tensor;
    expect(table.chunks.map((c) => c.rows)).toEqual(Array(8).fill(256).fill(208, 7));
    expect(whole.model.weights[0].tensor.chunks).toHaveLength(1);
    const initial = await whole.model.getWeights();

    const a = await split.model.fit(train.x, train.y, fitOptions);
    const b = await whole.model.fit(train.x, train.y, fitOptions);
    expect(split.model.weights[0].tensor.chunks).toHaveLength(8);
    expect(a.history).toEqual(b.history);
    expect(a.history.loss).toHaveLength(2);
    const weights = await split.model.getWeights();
    expectBitwiseEqual(weights, await whole.model.getWeights());
    // Training moved the table's rows in every chunk (not two untouched initialisations).
    for (let chunk = 0; chunk < 8; chunk++) {
      const [from, to] = [chunk * 256 * DIM, Math.min(VOCAB, (chunk + 1) * 256) * DIM];
      const moved = weights[0].subarray(from, to).filter((v, i) => v !== initial[0][from + i]).length;
      expect(moved, `chunk ${chunk}`).toBeGreaterThan((to - from) / 2);
    }
    const [sa, sb] = [await split.model.getOptimizerState(), await whole.model.getOptimizerState()];
    expect(sa.iterations).toBe(2 * 19);
    expect(sb.iterations).toBe(sa.iterations);
    expect(sa.slots.map((s) => s.name)).toEqual(['momentum', 'velocity']);
    expectBitwiseEqual(
      sa.slots.flatMap((s) => s.values),
      sb.slots.flatMap((s) => s.values),
    );

    const evaluateOptions = { batchSize: BATCH, verbose: 0 as const };
    expect(await split.model.evaluate(val.x, val.y, evaluateOptions)).toEqual(await whole.model.evaluate(val.x, val.y, evaluateOptions));
    expectBitwiseEqual([await split.model.predict(val.x, { batchSize: BATCH })], [await whole.model.predict(val.x, { batchSize: BATCH })]);
  });

  it('saves weights from the split model that load into an unsplit one, and back', async () => {
    const capped = new Gpu(gpu().device, undefined, { maxBindingBytes: MAX_BINDING_BYTES });
    const trained = model(capped, 8).model;
    await trained.fit(train.x, train.y, { ...fitOptions, epochs: 1, validationData: undefined });
    const file = await trained.saveWeightsBytes();
    const weights = await trained.getWeights();

    const unsplit = model(gpu(), 9).model;
    unsplit.loadWeightsBytes(file);
    expectBitwiseEqual(await unsplit.getWeights(), weights);
    expect(Buffer.from(await unsplit.saveWeightsBytes()).equals(Buffer.from(file))).toBe(true);
    expectBitwiseEqual([await unsplit.predict(val.x, { batchSize: BATCH })], [await trained.predict(val.x, { batchSize: BATCH })]);

    const splitAgain = model(capped, 10).model;
    expect(splitAgain.weights[0].tensor.chunks).toHaveLength(8);
    splitAgain.loadWeightsBytes(await unsplit.saveWeightsBytes());
    expectBitwiseEqual(await splitAgain.getWeights(), weights);
  });
});
