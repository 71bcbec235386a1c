/**
 * The fused path (jitCompile) against the general autograd path it is derived from: the same
 * losses, metrics and weights over several epochs, the same evaluation, a seed that reproduces a
 * run bit for bit, nothing created per step, one read per epoch, and models it cannot fuse.
 */
import { describe, expect, it } from 'vitest';
import { Gpu } from '../src/gpu/gpu.js';
import { Dense, Embedding, GlobalAveragePooling1D, type Layer } from '../src/nn/layers.js';
import { Sequential, type TokenMatrix } from '../src/nn/model.js';
import { Adam } from '../src/nn/optimizers/index.js';
import { expectClose, useGpu, syntheticReviews } from './gpu-helpers.js';

const VOCAB = 300;
const STEPS = 24;

const reviews = (samples: number, seed: number) =>
  syntheticReviews(samples, seed, { vocab: VOCAB, steps: STEPS, minLength: 4, highFrom: Math.floor(VOCAB / 4) + 1, skewed: true });

const train = reviews(203, 3); // batches of 64: 3 full and one of 11
const val = reviews(75, 4);

function model(gpu: Gpu, jitCompile: boolean | 'auto', layers?: Layer[]): Sequential {
  const m = new Sequential(layers ?? [new Embedding(VOCAB, 8), new GlobalAveragePooling1D(), new Dense(6, { activation: 'relu' }), new Dense(1, { activation: 'sigmoid' })]);
  m.build(gpu, [STEPS], { seed: 5 });
  m.compile({ optimizer: new Adam({ learningRate: 0.01 }), jitCompile });
  return m;
}

const fitOptions = { epochs: 4, batchSize: 64, validationData: [val.x, val.y] as [TokenMatrix, Uint8Array], verbose: 0 as const, seed: 9 };

describe('fused training path', () => {
  const gpu = useGpu();

  it('trains as the general path does: the same history, weights and evaluation over 4 epochs of 4 steps', async () => {
    const fused = model(gpu(), 'auto');
    const general = model(gpu(), false);
    const a = await fused.fit(train.x, train.y, fitOptions);
    const b = await general.fit(train.x, train.y, fitOptions);
    expect(fused.fusedReason).toBeNull();
    expect(general.fusedReason).toBe('compiled with jitCompile: false');
    for (const key of ['loss', 'val_loss']) expectClose(a.history[key], b.history[key], { atol: 1e-6, rtol: 1e-5 });
    // Accuracies count samples: equal unless a probability sits within rounding of 0.5.
    for (const key of ['accuracy', 'val_accuracy']) expectClose(a.history[key], b.history[key], { atol: 1.5 / 75, rtol: 0 });
    const [wa, wb] = [await fused.getWeights(), await general.getWeights()];
    wa.forEach((w, i) => expectClose(w, wb[i], { atol: 2e-5, rtol: 1e-3 }));
    // The weights moved (the comparison is not between two untouched initialisations).
    const initial = await model(gpu(), false).getWeights();
    expect(wa[2].some((v, i) => Math.abs(v - initial[2][i]) > 1e-3)).toBe(true);
    expectClose(await fused.evaluate(val.x, val.y, { batchSize: 64, verbose: 0 }), await general.evaluate(val.x, val.y, { batchSize: 64, verbose: 0 }), { atol: 1e-6, rtol: 1e-5 });
  });

  it('continues Adam where the general path left it (moments and step count carry over)', async () => {
    const mixed = model(gpu(), false);
    const adam = new Adam({ learningRate: 0.01 });
    mixed.compile({ optimizer: adam, jitCompile: false });
    const general = model(gpu(), false);
    await mixed.fit(train.x, train.y, { ...fitOptions, epochs: 2 });
    mixed.compile({ optimizer: adam, jitCompile: 'auto' });
    await mixed.fit(train.x, train.y, { ...fitOptions, epochs: 2, seed: 10 });
    await general.fit(train.x, train.y, { ...fitOptions, epochs: 2 });
    await general.fit(train.x, train.y, { ...fitOptions, epochs: 2, seed: 10 });
    expect(mixed.fusedReason).toBeNull();
    const [wa, wb] = [await mixed.getWeights(), await general.getWeights()];
    wa.forEach((w, i) => expectClose(w, wb[i], { atol: 2e-5, rtol: 1e-3 }));
  });

  it('reproduces a run bit for bit from the same seed', async () => {
    const runs = [];
    for (let i = 0; i < 2; i++) {
      const m = model(gpu(), true);
      const h = await m.fit(train.x, train.y, { ...fitOptions, epochs: 2 });
      runs.push({ history: h.history, weights: (await m.getWeights()).map((w) => Array.from(w)) });
    }
    expect(runs[1]).toEqual(runs[0]);
  });

  it('creates nothing per step and reads back once per epoch', async () => {
    const g = gpu();
    const m = model(g, true);
    const device = g.device as unknown as Record<string, (...args: unknown[]) => unknown>;
    const counts = { createBindGroup: 0, createComputePipeline: 0, createComputePipelineAsync: 0, createBuffer: 0, reads: 0 };
    const originals = Object.fromEntries(Object.keys(counts).filter((k) => k !== 'reads').map((k) => [k, device[k]]));
    const readAll = g.readAll.bind(g);
    let counting = false;
    // Count from the end of epoch 1 (set-up done) to the end of epoch 4.
    for (const k of Object.keys(originals)) {
      device[k] = (...args: unknown[]) => {
        if (counting) counts[k as keyof typeof counts]++;
        return originals[k].apply(g.device, args);
      };
    }
    g.readAll = (t) => {
      if (counting) counts.reads++;
      return readAll(t);
    };
    const submits: number[] = [];
    try {
      await m.fit(train.x, train.y, {
        ...fitOptions,
        callbacks: [{ onEpochEnd: () => void ((counting = true), submits.push(g.stats.submits)) }],
      });
    } finally {
      Object.assign(device, originals);
      g.readAll = readAll;
    }
    // Per epoch: one read (its staging buffer kept from the first), no buffer, no pipeline, no bind group.
    expect(counts).toEqual({ createBindGroup: 0, createComputePipeline: 0, createComputePipelineAsync: 0, createBuffer: 0, reads: 3 });
    // A submit for the epoch's uploads and one with the read; 4 steps fit one command buffer.
    expect(submits[3] - submits[2]).toBeLessThanOrEqual(3);
  });

  it('splits the table, its flat buffers, its bitmap and the data past one binding, and trains as unsplit', async () => {
    // 4,096 bytes a binding: the 300-row table (9,600 bytes) goes into 3 shards, the training set's
    // token bags into several chunks; the batch-sized scratch buffers (3,840 bytes) still fit one.
    const capped = new Gpu(gpu().device, undefined, { maxBindingBytes: 4096 });
    const split = model(capped, 'auto');
    const whole = model(gpu(), 'auto');
    expect(split.layers[0].weights[0].tensor.chunks.length).toBe(3);
    const a = await split.fit(train.x, train.y, fitOptions);
    const before = gpu().stats.dispatches;
    const b = await whole.fit(train.x, train.y, fitOptions);
    expect(split.fusedReason).toBeNull();
    // Forward and backward per shard and data chunk, Adam per shard: several times the dispatches.
    expect(capped.stats.dispatches).toBeGreaterThan(3 * (gpu().stats.dispatches - before));
    for (const key of ['loss', 'val_loss']) expectClose(a.history[key], b.history[key], { atol: 1e-6, rtol: 1e-5 });
    for (const key of ['accuracy', 'val_accuracy']) expectClose(a.history[key], b.history[key], { atol: 1.5 / 75, rtol: 0 });
    const [wa, wb] = [await split.getWeights(), await whole.getWeights()];
    wa.forEach((w, i) => expectClose(w, wb[i], { atol: 2e-5, rtol: 1e-3 }));
    expectClose(await split.evaluate(val.x, val.y, { batchSize: 64, verbose: 0 }), await whole.evaluate(val.x, val.y, { batchSize: 64, verbose: 0 }), { atol: 1e-6, rtol: 1e-5 });
  });

  it('splits the epoch order and the labels too, once they pass one binding', async () => {
    // 2,048 bytes a binding: 520 reviews' order (2,080 bytes) is split after review 511, and so
    // are the labels; batches of 24 keep the scratch buffers (1,440 bytes) within one binding,
    // and step 22's rows (504 to 527) are copied from both sides of the split.
    const capped = new Gpu(gpu().device, undefined, { maxBindingBytes: 2048 });
    const many = reviews(520, 7);
    const options = { ...fitOptions, epochs: 2, batchSize: 24 };
    const [split, whole] = [model(capped, 'auto'), model(gpu(), 'auto')];
    const a = await split.fit(many.x, many.y, options);
    const b = await whole.fit(many.x, many.y, options);
    expect(split.fusedReason).toBeNull();
    for (const key of ['loss', 'val_loss']) expectClose(a.history[key], b.history[key], { atol: 1e-6, rtol: 1e-5 });
    const [wa, wb] = [await split.getWeights(), await whole.getWeights()];
    wa.forEach((w, i) => expectClose(w, wb[i], { atol: 2e-5, rtol: 1e-3 }));
  });

  it('keeps models it cannot fuse on the per-op captured steps, saying why; fuse: true refuses them', async () => {
    const cases: [Layer[], RegExp][] = [
      [[new Embedding(VOCAB, 6), new GlobalAveragePooling1D(), new Dense(4, { activation: 'relu' }), new Dense(1, { activation: 'sigmoid' })], /dimension 6 is not a multiple of 4/],
      [[new Embedding(VOCAB, 68), new GlobalAveragePooling1D(), new Dense(4, { activation: 'relu' }), new Dense(1, { activation: 'sigmoid' })], /dimension 68 exceeds the fused embedding-bag's 64/],
      [[new Embedding(VOCAB, 8), new GlobalAveragePooling1D(), new Dense(1, { activation: 'sigmoid' })], /not Embedding -> GlobalAveragePooling1D -> Dense/],
      [[new Embedding(VOCAB, 8), new GlobalAveragePooling1D(), new Dense(4, { activation: 'sigmoid' }), new Dense(1, { activation: 'sigmoid' })], /activation is sigmoid/],
      [[new Embedding(VOCAB, 8), new GlobalAveragePooling1D(), new Dense(4, { activation: 'relu' }), new Dense(2, { activation: 'sigmoid' })], /\(None, 2\) is not one probability per sample/],
    ];
    for (const [layers, reason] of cases) {
      const m = model(gpu(), 'auto', layers);
      if (layers.at(-1) instanceof Dense && (layers.at(-1) as Dense).units === 1) {
        await m.fit(train.x, train.y, { epochs: 1, batchSize: 64, verbose: 0 });
        expect(m.fusedReason).toMatch(reason);
        expect(m.execution).toBe('captured');
      }
      m.compile({ fuse: true });
      await expect(m.fit(train.x, train.y, { epochs: 1, batchSize: 64, verbose: 0 })).rejects.toThrow(reason);
    }
    const big = model(gpu(), 'auto');
    await big.fit(train.x, train.y, { epochs: 1, batchSize: 2048, verbose: 0 });
    expect(big.fusedReason).toMatch(/batches of 2048 exceed the fused path's 1024/);
  });
});
