/**
 * The engine as a user meets it (issue #11): models other than the tutorial's train with every
 * optimizer on captured steps; captured steps replay exactly what the eager steps do; a captured
 * epoch creates nothing per step and reads back once; verbose 0, 1 and 2 print as Keras does;
 * checkpoints resume bit for bit for every optimizer and with Dropout; configuration errors are
 * raised before training, not reported as GPU failures.
 */
import { describe, expect, it } from 'vitest';
import type { Gpu } from '../src/gpu/gpu.js';
import { BackupAndRestore, type BackupStorage } from '../src/nn/backup.js';
import type { Callback } from '../src/nn/callbacks.js';
import { Conv1D, Dense, Dropout, Embedding, GlobalAveragePooling1D, GlobalMaxPooling1D, type Layer } from '../src/nn/layers.js';
import { Sequential, type CompileOptions, type TokenMatrix } from '../src/nn/model.js';
import { Adagrad, Adam, AdamW, ExponentialDecay, LazyAdam, OPTIMIZER_NAMES, RMSprop, SGD, type Optimizer } from '../src/nn/optimizers/index.js';
import { syntheticReviews, useGpu } from './gpu-helpers.js';

const VOCAB = 200;
const STEPS = 16;
const reviews = (samples: number, seed: number) => syntheticReviews(samples, seed, { vocab: VOCAB, steps: STEPS, minLength: 4, highFrom: VOCAB / 2, skewed: true });
const train = reviews(160, 1); // batches of 32: 5 full steps
const val = reviews(48, 2);

/** The three models of the acceptance, small. */
const MODELS: Record<string, () => Layer[]> = {
  'Embedding -> Dropout -> GlobalAveragePooling1D -> Dropout -> Dense(1, sigmoid)': () => [
    new Embedding(VOCAB, 8),
    new Dropout(0.2),
    new GlobalAveragePooling1D(),
    new Dropout(0.2),
    new Dense(1, { activation: 'sigmoid' }),
  ],
  'Embedding -> Conv1D(relu) -> GlobalMaxPooling1D -> Dense(1, sigmoid)': () => [
    new Embedding(VOCAB, 8),
    new Conv1D(8, 3, { activation: 'relu' }),
    new GlobalMaxPooling1D(),
    new Dense(1, { activation: 'sigmoid' }),
  ],
  'Embedding -> Dense(8, relu) -> GlobalAveragePooling1D -> Dense(1, sigmoid)': () => [
    new Embedding(VOCAB, 8),
    new Dense(8, { activation: 'relu' }),
    new GlobalAveragePooling1D(),
    new Dense(1, { activation: 'sigmoid' }),
  ],
};

/** Learning rates at which each optimizer learns the synthetic task in a few epochs (resumes use them). */
const TUNED: Record<string, () => Optimizer> = {
  adam: () => new Adam({ learningRate: 0.02 }),
  adamw: () => new AdamW({ learningRate: 0.02 }),
  sgd: () => new SGD({ learningRate: 0.5, momentum: 0.9 }),
  rmsprop: () => new RMSprop({ learningRate: 0.01 }),
  adagrad: () => new Adagrad({ learningRate: 0.2 }),
  lazyadam: () => new LazyAdam({ learningRate: 0.02 }),
};

function build(gpu: Gpu, layers: Layer[], compile: CompileOptions, seed = 4): Sequential {
  const m = new Sequential(layers);
  m.build(gpu, [STEPS], { seed });
  m.compile(compile);
  return m;
}

const fitOptions = { epochs: 6, batchSize: 32, validationData: [val.x, val.y] as [TokenMatrix, Uint8Array], verbose: 0 as const, seed: 7 };
const bits = (arrays: Float32Array[]) => arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex'));

describe('the engine', () => {
  const gpu = useGpu();

  it('trains with LazyAdam on captured steps (the public API test covers the five Keras optimizers)', async () => {
    for (const layers of Object.values(MODELS)) {
      const m = build(gpu(), layers(), { optimizer: TUNED.lazyadam() });
      const { loss, val_accuracy } = (await m.fit(train.x, train.y, fitOptions)).history;
      expect(m.execution).toBe('captured');
      expect(loss.at(-1)!).toBeLessThan(loss[0] - 0.05);
      expect(val_accuracy.at(-1)!).toBeGreaterThan(0.75);
    }
  });

  it('replays exactly what the eager steps do: the same history and weights bit for bit (Dropout included)', async () => {
    for (const layers of Object.values(MODELS)) {
      const schedule = new ExponentialDecay({ initialLearningRate: 0.02, decaySteps: 3, decayRate: 0.5 });
      const eager = build(gpu(), layers(), { optimizer: new Adam({ learningRate: schedule }), jitCompile: false });
      const captured = build(gpu(), layers(), { optimizer: new Adam({ learningRate: schedule }), fuse: false });
      const a = await eager.fit(train.x, train.y, { ...fitOptions, epochs: 3 });
      const b = await captured.fit(train.x, train.y, { ...fitOptions, epochs: 3 });
      expect([eager.execution, captured.execution]).toEqual(['eager', 'captured']);
      expect(b.history).toEqual(a.history);
      expect(bits(await captured.getWeights())).toEqual(bits(await eager.getWeights()));
      expect(await captured.evaluate(val.x, val.y, { verbose: 0 })).toEqual(await eager.evaluate(val.x, val.y, { verbose: 0 }));
      expect(bits([await captured.predict(val.x)])).toEqual(bits([await eager.predict(val.x)]));
    }
  });

  it('Dropout is active in training only, and its mask changes from step to step', async () => {
    const layers = () => [new Embedding(VOCAB, 8), new Dropout(0.5), new GlobalAveragePooling1D(), new Dense(1, { activation: 'sigmoid' })];
    const m = build(gpu(), layers(), { optimizer: new SGD({ learningRate: 0 }) });
    // Inference ignores Dropout: predict equals a model without it, with the same weights.
    const plain = build(gpu(), [new Embedding(VOCAB, 8), new GlobalAveragePooling1D(), new Dense(1, { activation: 'sigmoid' })], { optimizer: 'sgd' });
    plain.setWeights(await m.getWeights());
    expect(bits([await m.predict(val.x)])).toEqual(bits([await plain.predict(val.x)]));
    // Training draws a new mask each step: the same batch gives different losses on different steps.
    const history = await m.fit(train.x, train.y, { ...fitOptions, epochs: 2, shuffle: false, validationData: undefined });
    expect(history.history.loss[1]).not.toBe(history.history.loss[0]);
  });

  it('creates nothing per captured step, reads back once per epoch and uploads the data once', async () => {
    const g = gpu();
    const m = build(g, MODELS['Embedding -> Conv1D(relu) -> GlobalMaxPooling1D -> Dense(1, sigmoid)'](), { optimizer: 'adam' });
    const device = g.device as unknown as Record<string, (...args: unknown[]) => unknown>;
    const counts: Record<string, number> = { createBindGroup: 0, createComputePipeline: 0, createComputePipelineAsync: 0, reads: 0 };
    const originals = Object.fromEntries(['createBindGroup', 'createComputePipeline', 'createComputePipelineAsync'].map((k) => [k, device[k]]));
    const readAll = g.readAll.bind(g);
    let counting = false;
    for (const k of Object.keys(originals)) {
      device[k] = (...args: unknown[]) => {
        if (counting) counts[k]++;
        return originals[k].apply(g.device, args);
      };
    }
    g.readAll = (t) => {
      if (counting) counts.reads++;
      return readAll(t);
    };
    const queue = g.device.queue;
    const writeBuffer = queue.writeBuffer;
    let uploaded = 0;
    queue.writeBuffer = (...args: Parameters<GPUQueue['writeBuffer']>) => {
      if (counting) uploaded += args[4] ?? (args[2] as ArrayBufferLike).byteLength;
      return writeBuffer.apply(queue, args);
    };
    const dispatches: number[] = [];
    try {
      await m.fit(train.x, train.y, { ...fitOptions, epochs: 4, callbacks: [{ onEpochEnd: () => void ((counting = true), dispatches.push(g.stats.dispatches)) }] });
    } finally {
      Object.assign(device, originals);
      g.readAll = readAll;
      queue.writeBuffer = writeBuffer;
    }
    // Epochs 2 to 4 (after the first recorded the steps): no pipeline, no bind group; one read each (train and validation together).
    expect(counts).toEqual({ createBindGroup: 0, createComputePipeline: 0, createComputePipelineAsync: 0, reads: 3 });
    // Each epoch uploads its order and the embedding-gradient indexes (positions: as many ints as the
    // ids, then rowIds and rowStarts, the optimizer's uniforms), not the ids or the labels again: less
    // than twice the ids' bytes an epoch (with them it was more).
    const idsBytes = train.x.data.byteLength;
    expect(uploaded / 3).toBeGreaterThan(idsBytes);
    expect(uploaded / 3).toBeLessThan(2 * idsBytes);
    expect(new Set(dispatches.slice(1).map((d, i) => d - dispatches[i])).size).toBe(1);
  });

  it("prints as Keras' verbose 0, 1 and 2 do", async () => {
    const lines = async (verbose: 0 | 1 | 2) => {
      let text = '';
      const m = build(gpu(), MODELS['Embedding -> Dense(8, relu) -> GlobalAveragePooling1D -> Dense(1, sigmoid)'](), { optimizer: 'adam' });
      await m.fit(train.x, train.y, { ...fitOptions, epochs: 2, verbose, output: { write: (t: string) => void (text += t) } });
      return text;
    };
    expect(await lines(0)).toBe('');
    expect(await lines(1)).toMatch(/^Epoch 1\/2\n5\/5 ━{20} \d+s \d+m?s\/step - accuracy: 0\.\d{4} - loss: 0\.\d{4} - val_accuracy: 0\.\d{4} - val_loss: 0\.\d{4}\nEpoch 2\/2\n5\/5 ━{20} /);
    expect(await lines(2)).toMatch(/^Epoch 1\/2\n5\/5 - \d+s - \d+m?s\/step - accuracy: 0\.\d{4} - loss: 0\.\d{4} - val_accuracy: 0\.\d{4} - val_loss: 0\.\d{4}\nEpoch 2\/2\n5\/5 - /);
  });

  it('resumes from a checkpoint bit for bit with every optimizer, with Dropout', async () => {
    const memory = (): BackupStorage & { bytes: Uint8Array | null } => {
      const s = { bytes: null as Uint8Array | null, description: 'memory://checkpoint', read: async () => s.bytes, write: async (pieces: readonly Uint8Array[]) => void (s.bytes = new Uint8Array(Buffer.concat(pieces))), remove: async () => void (s.bytes = null) };
      return s;
    };
    const interruptAfter = (epoch: number): Callback => ({ onEpochEnd: (e) => void (e === epoch && (() => { throw new Error('interrupted'); })()) });
    const layers = MODELS['Embedding -> Dropout -> GlobalAveragePooling1D -> Dropout -> Dense(1, sigmoid)'];
    const options = { ...fitOptions, epochs: 4 };
    for (const name of OPTIMIZER_NAMES) {
      for (const jitCompile of [true, false]) {
        const whole = build(gpu(), layers(), { optimizer: TUNED[name](), jitCompile });
        await whole.fit(train.x, train.y, { ...options, callbacks: [new BackupAndRestore(memory())] });
        const storage = memory();
        const first = build(gpu(), layers(), { optimizer: TUNED[name](), jitCompile });
        await expect(first.fit(train.x, train.y, { ...options, callbacks: [new BackupAndRestore(storage), interruptAfter(1)] })).rejects.toThrow('interrupted');
        // Resumed as the CLI does, with the same build seed: Dropout's seeds are drawn from it.
        const second = build(gpu(), layers(), { optimizer: TUNED[name](), jitCompile });
        await second.fit(train.x, train.y, { ...options, callbacks: [new BackupAndRestore(storage)] });
        expect(bits(await second.getWeights()), `${name}, jitCompile ${jitCompile}`).toEqual(bits(await whole.getWeights()));
        const [s, w] = [await second.getOptimizerState(), await whole.getOptimizerState()];
        expect(s.iterations).toBe(w.iterations);
        expect(bits(s.slots.flatMap((slot) => slot.values))).toEqual(bits(w.slots.flatMap((slot) => slot.values)));
      }
    }
  });

  it('raises shape and configuration errors before training, naming the layer and shapes', async () => {
    // Embedding -> Dense(1) keeps the steps axis: (None, 16, 1) is not one probability per sample.
    const m = build(gpu(), [new Embedding(VOCAB, 8), new Dense(1, { activation: 'sigmoid' })], { optimizer: 'adam' });
    const error = await m.fit(train.x, train.y, { ...fitOptions, epochs: 1 }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toMatch(/\(None, 16, 1\).*one probability per sample/);
    expect(() => build(gpu(), [new Embedding(VOCAB, 8), new Conv1D(4, 17), new GlobalMaxPooling1D(), new Dense(1)], {})).toThrow(/conv1d.*17.*16/i);
    expect(() => build(gpu(), [new Embedding(VOCAB, 8), new Dense(1)], { optimizer: 'nadam' as never })).toThrow(/nadam/);
  });
});
