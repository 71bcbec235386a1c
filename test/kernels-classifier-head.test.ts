import { describe, expect, it } from 'vitest';
import { linearWorkgroups, type Gpu, type Tensor } from '../src/gpu/gpu.js';
import {
  classifierHeadParams,
  classifierHeadReference,
  headOutputs,
  headPieces,
  headRecordSize,
  prepareHeadEvaluation,
  prepareHeadTraining,
  type HeadLayout,
} from '../src/kernels/classifier-head.js';
import { batchWords } from '../src/kernels/embedding-bag.js';
import { expectClose, randomFloats, useGpu } from './gpu-helpers.js';

/**
 * A layout with the head's weights after a 12-float "embedding", as in the fused trainer's flat buffer;
 * `gap` floats between the blocks (the kernel takes any offsets: a write into a gap is a wrong offset).
 */
function layout(dim: number, hidden: number, relu = true, gap = 0): HeadLayout {
  const kernel1 = 12;
  const bias1 = kernel1 + dim * hidden + gap;
  const kernel2 = bias1 + hidden + gap;
  return { dim, hidden, relu, kernel1, bias1, kernel2, bias2: kernel2 + hidden + gap };
}

/** What the scratch buffers hold before a run: 0, or what an earlier, larger batch would leave there. */
const STALE = 1e3;

describe('classifier-head kernel (dense, relu, dense, sigmoid, BCE, accuracy)', () => {
  const gpu = useGpu();

  async function run(l: HeadLayout, rows: number, capacity: number, chunk: number, pieces = 1, stale = false) {
    const g = gpu();
    const count = l.bias2 + 1;
    // Inputs scaled so that some relu units are off and some logits are large.
    const weights = randomFloats(count, 21, -1.5, 1.5);
    const x = randomFloats(capacity * l.dim, 22, -2, 2);
    const reviews = rows + 5;
    // Labels in the rows' order, the batch starting at row `first` of them.
    const labels = Float32Array.from({ length: reviews }, (_, i) => (i * 7) % 3 === 0 ? 1 : 0);
    const first = 5;
    const tensors: Tensor[] = [];
    const keep = <T extends Tensor>(t: T) => (tensors.push(t), t);
    const b = {
      layout: l,
      capacity,
      batch: keep(g.upload(batchWords(first, rows, 1, false))),
      labels: keep(g.upload(labels)),
      pooled: keep(g.upload(x)),
      weights: keep(g.upload(weights)),
      samples: keep(g.upload(new Float32Array(capacity * headRecordSize(l.hidden)).fill(stale ? STALE : 0), [capacity, headRecordSize(l.hidden)])),
      // A pair past the last chunk's, which no pass may write.
      metrics: keep(g.zeros([Math.max(2, Math.ceil(rows / chunk)) + 1, 2])),
      dPooled: keep(g.zeros([capacity, l.dim])),
      grads: keep(g.upload(new Float32Array(count).fill(-7))),
      partials: keep(g.zeros([pieces, headOutputs(l)])),
    };
    const params = g.createUniform(classifierHeadParams(l, chunk));
    const training = await prepareHeadTraining(g, b, params);
    g.record([training.sample, ...training.gradients]);
    const [dPooled, grads, trainMetrics, partials] = await g.readAll([b.dPooled, b.grads, b.metrics, b.partials]);
    g.write(b.metrics, new Float32Array(b.metrics.size).fill(stale ? STALE : 0));
    // Evaluation must write every record it sums, not find training's still there.
    if (stale) g.write(b.samples, new Float32Array(b.samples.size).fill(STALE));
    const evaluation = await prepareHeadEvaluation(g, { ...b, batch: keep(g.upload(batchWords(first, rows, 0, false))) }, params, chunk);
    g.record([evaluation.sample, evaluation.sums]);
    const [evalMetrics, samples] = await g.readAll([b.metrics, b.samples]);
    params.destroy();
    tensors.forEach((t) => t.dispose());
    const y = labels.subarray(first, first + rows);
    const slice = (at: number, n: number) => weights.subarray(at, at + n);
    const expected = classifierHeadReference(x.subarray(0, rows * l.dim), y, {
      kernel1: slice(l.kernel1, l.dim * l.hidden),
      bias1: slice(l.bias1, l.hidden),
      kernel2: slice(l.kernel2, l.hidden),
      bias2: slice(l.bias2, 1),
    }, l.dim, l.hidden, l.relu);
    const passes = [training.sample, ...training.gradients, evaluation.sample, evaluation.sums].map((p) => [p.label, p.workgroups]);
    return { dPooled: dPooled.subarray(0, rows * l.dim), grads, trainMetrics, evalMetrics, partials, samples, expected, dispatches: training.gradients.length, passes };
  }

  // Pieces of the rows for the gradients' sums: one (SwiftShader's), several (a GPU's: 4 of 10
  // rows, the last short), more than the batch has rows (empty pieces add zero).
  for (const [relu, pieces] of [[true, 1], [false, 1], [true, 4], [false, 40]] as const) {
    it(`matches the reference forward and backward (${relu ? 'relu' : 'linear'} hidden layer, a batch short of capacity, ${pieces} piece${pieces > 1 ? 's' : ''})`, async () => {
      const l = layout(8, 5, relu);
      const r = await run(l, 37, 40, 16, pieces);
      expect(r.dispatches).toBe(pieces > 1 ? 2 : 1);
      const tol = { atol: 1e-6, rtol: 1e-4 };
      expectClose(r.dPooled, r.expected.dx, tol);
      expectClose(r.grads.subarray(l.kernel1, l.bias1), r.expected.grads.kernel1, tol);
      expectClose(r.grads.subarray(l.bias1, l.kernel2), r.expected.grads.bias1, tol);
      expectClose(r.grads.subarray(l.kernel2, l.bias2), r.expected.grads.kernel2, tol);
      expectClose(r.grads.subarray(l.bias2, l.bias2 + 1), r.expected.grads.bias2, tol);
      // Only the head's part of the flat gradient is written.
      expect(Array.from(r.grads.subarray(0, l.kernel1))).toEqual(new Array(l.kernel1).fill(-7));
      // Training writes the step's pair at batch.slot (1); evaluation one pair per chunk of 16 rows.
      const lossSum = r.expected.losses.reduce((a, v) => a + v, 0);
      const correct = r.expected.correct.reduce((a, v) => a + v, 0);
      expectClose(r.trainMetrics.subarray(2, 4), [lossSum, correct], { atol: 1e-4, rtol: 1e-5 });
      const chunks = [0, 16, 32].map((s) => [s, Math.min(37, s + 16)]);
      const perChunk = chunks.flatMap(([s, e]) => [r.expected.losses.slice(s, e).reduce((a, v) => a + v, 0), r.expected.correct.slice(s, e).reduce((a, v) => a + v, 0)]);
      expectClose(r.evalMetrics.subarray(0, 6), perChunk, { atol: 1e-4, rtol: 1e-5 });
    });
  }

  it('sums in pieces the same as in one piece, to float rounding, and names a scratch of the wrong shape', async () => {
    const l = layout(8, 5);
    const [one, four] = [await run(l, 37, 40, 16, 1), await run(l, 37, 40, 16, 4)];
    expectClose(four.grads, one.grads, { atol: 1e-6, rtol: 1e-5 });
    expectClose(four.trainMetrics, one.trainMetrics, { atol: 1e-5, rtol: 1e-6 });
    const g = gpu();
    const t = g.zeros([4]);
    const wrong = g.zeros([2, headOutputs(l) - 1]);
    const b = { layout: l, capacity: 4, batch: t, labels: t, pooled: t, weights: t, samples: t, metrics: t, dPooled: t, grads: t, partials: wrong };
    const params = g.createUniform(classifierHeadParams(l));
    await expect(prepareHeadTraining(g, b, params)).rejects.toThrow(`classifierHead: partials must be [pieces, ${headOutputs(l)}], found [2, ${headOutputs(l) - 1}]`);
    params.destroy();
    t.dispose();
    wrong.dispose();
  });

  // Evaluation sums per chunk in ceil(capacity / chunk) invocations: 129 rows in chunks of 2 need
  // 65, one past a workgroup, so the last chunk (row 128 alone) is summed only if the count rounds up.
  // Rows past the batch hold stale values: a last chunk that read past its end would add them.
  it('sums every chunk of an evaluation, the last one short, past one workgroup of chunks', async () => {
    const r = await run(layout(4, 3), 129, 130, 2, 1, true);
    const perChunk = Array.from({ length: 65 }, (_, c) => [c * 2, Math.min(129, c * 2 + 2)]).flatMap(([s, e]) => [
      r.expected.losses.slice(s, e).reduce((a, v) => a + v, 0),
      r.expected.correct.slice(s, e).reduce((a, v) => a + v, 0),
    ]);
    expectClose(r.evalMetrics.subarray(0, 130), perChunk, { atol: 1e-5, rtol: 1e-5 });
  });

  // Past 3 workgroups of rows, of outputs and of chunks, so that every pass's 2-D index is used
  // (tests split dispatches over x and y: test/setup.ts); weights with gaps between their blocks; the
  // scratch buffers holding an earlier batch's values; 300 rows in pieces of ceil(rows / pieces), read
  // back one by one: 4 pieces of 75 (the rows a multiple of the pieces) and 7 of 43 (the last short).
  for (const pieces of [4, 7]) it(`a batch of 300 rows and 291 outputs in ${pieces} pieces: every pass past 3 workgroups, weights with gaps, stale scratch`, async () => {
    const l = layout(16, 16, true, 3);
    const [rows, capacity] = [300, 304];
    const outputs = headOutputs(l);
    expect(outputs).toBe(291);
    const r = await run(l, rows, capacity, 1, pieces, true);
    const tol = { atol: 1e-6, rtol: 1e-4 };
    expectClose(r.dPooled, r.expected.dx, tol);
    expectClose(r.grads.subarray(l.kernel1, l.kernel1 + 256), r.expected.grads.kernel1, tol);
    expectClose(r.grads.subarray(l.bias1, l.bias1 + 16), r.expected.grads.bias1, tol);
    expectClose(r.grads.subarray(l.kernel2, l.kernel2 + 16), r.expected.grads.kernel2, tol);
    expectClose(r.grads.subarray(l.bias2, l.bias2 + 1), r.expected.grads.bias2, tol);
    for (const gap of [l.kernel1 + 256, l.bias1 + 16, l.kernel2 + 16]) expect(Array.from(r.grads.subarray(gap, gap + 3)), `the gap at ${gap}`).toEqual([-7, -7, -7]);
    // Each piece's correct count (its last output), an exact integer: rows [k per, (k + 1) per).
    const per = Math.ceil(rows / pieces);
    const correctIn = (s: number, e: number) => r.expected.correct.slice(s, Math.min(e, rows)).reduce((a, v) => a + v, 0);
    const perPiece = Array.from({ length: pieces }, (_, k) => r.partials[k * outputs + outputs - 1]);
    expect(perPiece).toEqual(Array.from({ length: pieces }, (_, k) => correctIn(k * per, (k + 1) * per)));
    // Evaluation in chunks of one row: a pair per row, and the pair after them untouched.
    expectClose(r.evalMetrics.subarray(0, 2 * rows), Array.from({ length: rows }, (_, b) => [r.expected.losses[b], r.expected.correct[b]]).flat(), { atol: 1e-5, rtol: 1e-5 });
    expect(Array.from(r.evalMetrics.subarray(2 * rows, 2 * rows + 2))).toEqual([STALE, STALE]);
    // The records past the batch's rows keep what they held.
    const stride = headRecordSize(l.hidden);
    expect(Array.from(r.samples.subarray(rows * stride)).every((v) => v === STALE)).toBe(true);
  });

  // The timer and profiles name a pass `classifier-head:entry point`; each pass has the invocations
  // it needs (64 a workgroup): a row each, an output of each piece, a chunk of 2 rows each.
  it('labels its passes and sizes their dispatches', async () => {
    const l = layout(4, 3);
    const wg = (n: number) => [...linearWorkgroups(n, 64), 1];
    const { passes } = await run(l, 100, 130, 2, 4);
    expect(passes).toEqual([
      ['classifier-head:trainSample', wg(130)],
      ['classifier-head:gradients', wg(headOutputs(l) * 4)],
      ['classifier-head:sumPieces', wg(headOutputs(l))],
      ['classifier-head:evaluateSample', wg(130)],
      ['classifier-head:metricSums', wg(65)],
    ]);
  });

  // The guard reads only the scratch's shape: fake tensors suffice. A third axis, and zero pieces, each alone.
  it('refuses a partials scratch of rank 3 or of zero pieces', async () => {
    const l = layout(8, 5);
    const outputs = headOutputs(l);
    const fake = (shape: number[]) => ({ shape }) as unknown as Tensor;
    const t = fake([4]);
    const b = { layout: l, capacity: 4, batch: t, labels: t, pooled: t, weights: t, samples: t, metrics: t, dPooled: t, grads: t };
    const params = {} as GPUBuffer;
    await expect(prepareHeadTraining(gpu(), { ...b, partials: fake([2, outputs, 1]) }, params)).rejects.toThrow(`classifierHead: partials must be [pieces, ${outputs}], found [2, ${outputs}, 1]`);
    await expect(prepareHeadTraining(gpu(), { ...b, partials: fake([0, outputs]) }, params)).rejects.toThrow(`classifierHead: partials must be [pieces, ${outputs}], found [0, ${outputs}]`);
  });
});

describe('classifier-head sizes, pieces, params and reference conventions', () => {
  it('sizes a row record (h, dz1, dz, loss, correct) and the gradients pass outputs (W1, b1, W2, b2, loss, correct)', () => {
    expect(headRecordSize(5)).toBe(13);
    expect(headOutputs({ dim: 8, hidden: 5 })).toBe(8 * 5 + 5 + 5 + 1 + 2);
  });

  // SwiftShader: one piece; a hardware adapter (or a device without a report, taken as one):
  // ceil(capacity / 32) pieces, at least one.
  it('cuts a batch into one piece on a software adapter and into pieces of 32 rows on a hardware one', () => {
    const software = { report: { isSoftware: true } } as unknown as Gpu;
    const hardware = { report: { isSoftware: false } } as unknown as Gpu;
    const unreported = {} as unknown as Gpu;
    expect(headPieces(software, 512)).toBe(1);
    expect([headPieces(hardware, 512), headPieces(hardware, 33), headPieces(hardware, 32), headPieces(hardware, 0)]).toEqual([16, 2, 1, 1]);
    expect(headPieces(unreported, 100)).toBe(4);
  });

  it('writes the activation flag and offsets into the uniform, the chunk one row by default', () => {
    const l = layout(8, 5);
    expect(Array.from(classifierHeadParams(l))).toEqual([1, l.kernel1, l.bias1, l.kernel2, l.bias2, 1]);
    expect(Array.from(classifierHeadParams({ ...l, relu: false }, 16))).toEqual([0, l.kernel1, l.bias1, l.kernel2, l.bias2, 16]);
  });

  // All-zero first layer: z1 = 0 for every unit, so relu is off exactly at its kink, and z = b2 = 0
  // gives p exactly 0.5. Keras predicts 0 there (binary_accuracy: p > 0.5), and relu's gradient
  // at 0 is 0 (TensorFlow's ReluGrad: features > 0), as the shader has it.
  it('the reference: relu by default, p = 0.5 predicts 0, and relu passes no gradient at 0', () => {
    const w = { kernel1: [0, 0, 0, 0], bias1: [0, 0], kernel2: [1, -2], bias2: [0] };
    const x = [1, 2, 3, 4];
    const y = [0, 1];
    const relu = classifierHeadReference(x, y, w, 2, 2);
    expect(Array.from(relu.correct)).toEqual([1, 0]);
    expect(Array.from(relu.grads.bias1)).toEqual([0, 0]);
    expect(Array.from(relu.grads.kernel1)).toEqual([0, 0, 0, 0]);
    // The linear layer passes it: row b's dz = (0.5 - y[b]) / 2 through W2 and x.
    const linear = classifierHeadReference(x, y, w, 2, 2, false);
    expect(Array.from(linear.grads.kernel1)).toEqual([-0.5, 1, -0.5, 1]);
    // Negative pre-activations: relu zeroes h, the linear layer keeps it.
    const negative = { ...w, bias1: [-1, -1] };
    expect(classifierHeadReference(x, y, negative, 2, 2).losses).toEqual(relu.losses);
    expect(classifierHeadReference(x, y, negative, 2, 2, false).losses).not.toEqual(relu.losses);
  });
});
