/**
 * What src/nn/model.ts promises beyond the numbers the training tests read (found by StrykerJS):
 * the exact messages of `fit`, `evaluate`, `predict`, the optimizer-state calls and `setWeights`
 * when they are called out of order or given bad options or data; which shuffle each epoch of a
 * fit sees (shuffled by default, epoch e on the seed's e-th draw, also when resumed at
 * `initialEpoch`); the whole NaN message on each executor; live per-step progress on a terminal
 * only from the eager steps; evaluate's progress line; a GPU failure while the eager steps
 * evaluate the validation data named by its epoch alone; `setWeights` checking every array before
 * writing any; and `dispose` giving every buffer back.
 */
import { describe, expect, it } from 'vitest';
import { RandomState, shuffledIndices } from '../src/data/random-state.js';
import { Gpu } from '../src/gpu/gpu.js';
import { Dense, Embedding, GlobalAveragePooling1D } from '../src/nn/layers.js';
import { Sequential, TrainingError, type TokenMatrix } from '../src/nn/model.js';
import { syntheticReviews, useGpu } from './gpu-helpers.js';
import { rejected, thrown } from './helpers.js';

const [VOCAB, STEPS] = [30, 6];

/** The tutorial's shape (the fused kernels take it), small. */
const layers = () => [
  new Embedding(VOCAB, 4, { name: 'emb' }),
  new GlobalAveragePooling1D(),
  new Dense(4, { activation: 'relu', name: 'hidden' }),
  new Dense(1, { activation: 'sigmoid', name: 'out' }),
];

/** Built (seed 3) and, unless `compile` is null, compiled with adam and `compile`'s options. */
function tiny(gpu: Gpu, compile: { fuse?: boolean | 'auto'; jitCompile?: boolean | 'auto' } | null = {}): Sequential {
  const m = new Sequential(layers(), 'tiny');
  m.build(gpu, [STEPS], { seed: 3 });
  if (compile) m.compile({ optimizer: 'adam', ...compile });
  return m;
}

/** `rows` reviews of STEPS ids below VOCAB. */
const reviews = (rows: number, seed: number): { x: TokenMatrix; y: Uint8Array } =>
  syntheticReviews(rows, seed, { vocab: VOCAB, steps: STEPS, minLength: 2, highFrom: VOCAB / 2, skewed: false });

/** Everything written to an output, write by write; `isTTY` as a terminal says. */
function recorder(isTTY: boolean, onWrite: (text: string) => void = () => {}) {
  const writes: string[] = [];
  return {
    writes,
    output: {
      isTTY,
      write: (text: string) => {
        writes.push(text);
        onWrite(text);
      },
    },
  };
}

const plain = (text: string) => text.replace(/\x1b\[\d+m/g, '');

describe('Sequential: messages of calls out of order or with bad options', () => {
  const gpu = useGpu();
  const data = reviews(4, 1);

  it('fit, evaluate and predict before build() name the call', async () => {
    const m = new Sequential(layers(), 'tiny');
    expect((await rejected(Error, m.fit(data.x, data.y, { verbose: 0 }))).message).toBe('tiny: call build() before fit()');
    expect((await rejected(Error, m.evaluate(data.x, data.y, { verbose: 0 }))).message).toBe('tiny: call build() before evaluate()');
    expect((await rejected(Error, m.predict(data.x))).message).toBe('tiny: call build() before predict()');
  });

  it('fit and the optimizer state before compile() say to compile', async () => {
    const m = tiny(gpu(), null);
    expect((await rejected(Error, m.fit(data.x, data.y, { verbose: 0 }))).message).toBe('tiny: call compile() before fit()');
    expect((await rejected(Error, m.getOptimizerState())).message).toBe('tiny: call build() and compile() before getOptimizerState()');
    expect(thrown(Error, () => m.setOptimizerState({ iterations: 0, slots: [] })).message).toBe('tiny: call build() and compile() before setOptimizerState()');
    m.dispose();
  });

  it("fit's options and data: each refusal names the option or the data set", async () => {
    const m = tiny(gpu());
    const fit = (y: ArrayLike<number>, options: Parameters<Sequential['fit']>[2]) => m.fit(data.x, y, { verbose: 0, ...options });
    expect((await rejected(RangeError, fit(data.y, { epochs: 0 }))).message).toBe('fit: epochs must be a positive integer, got 0');
    expect((await rejected(RangeError, fit(data.y, { verbose: 3 as 0 }))).message).toBe('fit: verbose must be 0, 1 or 2, got 3');
    expect((await rejected(RangeError, fit([1], {}))).message).toBe('training data: 1 labels for 4 samples');
    expect((await rejected(RangeError, fit(data.y, { validationData: [data.x, [0, 1]] }))).message).toBe('validationData: 2 labels for 4 samples');
    m.dispose();
  });

  it("evaluate's and predict's options and data: each refusal names the call", async () => {
    const m = tiny(gpu());
    expect((await rejected(RangeError, m.evaluate(data.x, data.y, { batchSize: 0 }))).message).toBe('evaluate: batchSize must be a positive integer, got 0');
    expect((await rejected(RangeError, m.evaluate(data.x, data.y, { verbose: 5 as 0 }))).message).toBe('evaluate: verbose must be 0, 1 or 2, got 5');
    expect((await rejected(RangeError, m.evaluate(data.x, [1, 0, 2, 1], { verbose: 0 }))).message).toBe('evaluate data: label 2 is 2; binary_crossentropy needs 0 or 1');
    expect((await rejected(RangeError, m.predict(data.x, { batchSize: 1.5 }))).message).toBe('predict: batchSize must be a positive integer, got 1.5');
    const short = { data: new Int32Array(8), shape: [2, 4] as [number, number] };
    expect((await rejected(RangeError, m.predict(short))).message).toBe('predict data: sequences of length 4; the model was built for 6');
    m.dispose();
  });
});

describe('Sequential: weights in and out, and dispose', () => {
  const gpu = useGpu();

  it('getWeights of a model not built yet is empty, as Keras returns []', async () => {
    expect(await new Sequential(layers(), 'tiny').getWeights()).toEqual([]);
  });

  it('setWeights checks the count and every size before writing any weight', async () => {
    const m = tiny(gpu(), null);
    const before = await m.getWeights();
    expect(before.map((w) => w.length)).toEqual([VOCAB * 4, 16, 4, 4, 1]);
    const changed = before.map((w) => w.map((v) => v + 1));
    // One array too many: Keras' set_weights refuses it too.
    expect(thrown(RangeError, () => m.setWeights([...changed, new Float32Array(1)])).message).toBe('setWeights: 6 arrays for 5 weights');
    expect(await m.getWeights()).toEqual(before);
    // The output kernel one value short: refused, and the weights before it are not written either.
    const short = [...changed.slice(0, 3), changed[3].subarray(0, 3), changed[4]];
    expect(thrown(RangeError, () => m.setWeights(short)).message).toBe('setWeights: out/kernel needs 4 values, got 3');
    expect(await m.getWeights()).toEqual(before);
    m.setWeights(changed);
    expect(await m.getWeights()).toEqual(changed);
    m.dispose();
  });

  it('dispose gives back every buffer that build and fit made, and leaves no weights', async () => {
    const before = gpu().stats.bytesInUse;
    const m = tiny(gpu());
    const data = reviews(8, 2);
    await m.fit(data.x, data.y, { batchSize: 4, verbose: 0 });
    expect(gpu().stats.bytesInUse).toBeGreaterThan(before);
    m.dispose();
    expect(gpu().stats.bytesInUse).toBe(before);
    expect(m.weights).toEqual([]);
  });
});

describe('Sequential.fit: the shuffle each epoch sees', () => {
  const gpu = useGpu();
  const data = reviews(12, 4);
  const options = { batchSize: 4, verbose: 0 as const, seed: 11 };

  /** The data in `order`, fitted one epoch unshuffled: what a shuffled epoch over that order must do. */
  const inOrder = (m: Sequential, order: Int32Array) => {
    const ids = new Int32Array(data.x.data.length);
    order.forEach((r, i) => ids.set(data.x.data.subarray(r * STEPS, (r + 1) * STEPS), i * STEPS));
    return m.fit({ data: ids, shape: [...data.x.shape] }, Uint8Array.from(order, (r) => data.y[r]), { ...options, shuffle: false });
  };

  it("shuffles by default, epoch e on the e-th draw of the seed's shuffle, and a resumed fit on the same draws", async () => {
    const rng = new RandomState(options.seed);
    const [first, second] = [shuffledIndices(rng, 12), shuffledIndices(rng, 12)];
    const reference = tiny(gpu());
    await inOrder(reference, first);
    const afterOne = await reference.getWeights();
    await inOrder(reference, second);
    const afterTwo = await reference.getWeights();

    const byDefault = tiny(gpu());
    await byDefault.fit(data.x, data.y, { ...options, epochs: 2 });
    expect(await byDefault.getWeights()).toEqual(afterTwo);

    const resumed = tiny(gpu());
    await resumed.fit(data.x, data.y, { ...options, epochs: 1 });
    expect(await resumed.getWeights()).toEqual(afterOne);
    const history = await resumed.fit(data.x, data.y, { ...options, epochs: 2, initialEpoch: 1 });
    expect(history.epoch).toEqual([1]);
    expect(await resumed.getWeights()).toEqual(afterTwo);

    // The orders differ, and so does training unshuffled: the comparisons above can tell them apart.
    const unshuffled = tiny(gpu());
    await unshuffled.fit(data.x, data.y, { ...options, epochs: 2, shuffle: false });
    expect(await unshuffled.getWeights()).not.toEqual(afterTwo);
    for (const m of [reference, byDefault, resumed, unshuffled]) m.dispose();
  });
});

describe('Sequential.fit: what it reports, executor by executor', () => {
  const gpu = useGpu();
  const data = reviews(10, 5); // batches of 4: 3 steps, the last of 2 rows

  for (const [kind, compile, after] of [
    ['eager', { jitCompile: false }, 'weights from before this step are no longer intact on the GPU'],
    ['captured', { fuse: false }, 'the captured steps ran the rest of the epoch before reading it back, so the weights are not intact'],
    ['fused', { fuse: 'auto' }, 'the fused steps ran the rest of the epoch before reading it back, so the weights are not intact'],
  ] as const) {
    it(`a NaN loss stops training with the whole message (${kind} steps)`, async () => {
      const m = tiny(gpu(), compile);
      const weights = await m.getWeights();
      weights[4][0] = Number.NaN; // the output bias: every logit, so every loss, is NaN
      m.setWeights(weights);
      const error = await rejected(TrainingError, m.fit(data.x, data.y, { batchSize: 4, epochs: 2, verbose: 0 }));
      expect(error.message).toBe(`loss is NaN at epoch 1, step 1: training stopped (${after}; saved files are untouched)`);
      expect(m.execution).toBe(kind);
      m.dispose();
    });
  }

  /** The writes of one epoch of fit with a terminal's progress bar, after the `Epoch 1/1` line, ANSI colours removed. */
  const barWrites = async (m: Sequential) => {
    const { writes, output } = recorder(true);
    await m.fit(data.x, data.y, { batchSize: 4, epochs: 1, verbose: 1, output });
    expect(writes[0]).toBe('Epoch 1/1\n');
    return writes.slice(1).map(plain);
  };
  const line = /^\r(\d+)\/3 ━{20} \d+s \d+(?:us|ms|s)\/step - accuracy: (\d\.\d{4}) - loss: (\d\.\d{4}) *(\n?)$/;

  it('on a terminal the eager steps redraw the bar after every step, then end the line', async () => {
    const m = tiny(gpu(), { jitCompile: false });
    const writes = await barWrites(m);
    expect(m.execution).toBe('eager');
    const parsed = writes.map((w) => line.exec(w));
    expect(parsed.every(Boolean), writes.join(' | ')).toBe(true);
    // Steps 1, 2 and 3 as they run (the line left open), then the finished line.
    expect(parsed.map((p) => [p![1], p![4]])).toEqual([['1', ''], ['2', ''], ['3', ''], ['3', '\n']]);
    // After the last step the running metrics are the epoch's.
    expect([parsed[2]![2], parsed[2]![3]]).toEqual([parsed[3]![2], parsed[3]![3]]);
    m.dispose();
  });

  for (const [kind, compile] of [['captured', { fuse: false }], ['fused', { fuse: 'auto' }]] as const) {
    it(`on a terminal the ${kind} steps (read back once per epoch) draw only the finished line`, async () => {
      const m = tiny(gpu(), compile);
      const writes = await barWrites(m);
      expect(m.execution).toBe(kind);
      expect(writes).toHaveLength(1);
      expect(writes[0]).toMatch(line);
      expect(writes[0].startsWith('\r3/3 ')).toBe(true);
      m.dispose();
    });
  }

  it('a GPU failure while the eager steps evaluate the validation data names the epoch, not a step range', async () => {
    const own = await Gpu.create();
    try {
      const m = tiny(own, { jitCompile: false });
      // The device goes when the bar is drawn after the last training step, before the validation data is read.
      const { output } = recorder(true, (text) => {
        if (plain(text).startsWith('\r3/3 ')) own.device.destroy();
      });
      const error = await rejected(TrainingError, m.fit(data.x, data.y, { batchSize: 4, epochs: 1, verbose: 1, output, validationData: [data.x, data.y] }));
      expect(error.message).toMatch(/^GPU failure at epoch 1: \S/);
      expect(m.execution).toBe('eager');
    } finally {
      own.close();
    }
  });
});

describe('Sequential.evaluate: its progress line', () => {
  const gpu = useGpu();

  it("prints Keras' finished line once, with the number of batches and what it returns", async () => {
    const m = tiny(gpu());
    const data = reviews(10, 6); // batches of 4: 3 steps
    for (const verbose of [1, 2] as const) {
      const { writes, output } = recorder(false);
      const [loss, accuracy] = await m.evaluate(data.x, data.y, { batchSize: 4, verbose, output });
      const metrics = ` - accuracy: ${accuracy.toFixed(4)} - loss: ${loss.toFixed(4)}\n`;
      expect(writes).toHaveLength(1);
      // Keras: `3/3 ━━━━ 0s 5ms/step - ...` for verbose 1, `3/3 - 0s - 5ms/step - ...` for verbose 2.
      const head = verbose === 1 ? /^3\/3 ━{20} \d+s \d+(?:us|ms|s)\/step/ : /^3\/3 - \d+s - \d+(?:us|ms|s)\/step/;
      expect(writes[0]).toMatch(head);
      expect(writes[0].replace(head, '')).toBe(metrics);
    }
    m.dispose();
  });
});
