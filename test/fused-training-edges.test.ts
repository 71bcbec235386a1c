/**
 * What src/nn/fused-training.ts promises beyond the training comparisons of fused-training.test.ts
 * (found by StrykerJS): the exact reason for each model, optimizer, batch size and binding size it
 * does not fuse, and the limits it does fuse at; a linear hidden layer and a model that was never
 * compiled evaluate as a float64 reference does; the table's shards each keep their bitmap within
 * one binding; evaluation takes several batches a pass (so several passes write each batch's sums
 * where they belong); an epoch submits every 64 steps; the executor's own refusals (no optimizer, an
 * order of the wrong length); a prepared set keeps the labels it first trained on; and fit, evaluate
 * and predict free every buffer they made on the fused path.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RandomState } from '../src/data/random-state.js';
import { Gpu } from '../src/gpu/gpu.js';
import { presenceShape } from '../src/kernels/embedding-bag.js';
import type { ExecutionContext } from '../src/nn/execution.js';
import { FusedExecutor, fusedLayout } from '../src/nn/fused-training.js';
import { Dense, Embedding, GlobalAveragePooling1D, type Layer } from '../src/nn/layers.js';
import { Sequential, type TokenMatrix } from '../src/nn/model.js';
import { Adam, LazyAdam } from '../src/nn/optimizers/index.js';
import { ParameterStore } from '../src/nn/parameter-store.js';
import { expectClose, syntheticReviews, useGpu } from './gpu-helpers.js';

const [VOCAB, STEPS] = [300, 24];

const reviews = (samples: number, seed: number): { x: TokenMatrix; y: Uint8Array } =>
  syntheticReviews(samples, seed, { vocab: VOCAB, steps: STEPS, minLength: 4, highFrom: Math.floor(VOCAB / 4) + 1, skewed: true });

/** The tutorial's shape: Embedding(vocab, dim) -> pooling -> Dense(hidden, activation) -> Dense(1, sigmoid). */
const tutorial = (dim = 8, hidden = 6, activation: 'relu' | 'linear' = 'relu', vocab = VOCAB): Layer[] => [
  new Embedding(vocab, dim),
  new GlobalAveragePooling1D(),
  new Dense(hidden, { activation }),
  new Dense(1, { activation: 'sigmoid' }),
];

function model(gpu: Gpu, layers: Layer[] = tutorial(), compile: { fuse?: boolean | 'auto'; optimizer?: Adam | LazyAdam } | null = {}): Sequential {
  const m = new Sequential(layers);
  m.build(gpu, [STEPS], { seed: 5 });
  if (compile) m.compile({ optimizer: compile.optimizer ?? new Adam({ learningRate: 0.01 }), fuse: compile.fuse ?? 'auto' });
  return m;
}

/**
 * Keras' evaluate in float64 from the model's weights: mean pooling over every position (padding
 * included: no mask), Dense(H, activation), Dense(1, sigmoid), binary cross-entropy with
 * probabilities clipped to [1e-7, 1 - 1e-7], binary accuracy (p > 0.5). Also how many
 * probabilities lie within 1e-4 of 0.5 (float32 may round them either way), and the loss the same
 * weights would give with relu in place of `activation`.
 */
function reference(weights: Float32Array[], data: { x: TokenMatrix; y: Uint8Array }, activation: 'relu' | 'linear') {
  const [table, w1, b1, w2, b2] = weights;
  const [samples, steps] = data.x.shape;
  const hidden = b1.length;
  const dim = w1.length / hidden;
  const clip = (p: number) => Math.min(1 - 1e-7, Math.max(1e-7, p));
  const run = (relu: boolean) => {
    let [loss, correct, near] = [0, 0, 0];
    for (let r = 0; r < samples; r++) {
      const pooled = new Float64Array(dim);
      for (let t = 0; t < steps; t++) for (let d = 0; d < dim; d++) pooled[d] += table[data.x.data[r * steps + t] * dim + d] / steps;
      let z = b2[0];
      for (let h = 0; h < hidden; h++) {
        let a = b1[h];
        for (let d = 0; d < dim; d++) a += pooled[d] * w1[d * hidden + h];
        z += (relu ? Math.max(a, 0) : a) * w2[h];
      }
      const p = 1 / (1 + Math.exp(-z));
      const y = data.y[r];
      loss -= y * Math.log(clip(p)) + (1 - y) * Math.log(1 - clip(p));
      correct += (p > 0.5 ? 1 : 0) === y ? 1 : 0;
      if (Math.abs(p - 0.5) < 1e-4) near++;
    }
    return { loss: loss / samples, accuracy: correct / samples, near };
  };
  const result = run(activation === 'relu');
  return { ...result, reluLoss: run(true).loss };
}

/**
 * The table scaled by 10 (its initial ±0.05 keeps every probability within a hair of 0.5): the
 * pooled inputs, the hidden pre-activations and the probabilities then spread out.
 */
async function spread(m: Sequential): Promise<void> {
  await m.setWeights((await m.getWeights()).map((w, i) => (i === 0 ? w.map((v) => v * 10) : w)));
}

/** `layers` built for STEPS-long inputs and laid out in a parameter store, as Sequential.build does. */
function storeOf(gpu: Gpu, layers: Layer[]): ParameterStore {
  const rng = new RandomState(1);
  let shape: (number | null)[] = [null, STEPS];
  for (const layer of layers) {
    layer.build(gpu, shape, rng);
    shape = layer.computeOutputShape(shape);
  }
  const weights = layers.flatMap((l) => l.weights.map((w) => ({ w, rowSparse: l instanceof Embedding })));
  return ParameterStore.adopt(gpu, weights.map((x) => x.w), weights.map((x) => x.rowSparse));
}

/** The context FusedExecutor.create is called with during `run` (a model's fit, evaluate or predict). */
async function contextOf(run: () => Promise<unknown>): Promise<ExecutionContext> {
  const create = vi.spyOn(FusedExecutor, 'create');
  try {
    await run();
    expect(create).toHaveBeenCalledTimes(1);
    return create.mock.calls[0][0];
  } finally {
    create.mockRestore();
  }
}

describe('fused training path: what the training comparisons do not read', () => {
  const gpu = useGpu();
  afterEach(() => vi.restoreAllMocks());

  it('says exactly why it does not fuse a masked embedding, a last layer other than Dense(1, sigmoid), a layer past the fused shape or a lazy optimizer', async () => {
    const data = reviews(20, 1);
    const cases: [Layer[], string][] = [
      [
        [new Embedding(VOCAB, 8, { maskZero: true }), new GlobalAveragePooling1D(), new Dense(4, { activation: 'relu' }), new Dense(1, { activation: 'sigmoid' })],
        'the embedding masks id 0; the fused embedding-bag averages every step',
      ],
      [[new Embedding(VOCAB, 8), new GlobalAveragePooling1D(), new Dense(4, { activation: 'relu' }), new Dense(1)], 'the last layer is not Dense(1, sigmoid)'],
      [
        // The fused shape and one layer more: the fused head would leave the last Dense out.
        [new Embedding(VOCAB, 8), new GlobalAveragePooling1D(), new Dense(4, { activation: 'relu' }), new Dense(1, { activation: 'sigmoid' }), new Dense(1, { activation: 'sigmoid' })],
        'the model is not Embedding -> GlobalAveragePooling1D -> Dense(relu or linear) -> Dense(1, sigmoid)',
      ],
    ];
    for (const [layers, reason] of cases) {
      const m = model(gpu(), layers);
      await m.predict(data.x, { batchSize: 8 });
      expect(m.fusedReason).toBe(reason);
      expect(m.execution).toBe('captured');
      m.compile({ fuse: true });
      await expect(m.predict(data.x, { batchSize: 8 })).rejects.toThrow(`sequential: fuse is true but the model cannot be fused: ${reason}`);
      m.dispose();
    }
    // LazyAdam moves only the rows a batch holds: fit would not fuse it (evaluate and predict, with no optimizer, do).
    const lazy = model(gpu(), tutorial(), { optimizer: new LazyAdam() });
    await lazy.fit(data.x, data.y, { epochs: 1, batchSize: 8, verbose: 0 });
    expect(lazy.fusedReason).toBe('LazyAdam updates embedding rows lazily; the fused embedding-bag writes dense gradients');
    expect(lazy.execution).toBe('captured');
    lazy.dispose();
  });

  it('refuses an output layer of two units when called directly (the model refuses it before, for its output shape)', () => {
    const layers = [new Embedding(VOCAB, 8), new GlobalAveragePooling1D(), new Dense(4, { activation: 'relu' }), new Dense(2, { activation: 'sigmoid' })];
    const store = storeOf(gpu(), layers);
    expect(fusedLayout(layers, store)).toBe('the last layer is not Dense(1, sigmoid)');
    store.dispose();
  });

  it("refuses a head whose weights are not in one store shard, whole (a binding of 1,024 bytes)", async () => {
    // Each weight starts at a 256-byte boundary. Dense(16): W1 (512 bytes), b1 at 512, W2 at 768,
    // and b2 (at 1,024) starts a second shard, no weight split. Dense(64): W1 (2,048 bytes) is split.
    // Dense(6): W1 (192 bytes), b1 at 256, W2 at 512, b2 at 768, all in one shard.
    const capped = new Gpu(gpu().device, undefined, { maxBindingBytes: 1024 });
    for (const hidden of [16, 64, 6]) {
      const layers = tutorial(8, hidden);
      const store = storeOf(capped, layers);
      const layout = fusedLayout(layers, store);
      if (hidden === 6) expect(layout).toMatchObject({ dim: 8, headShard: store.shards.length - 1, head: { hidden: 6, relu: true } });
      else expect(layout).toBe("the head's weights are split over several store shards");
      store.dispose();
    }
    // What fit, evaluate and predict say with fuse: true.
    const m = model(capped, tutorial(8, 16), { fuse: true });
    const data = reviews(20, 2);
    await expect(m.evaluate(data.x, data.y, { batchSize: 8, verbose: 0 })).rejects.toThrow(
      "sequential: fuse is true but the model cannot be fused: the head's weights are split over several store shards",
    );
    m.dispose();
  });

  it("fuses at its limits: a 64-wide embedding, batches of 1,024, and scratch buffers that fill one binding exactly", async () => {
    const data = reviews(40, 3);
    const wide = model(gpu(), tutorial(64, 6));
    await wide.predict(data.x, { batchSize: 8 });
    expect(wide.fusedReason).toBeNull();
    wide.dispose();
    const big = model(gpu());
    await big.predict(data.x, { batchSize: 1024 });
    expect(big.fusedReason).toBeNull();
    big.dispose();
    // Per batch row the largest scratch buffer holds max(D, 2H + 3) = 15 floats: 64 rows are 3,840 bytes.
    const capped = new Gpu(gpu().device, undefined, { maxBindingBytes: 3840 });
    const layers = tutorial(8, 6);
    const store = storeOf(capped, layers);
    const step = capped.zeros([1], 'i32');
    const executor = await FusedExecutor.create({ gpu: capped, layers, store, optimizer: null, batchSize: 64, step });
    expect(executor).toBeInstanceOf(FusedExecutor);
    (executor as FusedExecutor).dispose();
    expect(await FusedExecutor.create({ gpu: capped, layers, store, optimizer: null, batchSize: 65, step })).toBe(
      "a batch's scratch buffers (65 rows) do not fit one binding of 3840 bytes",
    );
    step.dispose();
    store.dispose();
    // What fit, evaluate and predict say with fuse: true.
    const m = model(capped, tutorial(8, 6), { fuse: true });
    await expect(m.evaluate(data.x, data.y, { batchSize: 65, verbose: 0 })).rejects.toThrow(
      "sequential: fuse is true but the model cannot be fused: a batch's scratch buffers (65 rows) do not fit one binding of 3840 bytes",
    );
    m.dispose();
  });

  it('evaluates a linear hidden layer, in a model never compiled, as the float64 reference does', async () => {
    const data = reviews(75, 4);
    const m = model(gpu(), tutorial(8, 6, 'linear'), null);
    await spread(m);
    const [loss, accuracy] = await m.evaluate(data.x, data.y, { batchSize: 32, verbose: 0 });
    expect(m.fusedReason).toBeNull();
    const want = reference(await m.getWeights(), data, 'linear');
    // The check can tell the activations apart: relu would change the loss well past the tolerance.
    expect(Math.abs(want.reluLoss - want.loss)).toBeGreaterThan(1e-3);
    expect(loss).toBeCloseTo(want.loss, 5);
    expect(Math.abs(accuracy - want.accuracy)).toBeLessThanOrEqual(want.near / 75);
    m.dispose();
  });

  it('evaluates in passes of several batches past one binding, each batch summed where it belongs', async () => {
    // 4,096 bytes a binding: 68 rows of 15 floats, so passes of 4 batches of 16; 203 rows are
    // 13 batches in 4 passes, and the passes after the first write batches 4, 8 and 12 on.
    const capped = new Gpu(gpu().device, undefined, { maxBindingBytes: 4096 });
    const data = reviews(203, 5);
    const m = model(capped, tutorial(), null);
    await spread(m);
    const [loss, accuracy] = await m.evaluate(data.x, data.y, { batchSize: 16, verbose: 0 });
    expect(m.fusedReason).toBeNull();
    const want = reference(await m.getWeights(), data, 'relu');
    expect(loss).toBeCloseTo(want.loss, 5);
    expect(Math.abs(accuracy - want.accuracy)).toBeLessThanOrEqual(want.near / 203);
    m.dispose();
  });

  it('evaluates up to 16,384 rows in one pass: five batches take the dispatches of one', async () => {
    const m = model(gpu(), tutorial(), null);
    const dispatches = async (rows: number) => {
      const data = reviews(rows, 6);
      const before = gpu().stats.dispatches;
      await m.evaluate(data.x, data.y, { batchSize: 8, verbose: 0 });
      return gpu().stats.dispatches - before;
    };
    const [one, five] = [await dispatches(8), await dispatches(40)];
    expect(m.fusedReason).toBeNull();
    expect(one).toBeGreaterThan(0);
    expect(five).toBe(one);
    m.dispose();
  });

  it("splits the table's store runs where a bitmap would pass one binding, at aligned rows, and trains as unsplit", async () => {
    // 4,096 bytes a binding, batches of 65: each table row's bitmap is 3·3 + 1 = 10 words (40 bytes),
    // so a shard holds at most 102 rows, and shards start at multiples of 8 rows (32-byte rows, 256-byte
    // views): 96. A 352-row table is stored in runs of 128, 128 and 96 rows: shards of 96 and 32 rows,
    // twice, and the last run whole, one shard that ends where the run does.
    const capped = new Gpu(gpu().device, undefined, { maxBindingBytes: 4096 });
    const [train, val] = [reviews(203, 7), reviews(75, 8)];
    const options = { epochs: 2, batchSize: 65, verbose: 0 as const, seed: 3, validationData: [val.x, val.y] as [TokenMatrix, Uint8Array] };
    const [split, whole] = [model(capped, tutorial(8, 6, 'relu', 352)), model(gpu(), tutorial(8, 6, 'relu', 352))];
    const create = vi.spyOn(FusedExecutor, 'create');
    const a = await split.fit(train.x, train.y, options);
    const executor = (await create.mock.results[0].value) as FusedExecutor;
    create.mockRestore();
    expect(split.fusedReason).toBeNull();
    const store = executor.ctx.store;
    const step = store.alignedRows(0);
    expect(step).toBe(8);
    const [bitmapRows] = presenceShape(1, 65);
    const fits = (rows: number) => 4 * bitmapRows * rows <= 4096;
    // The shards tile each store run in order, none empty, each bitmap within a binding and as large as one allows.
    const shards = executor.shards.map((s) => ({ firstToken: s.firstToken, rows: s.rows }));
    let i = 0;
    for (const run of store.rowRuns(0)) {
      for (let first = run.firstRow; first < run.firstRow + run.rows; i++) {
        const s = shards[i];
        expect(s.firstToken).toBe(first);
        expect((first - run.firstRow) % step).toBe(0);
        expect(s.rows).toBeGreaterThan(0);
        expect(fits(s.rows)).toBe(true);
        if (first + s.rows < run.firstRow + run.rows) expect(fits(s.rows + step)).toBe(false);
        first += s.rows;
      }
    }
    expect(i).toBe(shards.length);
    expect(store.rowRuns(0)).toEqual([
      { firstRow: 0, rows: 128 },
      { firstRow: 128, rows: 128 },
      { firstRow: 256, rows: 96 },
    ]);
    expect(shards.length).toBe(5);
    const b = await whole.fit(train.x, train.y, options);
    for (const key of ['loss', 'val_loss']) expectClose(a.history[key], b.history[key], { atol: 1e-6, rtol: 1e-5 });
    const [wa, wb] = [await split.getWeights(), await whole.getWeights()];
    wa.forEach((w, k) => expectClose(w, wb[k], { atol: 2e-5, rtol: 1e-3 }));
    split.dispose();
    whole.dispose();
  });

  it('submits an epoch every 64 steps, no more and no less', async () => {
    const m = model(gpu());
    // The submits of epoch 2 (its sets made in epoch 1): 130 steps of one row against one step.
    const epochSubmits = async (rows: number) => {
      const data = reviews(rows, 9);
      const ends: number[] = [];
      await m.fit(data.x, data.y, { epochs: 2, batchSize: 1, verbose: 0, callbacks: [{ onEpochEnd: () => void ends.push(gpu().stats.submits) }] });
      return ends[1] - ends[0];
    };
    const [one, many] = [await epochSubmits(1), await epochSubmits(130)];
    expect(m.fusedReason).toBeNull();
    // 130 steps: submits after steps 64 and 128, on top of what one step costs.
    expect(many - one).toBe(2);
    m.dispose();
  });

  it('an executor made without an optimizer refuses to train; one with refuses an order of the wrong length', async () => {
    const adam = new Adam({ learningRate: 0.01 });
    const m = model(gpu(), tutorial(), { optimizer: adam });
    const data = reviews(10, 10);
    const ctx = await contextOf(() => m.predict(data.x, { batchSize: 4 }));
    const examples = { ids: data.x.data, length: STEPS, labels: Float32Array.from(data.y) };
    const order = Int32Array.from({ length: 10 }, (_, i) => i);

    const evaluating = (await FusedExecutor.create({ ...ctx, optimizer: null })) as FusedExecutor;
    const set = await evaluating.prepare(examples);
    await expect(evaluating.epoch({ set, order }, [])).rejects.toThrow(new Error('FusedExecutor: created without an optimizer, it can only evaluate'));
    set.dispose();
    evaluating.dispose();

    const training = (await FusedExecutor.create({ ...ctx, optimizer: adam })) as FusedExecutor;
    const trainSet = await training.prepare(examples);
    const error = await training.epoch({ set: trainSet, order: order.subarray(1) }, []).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RangeError);
    expect((error as RangeError).message).toBe('epoch: an order of 9 reviews for a training set of 10');
    expect(adam.iterations).toBe(0);
    trainSet.dispose();
    training.dispose();
    m.dispose();
  });

  it('a prepared set keeps training on the labels it first trained on, when the caller reuses its array', async () => {
    const data = reviews(24, 11);
    const order = Int32Array.from({ length: 24 }, (_, i) => i);
    const run = async (flipAfterFirstEpoch: boolean) => {
      const adam = new Adam({ learningRate: 0.05 });
      const m = model(gpu(), tutorial(), { optimizer: adam });
      const ctx = await contextOf(() => m.predict(data.x, { batchSize: 8 }));
      const executor = (await FusedExecutor.create({ ...ctx, optimizer: adam })) as FusedExecutor;
      const labels = Float32Array.from(data.y);
      const set = await executor.prepare({ ids: data.x.data, length: STEPS, labels });
      await executor.epoch({ set, order }, []);
      if (flipAfterFirstEpoch) labels.forEach((y, i) => (labels[i] = 1 - y));
      const second = await executor.epoch({ set, order }, []);
      set.dispose();
      executor.dispose();
      m.dispose();
      return Array.from(second.train!.loss);
    };
    const [kept, reused] = [await run(false), await run(true)];
    expect(kept.length).toBe(3);
    expect(reused).toEqual(kept);
  });

  it('fit, evaluate and predict free every buffer they made', async () => {
    const m = model(gpu());
    const [train, val] = [reviews(40, 12), reviews(24, 13)];
    const before = gpu().stats.bytesInUse;
    await m.fit(train.x, train.y, { batchSize: 16, epochs: 2, verbose: 0, validationData: [val.x, val.y] });
    expect(m.fusedReason).toBeNull();
    expect(gpu().stats.bytesInUse).toBe(before);
    await m.evaluate(val.x, val.y, { batchSize: 16, verbose: 0 });
    expect(gpu().stats.bytesInUse).toBe(before);
    await m.predict(val.x, { batchSize: 16 });
    expect(m.execution).toBe('fused');
    expect(gpu().stats.bytesInUse).toBe(before);
    m.dispose();
  });
});
