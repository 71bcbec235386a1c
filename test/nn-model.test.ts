import { describe, expect, it } from 'vitest';
import { Gpu } from '../src/gpu/gpu.js';
import { EarlyStopping, type Callback } from '../src/nn/callbacks.js';
import { Dense, Embedding, GlobalAveragePooling1D } from '../src/nn/layers.js';
import { Sequential, TrainingError, type TokenMatrix } from '../src/nn/model.js';
import { Adam } from '../src/nn/optimizers/index.js';
import { WeightsFileError } from '../src/nn/weights-file.js';
import { useGpu } from './gpu-helpers.js';

const VOCAB = 50;
const STEPS = 8;

/** Reviews whose label is whether "positive" words (ids >= 25) outnumber the others. */
function syntheticData(samples: number, seed: number, vocab = VOCAB): { x: TokenMatrix; y: Uint8Array } {
  let s = seed;
  const next = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 8) / 2 ** 24;
  const data = Int32Array.from({ length: samples * STEPS }, () => 1 + Math.floor(next() * (vocab - 1)));
  const y = Uint8Array.from({ length: samples }, (_, i) => {
    const row = data.subarray(i * STEPS, (i + 1) * STEPS);
    return row.filter((w) => w >= vocab / 2).length * 2 > STEPS ? 1 : 0;
  });
  return { x: { data, shape: [samples, STEPS] }, y };
}

/** Collects what the model prints. */
function sink() {
  const lines: string[] = [];
  return { lines, output: { write: (t: string) => lines.push(...t.split('\n').filter(Boolean)), isTTY: false } };
}

function smallModel(gpu: Gpu, seed = 1, learningRate = 0.01, vocab = VOCAB): Sequential {
  const model = new Sequential([new Embedding(vocab, 8), new GlobalAveragePooling1D(), new Dense(8, { activation: 'relu' }), new Dense(1, { activation: 'sigmoid' })]);
  model.build(gpu, [STEPS], { seed });
  model.compile({ optimizer: new Adam({ learningRate }), loss: 'binary_crossentropy', metrics: ['accuracy'] });
  return model;
}

const train = syntheticData(150, 7); // 150 = 4 batches of 32 and one of 22
const val = syntheticData(40, 8);

describe('Sequential', () => {
  const gpu = useGpu();

  it("prints Keras' summary table for the tutorial model: 160,289 parameters", () => {
    const model = new Sequential([new Embedding(10000, 16), new GlobalAveragePooling1D(), new Dense(16, { activation: 'relu' }), new Dense(1, { activation: 'sigmoid' })]);
    model.build(gpu(), [256], { seed: 0 });
    const lines: string[] = [];
    model.summary((l) => lines.push(...l.split('\n')));
    expect(model.countParams()).toBe(160289);
    expect(lines.join('\n')).toContain('(None, 256, 16)');
    expect(lines).toContain(` Total params: 160,289 (626.13 KB)`);
    expect(lines.some((l) => /│ global_average_pooling1d\S* +│ \(None, 16\) +│ +0 │/.test(l))).toBe(true);
    expect(lines.some((l) => /│ \(GlobalAveragePooling1D\) +│ +│ +│/.test(l))).toBe(true);
    expect(lines.some((l) => /│ dense\S* \(Dense\) +│ \(None, 16\) +│ +272 │/.test(l))).toBe(true);
    expect(lines.some((l) => /│ dense\S* \(Dense\) +│ \(None, 1\) +│ +17 │/.test(l))).toBe(true);
    for (const w of model.weights) w.tensor.dispose();
  });

  it('learns, reports Keras-style history and progress, and val metrics equal evaluate()', async () => {
    const model = smallModel(gpu());
    const { lines, output } = sink();
    const history = await model.fit(train.x, train.y, { epochs: 12, batchSize: 32, validationData: [val.x, val.y], output, seed: 3 });
    expect(Object.keys(history.history).sort()).toEqual(['accuracy', 'loss', 'val_accuracy', 'val_loss']);
    expect(history.history.loss).toHaveLength(12);
    expect(history.history.loss[11]).toBeLessThan(history.history.loss[0]);
    expect(history.history.accuracy[11]).toBeGreaterThan(0.8);
    // Not a terminal: one "Epoch i/n" line and one finished bar per epoch.
    expect(lines).toHaveLength(24);
    expect(lines[0]).toBe('Epoch 1/12');
    expect(lines[1]).toMatch(/^5\/5 ━{20} \d+s \d+[mu]?s\/step - accuracy: 0\.\d{4} - loss: \d\.\d{4} - val_accuracy: \d\.\d{4} - val_loss: \d\.\d{4}$/);
    const [valLoss, valAccuracy] = await model.evaluate(val.x, val.y, { batchSize: 32, verbose: 0 });
    expect(valLoss).toBeCloseTo(history.history.val_loss[11], 6);
    expect(valAccuracy).toBe(history.history.val_accuracy[11]);
  });

  it('evaluate() agrees with predict(): mean BCE and the 0.5 threshold', async () => {
    const model = smallModel(gpu(), 2);
    await model.fit(train.x, train.y, { epochs: 3, batchSize: 32, verbose: 0 });
    const probs = await model.predict(val.x, { batchSize: 16 });
    const [loss, accuracy] = await model.evaluate(val.x, val.y, { batchSize: 13, verbose: 0 });
    let bce = 0;
    let correct = 0;
    probs.forEach((p, i) => {
      bce -= val.y[i] ? Math.log(p) : Math.log(1 - p);
      if ((p > 0.5 ? 1 : 0) === val.y[i]) correct++;
    });
    expect(loss).toBeCloseTo(bce / probs.length, 4);
    expect(accuracy).toBe(correct / probs.length);
  });

  it('a seed reproduces a run exactly; another seed does not', async () => {
    const run = async (seed: number) => {
      const model = smallModel(gpu(), seed);
      const history = await model.fit(train.x, train.y, { epochs: 2, batchSize: 32, verbose: 0, seed });
      return { history: history.history, weights: await model.getWeights() };
    };
    const a = await run(5);
    const b = await run(5);
    const c = await run(6);
    expect(b.history).toEqual(a.history);
    expect(b.weights).toEqual(a.weights);
    expect(c.weights[0]).not.toEqual(a.weights[0]);
  });

  it('does not grow GPU memory from epoch to epoch', async () => {
    // A large vocabulary, so that each batch holds a different number of distinct ids
    // and the embedding gradient's index changes size from step to step.
    const vocab = 3000;
    const data = syntheticData(150, 9, vocab);
    const model = smallModel(gpu(), 3, 0.01, vocab);
    const allocated: number[] = [];
    const inUse: number[] = [];
    const probe: Callback = { onEpochEnd: () => void (allocated.push(gpu().stats.bytesAllocated), inUse.push(gpu().stats.bytesInUse)) };
    await model.fit(data.x, data.y, { epochs: 6, batchSize: 32, validationData: [val.x, val.y], verbose: 0, callbacks: [probe] });
    expect(new Set(allocated.slice(1)).size).toBe(1);
    expect(new Set(inUse).size).toBe(1);
  });

  it('EarlyStopping stops after `patience` epochs without improvement and restores the best weights', async () => {
    const model = smallModel(gpu(), 4);
    let afterFirstEpoch: Float32Array[] = [];
    const snapshot: Callback = { onEpochEnd: async (epoch) => void (epoch === 0 && (afterFirstEpoch = await model.getWeights())) };
    // Loss falls every epoch, so in 'max' mode epoch 0 stays the best.
    const messages: string[] = [];
    const stop = new EarlyStopping({ monitor: 'loss', mode: 'max', patience: 1, restoreBestWeights: true, verbose: 1, log: (l) => messages.push(l) });
    const history = await model.fit(train.x, train.y, { epochs: 10, batchSize: 32, verbose: 0, callbacks: [snapshot, stop] });
    expect(history.history.loss).toHaveLength(2);
    expect(stop.stoppedEpoch).toBe(1);
    expect(messages).toEqual(['Epoch 2: early stopping', 'Restoring model weights from the end of the best epoch: 1.']);
    expect(await model.getWeights()).toEqual(afterFirstEpoch);
  });

  it('saves and loads weights, checking names, shapes and the checksum', async () => {
    const model = smallModel(gpu(), 5);
    await model.fit(train.x, train.y, { epochs: 1, batchSize: 32, verbose: 0 });
    const bytes = await model.saveWeightsBytes();
    const copy = smallModel(gpu(), 99);
    const names = model.weights.map((w) => w.name.replace(/^[^/]+/, ''));
    expect(names).toEqual(['/embeddings', '/kernel', '/bias', '/kernel', '/bias']);
    // Same architecture, other layer names (Keras numbers them): rename to load.
    copy.layers.forEach((layer, i) => layer.weights.forEach((w) => (w.name = w.name.replace(layer.name, model.layers[i].name))));
    copy.loadWeightsBytes(bytes);
    expect(await copy.predict(val.x)).toEqual(await model.predict(val.x));

    const other = new Sequential([new Embedding(VOCAB, 4), new GlobalAveragePooling1D(), new Dense(1, { activation: 'sigmoid' })]);
    other.build(gpu(), [STEPS]);
    expect(() => other.loadWeightsBytes(bytes, 'w.sgw')).toThrow(/w\.sgw: weights do not fit the model/);
    const corrupt = bytes.slice();
    corrupt[corrupt.length - 1] ^= 1;
    expect(() => copy.loadWeightsBytes(corrupt, 'c.sgw')).toThrow(WeightsFileError);
    expect(() => copy.loadWeightsBytes(corrupt, 'c.sgw')).toThrow(/CRC-32/);
    expect(() => copy.loadWeightsBytes(bytes.subarray(0, bytes.length - 8), 't.sgw')).toThrow(/truncated/);
    expect(() => copy.loadWeightsBytes(new TextEncoder().encode('not weights'), 'n.sgw')).toThrow(/not a shadergrad weights file/);
  });

  it('refuses bad input before any GPU work, naming the problem', async () => {
    const model = smallModel(gpu(), 6);
    const fit = (x: TokenMatrix, y: ArrayLike<number>) => model.fit(x, y, { epochs: 1, verbose: 0 });
    await expect(fit({ data: new Float32Array(8) as unknown as Int32Array, shape: [1, 8] }, [1])).rejects.toThrow(/int32 token ids/);
    await expect(fit({ data: new Int32Array(0), shape: [0, STEPS] }, [])).rejects.toThrow(/no samples/);
    await expect(fit({ data: new Int32Array(10), shape: [1, 10] }, [1])).rejects.toThrow(/length 10; the model was built for 8/);
    await expect(fit({ data: new Int32Array(15), shape: [2, 8] }, [1, 0])).rejects.toThrow(/15 ids do not fill shape \[2, 8\]/);
    const ids = new Int32Array(16);
    ids[11] = VOCAB;
    await expect(fit({ data: ids, shape: [2, 8] }, [1, 0])).rejects.toThrow(/token id 50 at sample 1, position 3 is outside the embedding's \[0, 50\)/);
    await expect(fit({ data: new Int32Array(16), shape: [2, 8] }, [1, 2])).rejects.toThrow(/label 1 is 2/);
    await expect(fit({ data: new Int32Array(16), shape: [2, 8] }, [1])).rejects.toThrow(/1 labels for 2 samples/);
    await expect(model.fit(train.x, train.y, { batchSize: 0 })).rejects.toThrow(/batchSize must be a positive integer/);
  });

  for (const jitCompile of [true, false]) {
    const path = jitCompile ? 'fused path' : 'general path';

    it(`stops with a clear message on a NaN loss (${path})`, async () => {
      const model = smallModel(gpu(), 7);
      model.compile({ optimizer: new Adam({ learningRate: 0.01 }), jitCompile });
      const weights = await model.getWeights();
      weights[4][0] = Number.NaN; // the output bias: every logit, so every loss, is NaN
      model.setWeights(weights);
      await expect(model.fit(train.x, train.y, { epochs: 2, batchSize: 32, verbose: 0 })).rejects.toThrow(/loss is NaN at epoch 1, step 1/);
    });

    it(`stops with a clear message when the device is lost (${path})`, async () => {
      const own = await Gpu.create();
      const model = smallModel(own, 8);
      model.compile({ optimizer: new Adam({ learningRate: 0.01 }), jitCompile });
      const lose: Callback = { onEpochEnd: () => own.device.destroy() };
      const error = await model.fit(train.x, train.y, { epochs: 3, batchSize: 32, verbose: 0, callbacks: [lose] }).catch((e) => e);
      expect(error).toBeInstanceOf(TrainingError);
      // The fused path reads once per epoch, so it names the epoch; the general path reads every step.
      expect(error.message).toMatch(jitCompile ? /GPU failure at epoch 2, steps 1-\d+ \(submitted together[^)]*\): .*lost/ : /GPU failure at epoch 2, step 1: .*lost/);
    });
  }
});
