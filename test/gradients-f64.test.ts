/**
 * Gradients on the GPU against float64 references, with tolerances derived from float32 rounding
 * rather than a blanket percentage (issue #16: the old whole-model check allowed 2e-4 + 1% against
 * gradients of 5e-5, and compared dead ReLU units, 0 with 0).
 *
 * The tolerance of a float32 result is Higham's first-order bound: a sum of n products, each
 * correctly rounded, errs by at most n·u times the sum of the terms' magnitudes (u = 2^-24), and
 * a chain of stages adds its stages' n. WGSL allows exp and log 3 + 2|x| ulps, division 2.5 ulps:
 * those come in as extra ulps. `magnitude` is the same computation on the absolute values of every
 * factor. The float64 references are exact to ~1e-15 by comparison, and five-point differences of
 * them to ~1e-12 (see H), far below every bound here: the check is against the maths, and a bug of
 * one part in a million of a gradient's terms fails it.
 *
 * Every point is chosen where the function is smooth: ReLU inputs at least 0.1 from 0 (so each
 * step of a finite difference, 2·H at most, stays on one side), and in the whole model every hidden unit alive.
 */
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../src/gpu/gpu.js';
import { bceBackward, bceForward, bceFromLogitsBackward, bceFromLogitsForward } from '../src/kernels/binary-crossentropy.js';
import { conv1dForward, conv1dInputGradient, conv1dKernelGradient, conv1dReference, type Conv1DPadding } from '../src/kernels/conv1d.js';
import { denseBiasGradient, denseForward, denseInputGradient, denseKernelGradient } from '../src/kernels/dense.js';
import { embeddingBackward, embeddingForward, embeddingGradientIndex, uploadEmbeddingGradientIndex } from '../src/kernels/embedding.js';
import { maxPoolBackward, maxPoolForward } from '../src/kernels/max-pool.js';
import { meanPoolBackward, meanPoolForward } from '../src/kernels/mean-pool.js';
import { reluBackward, reluForward } from '../src/kernels/relu.js';
import { sigmoidBackward, sigmoidForward } from '../src/kernels/sigmoid.js';
import { binaryCrossentropy, dense, embedding, meanPool, relu, sigmoid } from '../src/nn/ops.js';
import { Tape } from '../src/nn/tape.js';
import { randomFloats, randomIds, useGpu } from './gpu-helpers.js';

/** float32's unit roundoff. */
const U = 2 ** -24;
/**
 * Step of the five-point differences of the float64 references: truncation ~h⁴ f⁽⁵⁾ ~ 1e-12, and
 * cancellation 1.5 · 2^-53 · |f| / h ~ 2e-12 for the |f| <= 10 here.
 */
const H = 1e-3;
/** What a five-point difference may be off by (see H), with margin. */
const FD_ERROR = 1e-11;
/** WGSL's exp and log: 3 + 2|x| ulps; |x| stays below 4 at these points, and a division adds 2.5. */
const TRANSCENDENTAL_ULPS = 16;

/** Each `actual[i]` within `ulps[i]·u·magnitude[i]` of `expected[i]`; names the first that is not. */
function expectWithinRounding(what: string, actual: ArrayLike<number>, expected: ArrayLike<number>, magnitude: ArrayLike<number>, ulps: number): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const bound = ulps * U * magnitude[i] + FD_ERROR;
    if (!(Math.abs(actual[i] - expected[i]) <= bound)) {
      expect.fail(`${what}[${i}]: ${actual[i]} differs from ${expected[i]} by ${Math.abs(actual[i] - expected[i])}, over the float32 bound ${bound}`);
    }
  }
}

/** d/dx_i of the float64 `f` at x by five-point differences, for every i. */
function numericGradient(x: ArrayLike<number>, f: (x: Float64Array) => number): Float64Array {
  return Float64Array.from({ length: x.length }, (_, i) => {
    const at = (d: number) => {
      const xs = Float64Array.from(x);
      xs[i] += d;
      return f(xs);
    };
    return (8 * (at(H) - at(-H)) - (at(2 * H) - at(-2 * H))) / (12 * H);
  });
}

/** Σ weights ⊙ values: the scalar whose gradient is a backward kernel's result for upstream `weights`. */
const dot = (weights: ArrayLike<number>, values: ArrayLike<number>) => Array.from(values).reduce((s, v, i) => s + weights[i] * v, 0);
const abs = (a: ArrayLike<number>) => Float64Array.from(a, Math.abs);
const sigmoid64 = (z: number) => 1 / (1 + Math.exp(-z));

/** Row-major [rows, inner] · [inner, cols] in float64 (with `abs`, of the absolute values). */
function matmul(a: ArrayLike<number>, b: ArrayLike<number>, rows: number, inner: number, cols: number, bias?: ArrayLike<number>): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      let acc = bias ? bias[c] : 0;
      for (let k = 0; k < inner; k++) acc += a[r * inner + k] * b[k * cols + c];
      out[r * cols + c] = acc;
    }
  return out;
}
const transpose = (a: ArrayLike<number>, rows: number, cols: number) =>
  Float64Array.from({ length: rows * cols }, (_, i) => a[(i % rows) * cols + Math.floor(i / rows)]);

describe('each op\'s gradient against finite differences of a float64 reference', () => {
  const gpu = useGpu();
  const up = (a: Float32Array | Int32Array, shape?: number[]) => gpu().upload(a, shape);
  const read = async (t: Tensor) => Float64Array.from((await t.read()) as Float32Array);

  it('embedding: each row\'s gradient sums the upstream gradients of its occurrences', async () => {
    const [vocab, dim, batch, steps] = [9, 3, 5, 7];
    const table = randomFloats(vocab * dim, 1, -0.5, 0.5);
    const ids = randomIds(batch * steps, 2, vocab - 1); // the last row never occurs: its gradient is exactly 0
    const dOut = randomFloats(batch * steps * dim, 3, -1, 1);
    const forward = (t: ArrayLike<number>) => Float64Array.from({ length: batch * steps * dim }, (_, i) => t[ids[Math.floor(i / dim)] * dim + (i % dim)]);
    const index = uploadEmbeddingGradientIndex(gpu(), embeddingGradientIndex(ids, vocab));
    const gpuOut = await read(embeddingForward(gpu(), up(table, [vocab, dim]), up(ids, [batch, steps])));
    const gpuGrad = await read(embeddingBackward(gpu(), up(dOut, [batch, steps, dim]), index, vocab, dim));
    expect(Array.from(gpuOut)).toEqual(Array.from(forward(table))); // a gather is exact
    const occurrences = Float64Array.from({ length: vocab * dim }, (_, i) => ids.filter((id) => id === Math.floor(i / dim)).length);
    const magnitude = numericGradient(table, (t) => dot(abs(dOut), forward(t)));
    const maxOccurrences = Math.max(...occurrences);
    expectWithinRounding('dTable', gpuGrad, numericGradient(table, (t) => dot(dOut, forward(t))), magnitude, maxOccurrences);
    expect(Array.from(gpuGrad.subarray((vocab - 1) * dim))).toEqual([0, 0, 0]);
  });

  it('mean-pool: every step gets the upstream gradient over T', async () => {
    const [batch, steps, dim] = [4, 6, 5];
    const x = randomFloats(batch * steps * dim, 4, -1, 1);
    const dOut = randomFloats(batch * dim, 5, -1, 1);
    const forward = (v: ArrayLike<number>) =>
      Float64Array.from({ length: batch * dim }, (_, i) => {
        const [b, d] = [Math.floor(i / dim), i % dim];
        let sum = 0;
        for (let t = 0; t < steps; t++) sum += v[(b * steps + t) * dim + d];
        return sum / steps;
      });
    const gpuOut = await read(meanPoolForward(gpu(), up(x, [batch, steps, dim])));
    const gpuGrad = await read(meanPoolBackward(gpu(), up(dOut, [batch, dim]), steps));
    // Forward: a sum of T terms and a division.
    expectWithinRounding('mean', gpuOut, forward(x), forward(abs(x)), steps + 3);
    expectWithinRounding('dx', gpuGrad, numericGradient(x, (v) => dot(dOut, forward(v))), numericGradient(x, (v) => dot(abs(dOut), forward(v))), 3);
  });

  it('dense: input, kernel and bias gradients', async () => {
    const [batch, inputs, units] = [6, 5, 4];
    const x = randomFloats(batch * inputs, 6, -1, 1);
    const kernel = randomFloats(inputs * units, 7, -1, 1);
    const bias = randomFloats(units, 8, -1, 1);
    const dOut = randomFloats(batch * units, 9, -1, 1);
    const [gx, gk, gb] = [up(x, [batch, inputs]), up(kernel, [inputs, units]), up(bias)];
    const gy = up(dOut, [batch, units]);
    const out = await read(denseForward(gpu(), gx, gk, gb));
    expectWithinRounding('x·kernel + bias', out, matmul(x, kernel, batch, inputs, units, bias), matmul(abs(x), abs(kernel), batch, inputs, units, abs(bias)), inputs + 1);
    const loss = (xs: ArrayLike<number>, ks: ArrayLike<number>, bs: ArrayLike<number>, w: ArrayLike<number> = dOut) => dot(w, matmul(xs, ks, batch, inputs, units, bs));
    const absLoss = (xs: ArrayLike<number>, ks: ArrayLike<number>, bs: ArrayLike<number>) => loss(xs, ks, bs, abs(dOut));
    expectWithinRounding('dx', await read(denseInputGradient(gpu(), gy, gk)), numericGradient(x, (v) => loss(v, kernel, bias)), numericGradient(x, (v) => absLoss(v, abs(kernel), bias)), units);
    expectWithinRounding('dKernel', await read(denseKernelGradient(gpu(), gx, gy)), numericGradient(kernel, (v) => loss(x, v, bias)), numericGradient(kernel, (v) => absLoss(abs(x), v, bias)), batch);
    expectWithinRounding('dBias', await read(denseBiasGradient(gpu(), gy)), numericGradient(bias, (v) => loss(x, kernel, v)), numericGradient(bias, (v) => absLoss(x, kernel, v)), batch);
  });

  it('relu: the gradient passes where x > 0 and is exactly 0 elsewhere (inputs at least 0.1 from the kink)', async () => {
    const x = randomFloats(64, 10, -1, 1).map((v) => (v < 0 ? v - 0.1 : v + 0.1));
    const dOut = randomFloats(64, 11, -1, 1);
    const forward = (v: ArrayLike<number>) => Float64Array.from(v, (e) => Math.max(e, 0));
    expect(Array.from(await read(reluForward(gpu(), up(x))))).toEqual(Array.from(forward(x)));
    const numeric = numericGradient(x, (v) => dot(dOut, forward(v)));
    expectWithinRounding('dx', await read(reluBackward(gpu(), up(x), up(dOut))), numeric, abs(numeric), 0);
    expect(numeric.filter((v) => v === 0).length).toBeGreaterThan(16); // both sides of the kink are in
  });

  it('relu at the kink: the gradient at x = 0 (and -0) is 0, as TF\'s ReluGrad dy·(x > 0) gives', async () => {
    const x = Float32Array.of(0, -0, 1e-30, -1e-30);
    const dx = await read(reluBackward(gpu(), up(x), up(Float32Array.of(1, 1, 1, 1))));
    expect(Array.from(dx)).toEqual([0, 0, 1, 0]);
  });

  it('sigmoid: dy σ(x)(1 - σ(x))', async () => {
    const x = randomFloats(64, 12, -4, 4);
    const dOut = randomFloats(64, 13, -1, 1);
    const forward = (v: ArrayLike<number>) => Float64Array.from(v, sigmoid64);
    const y = sigmoidForward(gpu(), up(x));
    expectWithinRounding('σ(x)', await read(y), forward(x), forward(x), TRANSCENDENTAL_ULPS);
    // The backward reads the float32 σ(x): its error δσ ≤ 16 ulps of σ moves σ(1 - σ) by at most δσ.
    const magnitude = Float64Array.from(x, (v, i) => Math.abs(dOut[i]) * sigmoid64(v));
    expectWithinRounding('dx', await read(sigmoidBackward(gpu(), y, up(dOut))), numericGradient(x, (v) => dot(dOut, forward(v))), magnitude, TRANSCENDENTAL_ULPS + 3);
  });

  for (const padding of ['valid', 'same'] as Conv1DPadding[]) {
    it(`conv1d (${padding}): input and kernel gradients`, async () => {
      const shape = { batch: 3, steps: 7, channels: 4, filters: 5, kernelSize: 3, padding };
      const { batch, steps, channels, filters, kernelSize } = shape;
      const outSteps = padding === 'same' ? steps : steps - kernelSize + 1;
      const x = randomFloats(batch * steps * channels, 30, -1, 1);
      const kernel = randomFloats(kernelSize * channels * filters, 31, -1, 1);
      const bias = randomFloats(filters, 32, -1, 1);
      const dOut = randomFloats(batch * outSteps * filters, 33, -1, 1);
      const forward = (xs: ArrayLike<number>, ks: ArrayLike<number>) => conv1dReference(xs, ks, bias, shape, new Float64Array(batch * outSteps * filters));
      const [gx, gk, gy] = [up(x, [batch, steps, channels]), up(kernel, [kernelSize, channels, filters]), up(dOut, [batch, outSteps, filters])];
      // Each output sums K·C products (and the bias); each gradient element at most K·(B·T) of them.
      expectWithinRounding('y', await read(conv1dForward(gpu(), gx, gk, up(bias), padding)), forward(x, kernel), conv1dReference(abs(x), abs(kernel), abs(bias), shape, new Float64Array(batch * outSteps * filters)), kernelSize * channels + 1);
      const loss = (xs: ArrayLike<number>, ks: ArrayLike<number>, w: ArrayLike<number> = dOut) => dot(w, forward(xs, ks));
      expectWithinRounding('dx', await read(conv1dInputGradient(gpu(), gy, gk, steps, padding)), numericGradient(x, (v) => loss(v, kernel)), numericGradient(x, (v) => loss(v, abs(kernel), abs(dOut))), kernelSize * filters);
      expectWithinRounding('dKernel', await read(conv1dKernelGradient(gpu(), gx, gy, kernelSize, padding)), numericGradient(kernel, (v) => loss(x, v)), numericGradient(kernel, (v) => loss(abs(x), v, abs(dOut))), batch * outSteps);
    });
  }

  it('max-pool over steps: the gradient goes to each (batch, feature)\'s largest step, exactly', async () => {
    const [batch, steps, dim] = [3, 6, 4];
    // Distinct values at least 0.05 apart, so a finite difference's step never changes the argmax.
    const x = Float32Array.from({ length: batch * steps * dim }, (_, i) => (((i * 37) % 72) - 36) / 20);
    const dOut = randomFloats(batch * dim, 34, -1, 1);
    const forward = (v: ArrayLike<number>) =>
      Float64Array.from({ length: batch * dim }, (_, i) => {
        const [b, d] = [Math.floor(i / dim), i % dim];
        let best = -Infinity;
        for (let t = 0; t < steps; t++) best = Math.max(best, v[(b * steps + t) * dim + d]);
        return best;
      });
    const gx = up(x, [batch, steps, dim]);
    const pooled = maxPoolForward(gpu(), gx);
    expect(Array.from(await read(pooled))).toEqual(Array.from(forward(x)));
    const numeric = numericGradient(x, (v) => dot(dOut, forward(v)));
    expectWithinRounding('dx', await read(maxPoolBackward(gpu(), gx, pooled, up(dOut, [batch, dim]))), numeric, abs(numeric), 0);
    expect(numeric.filter((v) => v !== 0)).toHaveLength(batch * dim);
  });

  const batch = 11;
  const labels = Float32Array.from({ length: batch }, (_, i) => (i * 5) % 3 === 0 ? 1 : 0);

  it('binary cross-entropy from logits: loss and d(mean loss)/dz = (σ(z) - y)/B', async () => {
    const z = randomFloats(batch, 14, -3.5, 3.5);
    const loss = (v: ArrayLike<number>) => Array.from(v).reduce((s, zi, i) => s + Math.max(zi, 0) - zi * labels[i] + Math.log1p(Math.exp(-Math.abs(zi))), 0) / batch;
    const absTerms = Array.from(z).reduce((s, zi, i) => s + Math.max(zi, 0) + Math.abs(zi * labels[i]) + Math.log1p(Math.exp(-Math.abs(zi))), 0) / batch;
    const [gz, gy] = [up(z), up(labels)];
    // The mean: B terms summed, each with an exp and a log, then a division.
    expectWithinRounding('loss', await read(bceFromLogitsForward(gpu(), gz, gy)), [loss(z)], [absTerms], batch + TRANSCENDENTAL_ULPS);
    const magnitude = Float64Array.from(z, (v, i) => (sigmoid64(v) + labels[i]) / batch);
    expectWithinRounding('dz', await read(bceFromLogitsBackward(gpu(), gz, gy)), numericGradient(z, loss), magnitude, TRANSCENDENTAL_ULPS);
  });

  it('binary cross-entropy from probabilities: loss and d(mean loss)/dp inside the clip', async () => {
    const p = randomFloats(batch, 15, 0.05, 0.95);
    const loss = (v: ArrayLike<number>) => Array.from(v).reduce((s, pi, i) => s - (labels[i] * Math.log(pi) + (1 - labels[i]) * Math.log(1 - pi)), 0) / batch;
    const absTerms = Array.from(p).reduce((s, pi, i) => s + Math.abs(labels[i] * Math.log(pi)) + Math.abs((1 - labels[i]) * Math.log(1 - pi)), 0) / batch;
    const [gp, gy] = [up(p), up(labels)];
    expectWithinRounding('loss', await read(bceForward(gpu(), gp, gy)), [loss(p)], [absTerms], batch + TRANSCENDENTAL_ULPS);
    const magnitude = Float64Array.from(p, (v, i) => ((1 - labels[i]) / (1 - v) + labels[i] / v) / batch);
    expectWithinRounding('dp', await read(bceBackward(gpu(), gp, gy)), numericGradient(p, loss), magnitude, 8);
  });
});

// ---- the tutorial model: Embedding -> GlobalAveragePooling1D -> Dense(relu) -> Dense(1, sigmoid) -> BCE ----

const VOCAB = 12;
const DIM = 4;
const HIDDEN = 5;
const BATCH = 7; // not a multiple of anything
const STEPS = 6;
/** The deepest chain of float32 sums in the model's backward: occurrences of an id (up to B·T), then H, D, B, the mean's T. */
const MODEL_ULPS = BATCH * STEPS + HIDDEN + DIM + BATCH + STEPS + 2 * TRANSCENDENTAL_ULPS;

type ModelWeights = [table: Float64Array, kernel1: Float64Array, bias1: Float64Array, kernel2: Float64Array, bias2: Float64Array];

interface ModelPass {
  loss: number;
  /** Pre-activations of the hidden layer, [B, H]. */
  z1: Float64Array;
  grads: ModelWeights;
}

/**
 * The model in float64, forward and backward by hand. With `magnitudes`, the backward multiplies
 * absolute values only (the sum of the terms' magnitudes behind each gradient element), and the
 * logit's gradient also carries the forward's rounding (|z|'s magnitude / 4 = its effect through σ').
 */
function tutorialModel(w: ModelWeights, ids: Int32Array, labels: ArrayLike<number>, magnitudes = false): ModelPass {
  const [table, kernel1, bias1, kernel2, bias2] = magnitudes ? (w.map(abs) as ModelWeights) : w;
  const pooled = new Float64Array(BATCH * DIM);
  for (let b = 0; b < BATCH; b++)
    for (let t = 0; t < STEPS; t++)
      for (let d = 0; d < DIM; d++) pooled[b * DIM + d] += table[ids[b * STEPS + t] * DIM + d] / STEPS;
  const z1 = matmul(pooled, kernel1, BATCH, DIM, HIDDEN, bias1);
  const h = z1.map((v) => Math.max(v, 0));
  const z = matmul(h, kernel2, BATCH, HIDDEN, 1, bias2);
  let loss = 0;
  z.forEach((zi, b) => (loss += Math.max(zi, 0) - zi * labels[b] + Math.log1p(Math.exp(-Math.abs(zi)))));
  const dz = Float64Array.from(z, (zi, b) => (magnitudes ? sigmoid64(zi) + labels[b] + Math.abs(zi) / 4 : sigmoid64(zi) - labels[b]) / BATCH);
  const dKernel2 = matmul(transpose(h, BATCH, HIDDEN), dz, HIDDEN, BATCH, 1);
  const dBias2 = Float64Array.of(dz.reduce((a, v) => a + v, 0));
  const dz1 = matmul(dz, transpose(kernel2, HIDDEN, 1), BATCH, 1, HIDDEN).map((v, i) => (z1[i] > 0 ? v : 0));
  const dKernel1 = matmul(transpose(pooled, BATCH, DIM), dz1, DIM, BATCH, HIDDEN);
  const dBias1 = Float64Array.from({ length: HIDDEN }, (_, j) => dz1.reduce((a, v, i) => a + (i % HIDDEN === j ? v : 0), 0));
  const dPooled = matmul(dz1, transpose(kernel1, DIM, HIDDEN), BATCH, HIDDEN, DIM);
  const dTable = new Float64Array(VOCAB * DIM);
  for (let b = 0; b < BATCH; b++)
    for (let t = 0; t < STEPS; t++)
      for (let d = 0; d < DIM; d++) dTable[ids[b * STEPS + t] * DIM + d] += dPooled[b * DIM + d] / STEPS;
  return { loss: loss / BATCH, z1, grads: [dTable, dKernel1, dBias1, dKernel2, dBias2] };
}

describe('the tutorial model in miniature, through the tape, against its float64 reference', () => {
  const gpu = useGpu();

  // A point where every hidden unit is alive: pooled features within ±0.5, |x·W1| <= 4·0.5·0.1 = 0.2,
  // and b1 in [0.3, 0.6], so every pre-activation lies in [0.1, 0.8]. Labels of both kinds.
  const shapes = [[VOCAB, DIM], [DIM, HIDDEN], [HIDDEN], [HIDDEN, 1], [1]];
  const init32 = [
    randomFloats(VOCAB * DIM, 20, -0.5, 0.5),
    randomFloats(DIM * HIDDEN, 21, -0.1, 0.1),
    randomFloats(HIDDEN, 22, 0.3, 0.6),
    randomFloats(HIDDEN, 23, -1.5, 1.5),
    randomFloats(1, 24, -0.5, 0.5),
  ];
  const init = init32.map((a) => Float64Array.from(a)) as ModelWeights;
  const ids = Int32Array.from({ length: BATCH * STEPS }, (_, i) => (i * 7 + (i % 5)) % (VOCAB - 1)); // row VOCAB-1 unused
  const labels = Float32Array.from({ length: BATCH }, (_, i) => i % 2);

  it('the reference is right: its backward matches central differences of its forward, with every unit alive', () => {
    const pass = tutorialModel(init, ids, labels);
    expect(Math.min(...pass.z1)).toBeGreaterThan(0.1);
    init.forEach((w, k) => {
      const numeric = numericGradient(w, (v) => tutorialModel(init.map((a, j) => (j === k ? v : a)) as ModelWeights, ids, labels).loss);
      numeric.forEach((n, i) => expect(Math.abs(pass.grads[k][i] - n), `weight ${k}[${i}]`).toBeLessThanOrEqual(1e-9 + 1e-7 * Math.abs(n)));
    });
  });

  it('every gradient of every weight from the tape is within float32 rounding of the reference', async () => {
    const weights = init32.map((w, i) => gpu().upload(w, shapes[i]));
    const tape = new Tape();
    const loss = tape.watch(() => {
      const [table, k1, b1, k2, b2] = weights;
      const z = dense(relu(dense(meanPool(embedding(table, gpu().upload(ids, [BATCH, STEPS]), ids)), k1, b1)), k2, b2);
      return binaryCrossentropy(sigmoid(z), gpu().upload(labels));
    });
    const grads = tape.gradients(loss, weights);
    const expected = tutorialModel(init, ids, labels);
    const magnitude = tutorialModel(init, ids, labels, true);
    expectWithinRounding('loss', await loss.read(), [expected.loss], [magnitude.loss], MODEL_ULPS);
    const names = ['embeddings', 'kernel1', 'bias1', 'kernel2', 'bias2'];
    for (let k = 0; k < weights.length; k++) {
      const got = (await grads.get(weights[k])!.read()) as Float32Array;
      expectWithinRounding(names[k], got, expected.grads[k], magnitude.grads[k], MODEL_ULPS);
      // Every element is checked, and none of them compares 0 with 0 but the unused embedding row.
      const zeros = Array.from(expected.grads[k]).filter((v) => v === 0).length;
      expect(zeros, names[k]).toBe(k === 0 ? DIM : 0);
    }
    tape.dispose();
  });
});
