/**
 * The expanded gradient (src/nn/gradient-forms.ts): GlobalAveragePooling1D hands its input's gradient
 * on as one row per sample, the embedding sums from it directly, and every other op gets it dense.
 * Each route must give the same floats as the whole [B, T, D] gradient, bit for bit. Forward, the
 * embedding's output is deferred (Tensor.defer): a mean pool reads the rows through the ids.
 * The factored gradient: a Dense narrower than its input hands dOut on unmultiplied; the embedding
 * sums it and multiplies once per id, exactly as its reference does, and within float32 rounding of
 * the dense route.
 */
import { describe, expect, it } from 'vitest';
import { Gpu, type Tensor } from '../src/gpu/gpu.js';
import { denseInputGradient } from '../src/kernels/dense.js';
import { embeddingBackwardReference, embeddingBackwardRows, embeddingForward, embeddingGradientIndex, uploadEmbeddingGradientIndex } from '../src/kernels/embedding.js';
import { scatterRows, scatterRowsReference } from '../src/kernels/rows.js';
import { broadcastMasked, maskedMeanPoolBackward, maskedMeanPoolBackwardExpanded, maskedMeanPoolForward, maskedMeanPoolGatheredForward } from '../src/kernels/masked-mean-pool.js';
import { broadcastSteps, meanPoolBackward, meanPoolBackwardExpanded, meanPoolForward, meanPoolGatheredForward } from '../src/kernels/mean-pool.js';
import { paddingMaskForward } from '../src/kernels/padding-mask.js';
import { densify, expandedStepsOf, factorOf, markExpanded, markFactored } from '../src/nn/gradient-forms.js';
import { binaryCrossentropy, dense, embedding, maskedMeanPool, meanPool, paddingMask, relu, sigmoid } from '../src/nn/ops.js';
import { Tape } from '../src/nn/tape.js';
import { randomFloats, randomIds, useGpu } from './gpu-helpers.js';

const bits = async (t: Tensor) => Buffer.from(((await t.read()) as Float32Array).buffer);

describe('deferred embedding rows', () => {
  const gpu = useGpu();

  for (const dim of [16, 50, 3]) {
    it(`a mean pool through the ids gives the mean of the gathered rows, bit for bit, ids outside the table as zero rows (D = ${dim})`, async () => {
      const [vocab, batch, steps] = [40, 7, 33];
      const ids = randomIds(batch * steps, dim, vocab);
      ids[3] = -1;
      ids[10] = vocab;
      const table = gpu().upload(randomFloats(vocab * dim, dim + 1, -2, 2), [vocab, dim]);
      const idsTensor = gpu().upload(ids, [batch, steps]);
      const viaRows = meanPoolForward(gpu(), embeddingForward(gpu(), table, idsTensor));
      const viaIds = meanPoolGatheredForward(gpu(), table, idsTensor);
      expect(viaIds.shape).toEqual([batch, dim]);
      expect((await bits(viaIds)).equals(await bits(viaRows))).toBe(true);
    });
  }

  it('the embedding op leaves its rows unwritten for a mean pool, and writes them for any other reader', async () => {
    const [vocab, dim, batch, steps] = [20, 4, 3, 5];
    const ids = randomIds(batch * steps, 1, vocab);
    const table = gpu().upload(randomFloats(vocab * dim, 2, -1, 1), [vocab, dim]);
    const idsTensor = gpu().upload(ids, [batch, steps]);
    const tape = new Tape(false);
    tape.watch(() => {
      const pooled = embedding(table, idsTensor, ids);
      meanPool(pooled);
      expect(pooled.isDeferred).toBe(true);
      const read = embedding(table, idsTensor, ids);
      relu(read);
      expect(read.isDeferred).toBe(false);
    });
    tape.dispose();
  });

  it('an output left deferred cannot be written after the forward pass', async () => {
    const [vocab, dim, batch, steps] = [20, 4, 2, 3];
    const ids = randomIds(batch * steps, 3, vocab);
    const table = gpu().upload(randomFloats(vocab * dim, 4, -1, 1), [vocab, dim]);
    const kernel = gpu().upload(randomFloats(dim, 5, -1, 1), [dim, 1]);
    const bias = gpu().upload(new Float32Array(1), [1]);
    const labels = gpu().upload(Float32Array.of(1, 0));
    const tape = new Tape();
    let rows: Tensor | undefined;
    const loss = tape.watch(() => {
      rows = embedding(table, gpu().upload(ids, [batch, steps]), ids);
      return binaryCrossentropy(sigmoid(dense(meanPool(rows), kernel, bias)), labels);
    });
    tape.gradients(loss, [table]);
    expect(() => rows!.chunks).toThrow(/a deferred forward output was bound after the forward pass/);
    tape.dispose();
  });
});

describe('expanded gradients', () => {
  const gpu = useGpu();

  for (const dim of [16, 50, 3]) {
    it(`mean-pool's expanded gradient is its whole gradient's row, and broadcasts back to it exactly (D = ${dim})`, async () => {
      const [batch, steps] = [5, 7];
      const dOut = gpu().upload(randomFloats(batch * dim, dim, -3, 3), [batch, dim]);
      const whole = meanPoolBackward(gpu(), dOut, steps);
      const expanded = meanPoolBackwardExpanded(gpu(), dOut, steps);
      expect(expanded.shape).toEqual([batch, 1, dim]);
      const rows = (await expanded.read()) as Float32Array;
      const all = (await whole.read()) as Float32Array;
      for (let b = 0; b < batch; b++) {
        for (let t = 0; t < steps; t++) expect(all.subarray((b * steps + t) * dim, (b * steps + t + 1) * dim)).toEqual(rows.subarray(b * dim, (b + 1) * dim));
      }
      expect((await bits(broadcastSteps(gpu(), expanded, steps))).equals(await bits(whole))).toBe(true);
    });

    it(`the embedding's gradient from an expanded dOut equals the one from the whole dOut, bit for bit (D = ${dim})`, async () => {
      const [batch, steps, vocab] = [6, 300, 40]; // windows of GRADIENT_WINDOW cut the ids' runs
      const ids = randomIds(batch * steps, dim + 1, vocab);
      const index = uploadEmbeddingGradientIndex(gpu(), embeddingGradientIndex(ids, vocab));
      const dOut = gpu().upload(randomFloats(batch * dim, dim + 2, -3, 3), [batch, dim]);
      const fromWhole = embeddingBackwardRows(gpu(), meanPoolBackward(gpu(), dOut, steps), index, vocab, dim);
      const fromExpanded = embeddingBackwardRows(gpu(), meanPoolBackwardExpanded(gpu(), dOut, steps), index, vocab, dim, steps);
      expect((await bits(fromExpanded)).equals(await bits(fromWhole))).toBe(true);
      index.dispose();
    });
  }

  it('refuses an expanded dOut that does not match its index or its form', () => {
    const ids = new Int32Array([1, 2, 1, 0, 3, 3]);
    const index = uploadEmbeddingGradientIndex(gpu(), embeddingGradientIndex(ids, 4));
    const rows = gpu().upload(new Float32Array(8), [2, 1, 4]);
    expect(() => embeddingBackwardRows(gpu(), rows, index, 4, 4, 2)).toThrow(/with batch·2 = 6 \(the index's tokens\), found \[2, 1, 4\]/);
    expect(() => embeddingBackwardRows(gpu(), gpu().upload(new Float32Array(24), [2, 3, 4]), index, 4, 4, 3)).toThrow(/dOut must be \[batch, 1, 4\]/);
    expect(() => broadcastSteps(gpu(), gpu().upload(new Float32Array(16), [2, 2, 4]), 3)).toThrow(/x must be f32 \[batch, 1, dim\], found \[2, 2, 4\]/);
    expect(() => markExpanded(gpu().upload(new Float32Array(16), [2, 2, 4]), 3)).toThrow(/\[batch, 1, dim\], found \[2, 2, 4\]/);
    expect(() => markExpanded(gpu().upload(new Float32Array(2), [2, 1]), 3)).toThrow(/\[batch, 1, dim\], found \[2, 1\]/);
    index.dispose();
  });

  it('densify broadcasts an expanded gradient and forgets the compact one', async () => {
    const rows = markExpanded(gpu().upload(Float32Array.of(1, 2, 3, 4, 5, 6), [2, 1, 3]), 2);
    expect(expandedStepsOf(rows)).toBe(2);
    const dense = densify(rows);
    expect(rows.isDisposed).toBe(true);
    expect(expandedStepsOf(dense)).toBe(1);
    expect(dense.shape).toEqual([2, 2, 3]);
    expect(Array.from(await dense.read())).toEqual([1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6]);
  });

  // The tape hands the expanded gradient to the embedding (which takes it) and a dense one to relu
  // (which does not): with a positive table relu is the identity, so both graphs must give the same bits.
  // A square Dense first (not factored: as many units as inputs) keeps the factored form out of it.
  it('reaches the embedding expanded and any other op dense, with the same table gradient', async () => {
    const [vocab, dim, batch, steps] = [30, 8, 4, 260];
    const ids = randomIds(batch * steps, 3, vocab);
    const table = gpu().upload(randomFloats(vocab * dim, 4, 0.01, 1), [vocab, dim]);
    const square = gpu().upload(randomFloats(dim * dim, 6, -1, 1), [dim, dim]);
    const squareBias = gpu().upload(new Float32Array(dim), [dim]);
    const kernel = gpu().upload(randomFloats(dim, 5, -1, 1), [dim, 1]);
    const bias = gpu().upload(new Float32Array(1), [1]);
    const idsTensor = gpu().upload(ids, [batch, steps]);
    const labels = gpu().upload(Float32Array.of(1, 0, 0, 1));
    const tableGradient = async (viaRelu: boolean) => {
      const tape = new Tape();
      const loss = tape.watch(() => {
        const embedded = embedding(table, idsTensor, ids);
        const pooled = meanPool(viaRelu ? relu(embedded) : embedded);
        return binaryCrossentropy(sigmoid(dense(dense(pooled, square, squareBias), kernel, bias)), labels);
      });
      const grads = tape.gradients(loss, [table]);
      const out = await bits(grads.get(table)!);
      tape.dispose();
      return out;
    };
    const direct = await tableGradient(false);
    expect(direct.some((b) => b !== 0)).toBe(true);
    expect((await tableGradient(true)).equals(direct)).toBe(true);
  });
});

describe('factored gradients', () => {
  const gpu = useGpu();

  // Kernel level: the row gradient from a factor F [B, 1, O] (expanded over T) or [B, T, O] is the
  // per-id sums of F's O columns, as the reference sums them, bit for bit; scattered with its kernel
  // K [D, O] it is those sums times Kᵀ (shaders/row-gradients.wgsl) as rowGradientReference multiplies.
  // Scalar factors (O = 1, 3) and vec4 ones (O = 4), a padding-like id spanning several windows, and
  // a table split in two.
  for (const [units, dim, expand] of [[1, 50, 300], [3, 7, 1], [4, 10, 260], [1, 5, 1]] as const) {
    it(`the embedding sums a factored gradient and the scatter multiplies it out as the references do (O = ${units}, D = ${dim}, ${expand > 1 ? `expanded over ${expand} steps` : 'one row per position'})`, async () => {
      const [vocab, batch] = [60, 3];
      const steps = expand > 1 ? expand : 290;
      const ids = randomIds(batch * steps, units + dim, vocab);
      for (let i = 0; i < ids.length; i += 2) ids[i] = 0; // id 0 holds half the positions: many windows
      const factorRows = randomFloats(batch * (expand > 1 ? 1 : steps) * units, dim, -1, 1);
      const kernelValues = randomFloats(dim * units, units, -1, 1);
      const factor = gpu().upload(factorRows, [batch, expand > 1 ? 1 : steps, units]);
      const kernel = gpu().upload(kernelValues, [dim, units]);
      const csr = embeddingGradientIndex(ids, vocab);
      const index = uploadEmbeddingGradientIndex(gpu(), csr);
      const sums = embeddingBackwardRows(gpu(), factor, index, vocab, dim, expand, kernel);
      const got = ((await sums.read()) as Float32Array).slice(0, index.uniqueCount * units);
      // The reference reads one factor row per position: an expanded factor repeated over its steps.
      const perPosition = new Float32Array(batch * steps * units);
      for (let n = 0; n < batch * steps; n++) perPosition.set(factorRows.subarray(Math.floor(n / expand) * units, (Math.floor(n / expand) + 1) * units), n * units);
      const dense = embeddingBackwardReference(perPosition, ids, vocab, units);
      const want = new Float32Array(csr.rowIds.length * units);
      csr.rowIds.forEach((id, u) => want.set(dense.subarray(id * units, (id + 1) * units), u * units));
      expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer))).toBe(true);

      const split = new Gpu(gpu().device, undefined, { maxBindingBytes: Math.ceil(vocab / 2) * dim * 4 });
      const table = split.zeros([vocab, dim]);
      expect(table.chunks.length).toBeGreaterThan(1);
      scatterRows(split, index, sums, table, kernel);
      const wantTable = new Float32Array(vocab * dim);
      scatterRowsReference(wantTable, csr.rowIds, want, dim, kernelValues);
      expect(Buffer.from(((await table.read()) as Float32Array).buffer).equals(Buffer.from(wantTable.buffer))).toBe(true);
      index.dispose();
    });
  }

  it('densify multiplies a factored gradient out (then broadcasts it when expanded) as the Dense input gradient does', async () => {
    const kernel = gpu().upload(randomFloats(6 * 2, 1, -1, 1), [6, 2]);
    const factor = gpu().upload(randomFloats(3 * 2, 2, -1, 1), [3, 2]);
    const want = await bits(denseInputGradient(gpu(), factor, kernel));
    const marked = markFactored(factor, kernel);
    expect(factorOf(marked)).toBe(kernel);
    expect((await bits(densify(marked))).equals(want)).toBe(true);
    expect(factor.isDisposed).toBe(true);
    // Expanded too: [3, 1, 2] over 4 steps becomes [3, 4, 6], each step the product's row.
    const expanded = markFactored(markExpanded(gpu().upload(randomFloats(3 * 2, 2, -1, 1), [3, 1, 2]), 4), kernel);
    const product = ((await denseInputGradient(gpu(), gpu().upload(((await expanded.read()) as Float32Array).slice(), [3, 2]), kernel).read()) as Float32Array).slice();
    const dense = densify(expanded);
    expect(dense.shape).toEqual([3, 4, 6]);
    expect(factorOf(dense)).toBeUndefined();
    const values = (await dense.read()) as Float32Array;
    for (let b = 0; b < 3; b++) for (let t = 0; t < 4; t++) expect(Array.from(values.subarray((b * 4 + t) * 6, (b * 4 + t + 1) * 6))).toEqual(Array.from(product.subarray(b * 6, (b + 1) * 6)));
    // Kept factored, only the expansion goes: [3, 4, 2], still factored.
    const kept = densify(markFactored(markExpanded(gpu().upload(new Float32Array(6), [3, 1, 2]), 4), kernel), { factored: true });
    expect(kept.shape).toEqual([3, 4, 2]);
    expect(factorOf(kept)).toBe(kernel);
  });

  it('refuses a factor that does not fit its kernel, and a kernel that saves nothing', () => {
    expect(() => markFactored(gpu().upload(new Float32Array(6), [2, 3]), gpu().upload(new Float32Array(8), [4, 2]))).toThrow(/\[\.\.\., 2\] for a kernel \[inputs, 2\], found \[2, 3\] for \[4, 2\]/);
    expect(() => markFactored(gpu().upload(new Float32Array(4), [2, 2]), gpu().upload(new Float32Array(8), [4, 2, 1]))).toThrow(/found \[2, 2\] for \[4, 2, 1\]/);
    expect(() => markFactored(gpu().upload(new Float32Array(4), [2, 2]), gpu().upload(new Float32Array(4), [2, 2]))).toThrow(/fewer units than inputs saves work, found \[2, 2\]/);
  });

  it('refuses a factor whose kernel is not [D, units], in the embedding and in the scatter', () => {
    const ids = Int32Array.of(1, 2, 2, 0);
    const index = uploadEmbeddingGradientIndex(gpu(), embeddingGradientIndex(ids, 5));
    const wrong = gpu().upload(new Float32Array(6), [3, 2]);
    const factor = gpu().upload(new Float32Array(4), [2, 2, 1]);
    expect(() => embeddingBackwardRows(gpu(), factor, index, 5, 4, 1, wrong)).toThrow(/embeddingBackwardRows: a factored gradient's kernel must be \[4, units\], found \[3, 2\]/);
    expect(() => scatterRows(gpu(), index, gpu().upload(new Float32Array(8)), gpu().zeros([5, 4]), wrong)).toThrow(/scatterRows: a factored gradient's kernel must be \[4, units\], found \[3, 2\]/);
    index.dispose();
  });

  it('refuses an expanded gradient whose padding mask does not fit it', () => {
    const ids = gpu().upload(new Int32Array(12), [3, 4]);
    const mask = gpu().upload(new Float32Array(12), [3, 4]);
    const rows = () => gpu().upload(new Float32Array(6), [3, 1, 2]);
    expect(expandedStepsOf(markExpanded(rows(), 4, { mask, ids }))).toBe(4);
    expect(() => markExpanded(rows(), 5, { mask, ids })).toThrow(/a mask \[3, 4\] for \[3, 5\] steps/);
    expect(() => markExpanded(gpu().upload(new Float32Array(4), [2, 1, 2]), 4, { mask, ids })).toThrow(/a mask \[3, 4\] for \[2, 4\] steps/);
  });

  // Tape level: Embedding -> GlobalAveragePooling1D -> Dense(1): the factored route (no Dense input
  // gradient dispatched; the scatter multiplies by the kernel) against the dense route (relu in between,
  // the identity on a positive table), within float32 rounding of the sums; and against float64.
  it('reaches the embedding through the mean pool factored, within float32 rounding of the dense route', async () => {
    const [vocab, dim, batch, steps] = [30, 50, 4, 300];
    const ids = randomIds(batch * steps, 7, vocab);
    const table = gpu().upload(randomFloats(vocab * dim, 8, 0.01, 1), [vocab, dim]);
    const kernel = gpu().upload(randomFloats(dim, 9, -1, 1), [dim, 1]);
    const bias = gpu().upload(new Float32Array(1), [1]);
    const idsTensor = gpu().upload(ids, [batch, steps]);
    const labels = gpu().upload(Float32Array.of(1, 0, 0, 1));
    const tableGradient = async (viaRelu: boolean) => {
      const entries: string[] = [];
      const dispatch = gpu().dispatch.bind(gpu());
      gpu().dispatch = (...args: Parameters<typeof dispatch>) => (entries.push(args[2]), dispatch(...args));
      const tape = new Tape();
      const loss = tape.watch(() => {
        const embedded = embedding(table, idsTensor, ids);
        return binaryCrossentropy(sigmoid(dense(meanPool(viaRelu ? relu(embedded) : embedded), kernel, bias)), labels);
      });
      const grads = tape.gradients(loss, [table]);
      const out = ((await grads.get(table)!.read()) as Float32Array).slice();
      tape.dispose();
      gpu().dispatch = dispatch;
      return { out, entries };
    };
    const factored = await tableGradient(false);
    const denseRoute = await tableGradient(true);
    // Factored: the embedding's gradient passes sum one column (no Dense input gradient), the scatter multiplies.
    expect(factored.entries).not.toContain('inputGradient');
    expect(denseRoute.entries).toContain('inputGradient');
    // |row| <= (positions of the id)·max|F/T|·max|K|; each route rounds at most once per add.
    const counts = new Int32Array(vocab);
    for (const id of ids) counts[id]++;
    for (let v = 0; v < vocab; v++) {
      for (let d = 0; d < dim; d++) {
        const [a, b] = [factored.out[v * dim + d], denseRoute.out[v * dim + d]];
        expect(Math.abs(a - b)).toBeLessThanOrEqual(4 * counts[v] * 2 ** -24 * Math.max(Math.abs(a), Math.abs(b)) + 1e-12);
      }
    }
    expect(factored.out.some((v) => v !== 0)).toBe(true);
  });
});

// Embedding(mask_zero) -> GlobalAveragePooling1D: the rows read through the ids, and the gradient
// expanded with zeros at the padding (id 0's steps), so row 0 gets none; bit for bit as the mask.
describe('masked mean pools through the ids', () => {
  const gpu = useGpu();

  for (const dim of [10, 9, 8, 50]) {
    it(`read the rows through the ids and hand on shares that make the whole gradient, bit for bit (D = ${dim})`, async () => {
      const [vocab, batch, steps] = [30, 5, 37];
      const ids = randomIds(batch * steps, dim, vocab);
      for (let i = 0; i < ids.length; i += 3) ids[i] = 0; // padding
      ids.fill(0, 2 * steps, 3 * steps); // an all-padding review: NaN, gradient 0
      ids.fill(0, 3 * steps, 4 * steps - 1); // a review of one token
      ids[4 * steps - 1] = 7;
      ids[5] = -2;
      ids[6] = vocab; // outside the table: zero rows, unmasked
      const table = gpu().upload(randomFloats(vocab * dim, dim, -2, 2), [vocab, dim]);
      const idsTensor = gpu().upload(ids, [batch, steps]);
      const mask = paddingMaskForward(gpu(), idsTensor);
      const viaRows = await bits(maskedMeanPoolForward(gpu(), embeddingForward(gpu(), table, idsTensor), mask));
      const viaIds = await bits(maskedMeanPoolGatheredForward(gpu(), table, idsTensor));
      expect(viaIds.equals(viaRows)).toBe(true);
      expect(Number.isNaN(new Float32Array(viaIds.buffer, viaIds.byteOffset)[2 * dim])).toBe(true);
      const dOut = gpu().upload(randomFloats(batch * dim, 3, -1, 1), [batch, dim]);
      const whole = await bits(maskedMeanPoolBackward(gpu(), dOut, mask, dim));
      const shares = maskedMeanPoolBackwardExpanded(gpu(), dOut, mask);
      expect(shares.shape).toEqual([batch, 1, dim]);
      // The all-padding review's share is dOut / 1 (finite, though no step reads it), the one-token
      // review's its whole gradient.
      const [shareValues, dOutValues] = [(await shares.read()) as Float32Array, (await dOut.read()) as Float32Array];
      expect(Array.from(shareValues.subarray(2 * dim, 4 * dim))).toEqual(Array.from(dOutValues.subarray(2 * dim, 4 * dim)));
      expect(Number.isNaN(new Float32Array(viaIds.buffer, viaIds.byteOffset)[3 * dim])).toBe(false);
      expect((await bits(broadcastMasked(gpu(), shares, mask))).equals(whole)).toBe(true);
    });
  }

  // The tape: straight to the embedding (expanded, row 0 zeroed there) against relu in between (the
  // identity on a positive table; relu gets the gradient dense) and a mask made from another tensor
  // of the same ids (the embedding cannot tell it is its own: densified): the same bits, row 0 zero.
  it('reaches the embedding expanded under its own mask, any other op dense, with the same table gradient', async () => {
    const [vocab, dim, batch, steps] = [30, 8, 4, 260];
    const ids = randomIds(batch * steps, 5, vocab);
    for (let i = 0; i < ids.length; i += 4) ids[i] = 0;
    const table = gpu().upload(randomFloats(vocab * dim, 6, 0.01, 1), [vocab, dim]);
    const square = gpu().upload(randomFloats(dim * dim, 7, -1, 1), [dim, dim]);
    const squareBias = gpu().upload(new Float32Array(dim), [dim]);
    const kernel = gpu().upload(randomFloats(dim, 8, -1, 1), [dim, 1]);
    const bias = gpu().upload(new Float32Array(1), [1]);
    const idsTensor = gpu().upload(ids, [batch, steps]);
    const otherIds = gpu().upload(ids, [batch, steps]);
    const labels = gpu().upload(Float32Array.of(1, 0, 0, 1));
    const tableGradient = async (route: 'direct' | 'relu' | 'other mask') => {
      const tape = new Tape();
      let deferred = false;
      const loss = tape.watch(() => {
        const embedded = embedding(table, idsTensor, ids);
        const x = route === 'relu' ? relu(embedded) : embedded;
        const pooled = maskedMeanPool(x, paddingMask(route === 'other mask' ? otherIds : idsTensor));
        deferred = embedded.isDeferred;
        return binaryCrossentropy(sigmoid(dense(dense(pooled, square, squareBias), kernel, bias)), labels);
      });
      const grads = tape.gradients(loss, [table]);
      const out = await bits(grads.get(table)!);
      tape.dispose();
      return { out, deferred };
    };
    const direct = await tableGradient('direct');
    expect(direct.deferred).toBe(true); // read through the ids: the [B, T, D] rows never written
    expect(direct.out.some((b) => b !== 0)).toBe(true);
    expect(Array.from(new Float32Array(direct.out.buffer, direct.out.byteOffset, dim))).toEqual(new Array(dim).fill(0));
    for (const route of ['relu', 'other mask'] as const) expect((await tableGradient(route)).out.equals(direct.out), route).toBe(true);
  });
});

// The tape's own bookkeeping: tapes do not nest, gradients that meet are summed, only the targets come
// back, and every intermediate tensor is freed (what it hands on included) while the kept ones stay.
describe('the tape', () => {
  const gpu = useGpu();

  it('refuses a tape inside another', () => {
    const outer = new Tape();
    expect(() => outer.watch(() => new Tape().watch(() => 0))).toThrow('Tape.watch: tapes do not nest');
  });

  it('sums the gradients of a weight two ops use, returns the targets only, and frees the rest', async () => {
    const dim = 6;
    const x = gpu().upload(randomFloats(4 * dim, 11, -1, 1), [4, dim]);
    const square = randomFloats(dim * dim, 12, -1, 1);
    const [shared, first, second] = [0, 1, 2].map(() => gpu().upload(square, [dim, dim]));
    const bias = gpu().upload(new Float32Array(dim), [dim]);
    const head = gpu().upload(randomFloats(dim, 13, -1, 1), [dim, 1]);
    const headBias = gpu().upload(new Float32Array(1), [1]);
    const labels = gpu().upload(Float32Array.of(1, 0, 1, 0));
    const run = async (a: Tensor, b: Tensor, targets: Tensor[]) => {
      const tape = new Tape();
      const loss = tape.watch(() => binaryCrossentropy(sigmoid(dense(dense(dense(x, a, bias), b, bias), head, headBias)), labels));
      const inUse = gpu().stats.bytesInUse;
      const grads = tape.gradients(loss, targets);
      const values = await Promise.all(targets.map(async (t) => ((await grads.get(t)!.read()) as Float32Array).slice()));
      const keys = [...grads.keys()];
      // What gradients() made is freed but for the results: the bytes in use grow by theirs alone.
      const results = [...grads.values()].reduce((n, g) => n + g.size * 4, 0);
      expect(gpu().stats.bytesInUse - inUse).toBeLessThanOrEqual(results + 256 * grads.size);
      tape.dispose([loss]);
      expect(loss.isDisposed).toBe(false);
      for (const g of grads.values()) g.dispose();
      return { values, keys };
    };
    const both = await run(shared, shared, [shared]);
    expect(both.keys).toEqual([shared]);
    const apart = await run(first, second, [first, second, head]);
    expect(apart.keys.length).toBe(3);
    // The shared weight's gradient is the add kernel's sum of the two uses' gradients: float32, one rounding.
    expect(Array.from(both.values[0])).toEqual(Array.from(apart.values[0], (g, i) => Math.fround(g + apart.values[1][i])));
  });
});
