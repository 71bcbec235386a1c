/**
 * Every loss implementation at extreme logits, fused or not (issue #16): the unfused kernel
 * (shaders/binary-crossentropy.wgsl), the tape's binaryCrossentropy behind a sigmoid (which takes
 * the logits), and the fused head (shaders/classifier-head.wgsl). Logits of ±20, ±88, ±100 and
 * ±1e4 with both labels must give finite losses and gradients equal to the float64 reference:
 * the naive `z - z y + log(1 + exp(-z))` overflows to inf for z < -88.7 and fails here.
 */
import { describe, expect, it } from 'vitest';
import { bceFromLogitsBackward, bceFromLogitsBackwardReference, bceFromLogitsLosses, bceFromLogitsReference, bceLosses } from '../src/kernels/binary-crossentropy.js';
import { classifierHeadParams, classifierHeadReference, headOutputs, headRecordSize, prepareHeadTraining, type HeadLayout } from '../src/kernels/classifier-head.js';
import { batchWords } from '../src/kernels/embedding-bag.js';
import { binaryCrossentropy, sigmoid } from '../src/nn/ops.js';
import { Tape } from '../src/nn/tape.js';
import { useGpu } from './gpu-helpers.js';

const U = 2 ** -24;
/** WGSL's exp and log: 3 + 2|x| ulps at |x| <= 1 where their result matters here (exp(-|z|) of large |z| underflows to 0). */
const ULPS = 16;

/** Every extreme logit with each label: rows of (z, y). */
const MAGNITUDES = [20, 88, 100, 1e4];
const LOGITS = Float32Array.from(MAGNITUDES.flatMap((m) => [m, -m, m, -m]));
const LABELS = Float32Array.from(MAGNITUDES.flatMap(() => [1, 1, 0, 0]));
const ROWS = LOGITS.length;

/**
 * Finite, and within float32 rounding of the reference: a few ulps of the terms' magnitudes
 * (max(z, 0) + |z y| + log(1 + e^-|z|) for a loss; (σ(z) + y) / B for a gradient).
 */
function expectExact(what: string, actual: ArrayLike<number>, expected: ArrayLike<number>, magnitude: (i: number) => number): void {
  for (let i = 0; i < expected.length; i++) {
    const [z, y] = [LOGITS[i], LABELS[i]];
    expect(Number.isFinite(actual[i]), `${what} at z = ${z}, y = ${y}: ${actual[i]}`).toBe(true);
    const bound = ULPS * U * magnitude(i);
    expect(Math.abs(actual[i] - expected[i]), `${what} at z = ${z}, y = ${y}: ${actual[i]} vs ${expected[i]}`).toBeLessThanOrEqual(bound);
  }
}
const lossMagnitude = (i: number) => Math.max(LOGITS[i], 0) + Math.abs(LOGITS[i] * LABELS[i]) + Math.LN2;
const gradientMagnitude = (i: number) => (1 + LABELS[i]) / ROWS;

describe('losses at extreme logits, fused or not', () => {
  const gpu = useGpu();
  const reference = bceFromLogitsReference(LOGITS, LABELS);
  const gradReference = bceFromLogitsBackwardReference(LOGITS, LABELS);

  it('the reference losses are |z| where the label disagrees with the sign', () => {
    // A sanity anchor for the rest: z = -1e4 with y = 1 costs 1e4, z = 1e4 with y = 1 costs e^-1e4 = 0.
    expect(reference.perSample[MAGNITUDES.length * 4 - 3]).toBe(1e4);
    expect(reference.perSample[MAGNITUDES.length * 4 - 4]).toBe(0);
  });

  it('binary-crossentropy.wgsl from logits: per-sample losses, mean and gradient', async () => {
    const z = gpu().upload(LOGITS);
    const y = gpu().upload(LABELS);
    const { mean, perSample } = bceFromLogitsLosses(gpu(), z, y);
    expectExact('loss', await perSample.read(), reference.perSample, lossMagnitude);
    const [gpuMean] = await mean.read();
    expect(Math.abs(gpuMean - reference.mean)).toBeLessThanOrEqual((ROWS + ULPS) * U * reference.perSample.reduce((a, _, i) => a + lossMagnitude(i), 0) / ROWS);
    expectExact('d loss / dz', await bceFromLogitsBackward(gpu(), z, y).read(), gradReference, gradientMagnitude);
  });

  // Where the label agrees with the sign, the loss is log(1 + e^-|z|) alone, tiny, and past |z| = 6.9
  // (e^-|z| < 1e-3) it comes from binary-classification.wgsl's series u(1 - u(1/2 - u/3)): relative to
  // the loss itself, only exp's error (3 + 2|z| ulps, WGSL) and the series' few roundings remain.
  // A series term wrong by u (a `*` made `/`) is 9e-4 off at |z| = 7, far outside that.
  it('binary-crossentropy.wgsl from logits: a label that agrees with the sign costs log(1 + e^-|z|), to its own last digits', async () => {
    const magnitudes = [7, 8, 10, 12];
    const logits = Float32Array.from(magnitudes.flatMap((m) => [m, -m]));
    const labels = Float32Array.from(magnitudes.flatMap(() => [1, 0]));
    const want = bceFromLogitsReference(logits, labels).perSample;
    const losses = await bceFromLogitsLosses(gpu(), gpu().upload(logits), gpu().upload(labels)).perSample.read();
    logits.forEach((z, i) => {
      const bound = (3 + 2 * Math.abs(z) + 8) * U * want[i];
      expect(Math.abs(losses[i] - want[i]), `loss at z = ${z}, y = ${labels[i]}: ${losses[i]} vs ${want[i]}`).toBeLessThanOrEqual(bound);
    });
  });

  it('binary-crossentropy.wgsl from probabilities: σ(z) saturates at the clip, finite, as Keras\' float32 clip does', async () => {
    // σ(z) in float32: exactly 0 or 1 past |z| ~ 88 (and 1 from z ~ 17): clipped to [1e-7, 1 - 1e-7].
    const probs = LOGITS.map((z) => 1 / (1 + Math.exp(-z)));
    const losses = await bceLosses(gpu(), gpu().upload(probs), gpu().upload(LABELS)).perSample.read();
    const clipped = -Math.log(Math.fround(1e-7));
    for (let i = 0; i < ROWS; i++) {
      expect(Number.isFinite(losses[i])).toBe(true);
      // Where the label disagrees with the sign, the loss is at most the clipped -log(1e-7) = 16.1 (not |z|).
      if ((LOGITS[i] > 0) !== (LABELS[i] === 1)) expect(losses[i]).toBeLessThanOrEqual(clipped * (1 + 1e-6));
    }
  });

  it('the tape\'s binaryCrossentropy behind a sigmoid: loss and gradient of the logits', async () => {
    const z = gpu().upload(LOGITS);
    const tape = new Tape();
    const loss = tape.watch(() => binaryCrossentropy(sigmoid(z), gpu().upload(LABELS)));
    const dz = await tape.gradients(loss, [z]).get(z)!.read();
    const [value] = await loss.read();
    expect(Number.isFinite(value)).toBe(true);
    expect(Math.abs(value - reference.mean) / reference.mean).toBeLessThanOrEqual((ROWS + ULPS) * U * 2);
    expectExact('d loss / dz', dz, gradReference, gradientMagnitude);
    tape.dispose();
  });

  // One piece of rows (SwiftShader's gradients pass) and two (a GPU's, summed by a second pass).
  for (const pieces of [1, 2]) it(`classifier-head.wgsl (the fused head, ${pieces} piece${pieces > 1 ? 's' : ''}): per-row losses, dz, weight and input gradients`, async () => {
    // Dense(2, relu) -> Dense(1): x = (z+, z-), W1 = I, b1 = 0, W2 = (1, -1), b2 = 0 makes the logit z exactly.
    const layout: HeadLayout = { dim: 2, hidden: 2, relu: true, kernel1: 0, bias1: 4, kernel2: 6, bias2: 8 };
    const weights = Float32Array.of(1, 0, 0, 1, 0, 0, 1, -1, 0);
    const pooled = Float32Array.from(Array.from(LOGITS).flatMap((z) => [Math.max(z, 0), Math.max(-z, 0)]));
    const g = gpu();
    const stride = headRecordSize(layout.hidden);
    const b = {
      layout,
      capacity: ROWS,
      batch: g.upload(batchWords(0, ROWS, 0, false)),
      labels: g.upload(LABELS),
      pooled: g.upload(pooled, [ROWS, 2]),
      weights: g.upload(weights),
      samples: g.zeros([ROWS, stride]),
      metrics: g.zeros([1, 2]),
      dPooled: g.zeros([ROWS, 2]),
      grads: g.zeros([weights.length]),
      partials: g.zeros([pieces, headOutputs(layout)]),
    };
    const params = g.createUniform(classifierHeadParams(layout));
    const { sample, gradients } = await prepareHeadTraining(g, b, params);
    g.record([sample, ...gradients]);
    const [samples, dPooled, grads, metrics] = await g.readAll([b.samples, b.dPooled, b.grads, b.metrics]);
    params.destroy();
    // Each row's record: h [H], dz1 [H], dz, loss, correct.
    const column = (k: number) => Float32Array.from({ length: ROWS }, (_, r) => samples[r * stride + 2 * layout.hidden + k]);
    expectExact('loss', column(1), reference.perSample, lossMagnitude);
    expectExact('dz', column(0), gradReference, gradientMagnitude);
    const expected = classifierHeadReference(pooled, LABELS, { kernel1: weights.subarray(0, 4), bias1: weights.subarray(4, 6), kernel2: weights.subarray(6, 8), bias2: weights.subarray(8) }, 2, 2);
    // Weight gradients sum ROWS products of |x| <= 1e4 and |dz| <= 1/ROWS: rounding bound (ROWS + ULPS) u Σ|x dz|.
    const sumBound = (ROWS + ULPS) * U * 1e4 * 2;
    const flat = [...expected.grads.kernel1, ...expected.grads.bias1, ...expected.grads.kernel2, ...expected.grads.bias2];
    flat.forEach((want, i) => {
      expect(Number.isFinite(grads[i]), `grads[${i}]`).toBe(true);
      expect(Math.abs(grads[i] - want), `grads[${i}]: ${grads[i]} vs ${want}`).toBeLessThanOrEqual(sumBound);
    });
    expected.dx.forEach((want, i) => expect(Math.abs(dPooled[i] - want), `dPooled[${i}]`).toBeLessThanOrEqual(ULPS * U * 2 / ROWS));
    const lossSum = reference.perSample.reduce((a, v) => a + v, 0);
    expect(Number.isFinite(metrics[0])).toBe(true);
    expect(Math.abs(metrics[0] - lossSum)).toBeLessThanOrEqual((ROWS + ULPS) * U * 4e4);
    Object.values(b).forEach((t) => typeof t === 'object' && 'dispose' in t && t.dispose());
  });
});
