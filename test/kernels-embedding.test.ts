import { describe, expect, it } from 'vitest';
import { Gpu, linearWorkgroups } from '../src/gpu/gpu.js';
import {
  embeddingBackward,
  embeddingBackwardReference,
  embeddingBackwardRows,
  embeddingForward,
  embeddingGradientIndex,
  embeddingReference,
  uploadEmbeddingGradientIndex,
} from '../src/kernels/embedding.js';
import { meanPoolBackward, meanPoolForward, meanPoolReference } from '../src/kernels/mean-pool.js';
import { expectClose, randomFloats, randomIds, useGpu } from './gpu-helpers.js';

const EXACT = { atol: 0, rtol: 0 };

describe('embedding CSR gradient index', () => {
  it('groups positions by ascending id, in ascending order within each id', () => {
    const csr = embeddingGradientIndex(new Int32Array([3, 1, 3, 0, 1, 3]), 5);
    expect(Array.from(csr.rowIds)).toEqual([0, 1, 3]);
    expect(Array.from(csr.rowStarts)).toEqual([0, 1, 3, 6]);
    expect(Array.from(csr.positions)).toEqual([3, 1, 4, 0, 2, 5]);
  });

  it('holds every position once, under its id, with the right counts (many duplicates)', () => {
    const ids = randomIds(37 * 256, 5, 5);
    const { rowIds, rowStarts, positions } = embeddingGradientIndex(ids, 10_000);
    expect(Array.from(rowIds)).toEqual([0, 1, 2, 3, 4]);
    expect(rowStarts[rowIds.length]).toBe(ids.length);
    expect(new Set(positions).size).toBe(ids.length);
    rowIds.forEach((id, u) => {
      const group = positions.subarray(rowStarts[u], rowStarts[u + 1]);
      expect(group.length).toBe(ids.filter((v) => v === id).length);
      group.forEach((p, k) => {
        expect(ids[p]).toBe(id);
        if (k > 0) expect(p).toBeGreaterThan(group[k - 1]);
      });
    });
  });

  it('is empty for an empty batch', () => {
    const csr = embeddingGradientIndex(new Int32Array(0), 10);
    expect([csr.rowIds.length, Array.from(csr.rowStarts), csr.positions.length]).toEqual([0, [0], 0]);
  });

  it('names the position and value of an id outside the vocabulary', () => {
    expect(() => embeddingGradientIndex(new Int32Array([0, 5]), 5)).toThrow(RangeError);
    expect(() => embeddingGradientIndex(new Int32Array([0, 5]), 5)).toThrow('id 5 at position 1 is outside [0, 5)');
    expect(() => embeddingGradientIndex(new Int32Array([2, 2, -1]), 5)).toThrow('id -1 at position 2 is outside [0, 5)');
  });

  // A lent scratch array gives the same index and is left zeroed for the next batch; a short one,
  // or a vocabulary size that is not a positive integer, is refused.
  it('uses a lent scratch array of counts and leaves it zeroed, and refuses a short one', () => {
    const ids = new Int32Array([3, 1, 3, 0, 1, 3]);
    const scratch = new Int32Array(7);
    const lent = embeddingGradientIndex(ids, 5, scratch);
    expect(lent).toEqual(embeddingGradientIndex(ids, 5));
    expect(Array.from(scratch)).toEqual(new Array(7).fill(0));
    expect(() => embeddingGradientIndex(ids, 5, new Int32Array(4))).toThrow(new RangeError('embeddingGradientIndex: a scratch array of 4 for 5 ids'));
    expect(embeddingGradientIndex(ids, 4, new Int32Array(4)).rowIds).toEqual(Int32Array.of(0, 1, 3));
    expect(() => embeddingGradientIndex(ids, 0)).toThrow(new RangeError('embeddingGradientIndex: vocabSize must be a positive integer, found 0'));
    expect(() => embeddingGradientIndex(ids, 4.5)).toThrow(new RangeError('embeddingGradientIndex: vocabSize must be a positive integer, found 4.5'));
  });
});

describe('embedding kernel', () => {
  const gpu = useGpu();

  // Batch sizes and token counts that are not multiples of the workgroup, D not a multiple
  // of 4, and ids drawn from 0..4 so that rows accumulate many tokens.
  const cases = [
    { batch: 1, steps: 1, dim: 16, vocab: 10, range: 10 },
    { batch: 3, steps: 5, dim: 3, vocab: 10, range: 10 },
    { batch: 3, steps: 256, dim: 3, vocab: 10, range: 5 },
    { batch: 37, steps: 5, dim: 16, vocab: 10_000, range: 10_000 },
    { batch: 37, steps: 256, dim: 16, vocab: 10_000, range: 10_000 },
    { batch: 37, steps: 256, dim: 16, vocab: 10_000, range: 5 },
    { batch: 37, steps: 256, dim: 3, vocab: 10_000, range: 5 },
    // Both backward passes past 3 workgroups (260 windows x 3 columns or 4 quads, thousands of
    // ids), so the 2-D index of each form's entry points is used too (test/setup.ts).
    { batch: 260, steps: 256, dim: 3, vocab: 10_000, range: 10_000 },
    { batch: 260, steps: 256, dim: 16, vocab: 10_000, range: 10_000 },
  ];
  for (const { batch, steps, dim, vocab, range } of cases) {
    it(`forward and backward match the reference (B = ${batch}, T = ${steps}, D = ${dim}, V = ${vocab}, ids < ${range})`, async () => {
      const seed = batch * 7 + steps * 3 + dim + range;
      const tableData = randomFloats(vocab * dim, seed);
      const idData = randomIds(batch * steps, seed + 1, range);
      const dOutData = randomFloats(batch * steps * dim, seed + 2);
      const table = gpu().upload(tableData, [vocab, dim]);
      const ids = gpu().upload(idData, [batch, steps]);
      const dOut = gpu().upload(dOutData, [batch, steps, dim]);
      const index = uploadEmbeddingGradientIndex(gpu(), embeddingGradientIndex(idData, vocab));

      const out = embeddingForward(gpu(), table, ids);
      const dTable = embeddingBackward(gpu(), dOut, index, vocab, dim);
      expect(out.shape).toEqual([batch, steps, dim]);
      expect(dTable.shape).toEqual([vocab, dim]);
      // A gather is a copy; the backward sums in the reference's order with correctly rounded adds.
      expectClose(await out.read(), embeddingReference(tableData, idData, dim), EXACT);
      expectClose(await dTable.read(), embeddingBackwardReference(dOutData, idData, vocab, dim), EXACT);
      for (const t of [table, ids, dOut, out, dTable]) t.dispose();
      index.dispose();
    });
  }

  // Id 1's run of positions is exactly the first window (256): its loop over windows must stop
  // there, not add the partial sum the next id's run leaves at index 256.
  for (const dim of [3, 4]) {
    it(`backward stops an id's run that ends on a window boundary (D = ${dim})`, async () => {
      const idData = Int32Array.from({ length: 512 }, (_, i) => (i < 256 ? 1 : 2));
      const dOutData = randomFloats(512 * dim, 17);
      const dOut = gpu().upload(dOutData, [2, 256, dim]);
      const index = uploadEmbeddingGradientIndex(gpu(), embeddingGradientIndex(idData, 4));
      const dTable = embeddingBackward(gpu(), dOut, index, 4, dim);
      expectClose(await dTable.read(), embeddingBackwardReference(dOutData, idData, 4, dim), EXACT);
      dOut.dispose();
      dTable.dispose();
      index.dispose();
    });
  }

  it('backward is bitwise deterministic from run to run', async () => {
    const [batch, steps, dim, vocab] = [37, 256, 16, 10_000];
    const idData = randomIds(batch * steps, 11, 5);
    const dOut = gpu().upload(randomFloats(batch * steps * dim, 12, -100, 100), [batch, steps, dim]);
    const index = uploadEmbeddingGradientIndex(gpu(), embeddingGradientIndex(idData, vocab));
    const first = (await embeddingBackward(gpu(), dOut, index, vocab, dim).read()) as Float32Array;
    const second = (await embeddingBackward(gpu(), dOut, index, vocab, dim).read()) as Float32Array;
    expect(Buffer.from(first.buffer).equals(Buffer.from(second.buffer))).toBe(true);
    dOut.dispose();
    index.dispose();
  });

  // A table past the binding limit is split by rows (src/gpu/gpu.ts), while the batch-sized
  // tensors still fit one binding: one dispatch per chunk must give the unsplit results bit for
  // bit. Every chunk holds ids (its last row among them, the last chunk's first) except those
  // inside `gap`, which hold none; two more tokens (forward only) lie outside the table.
  const splitCases = [
    { vocab: 9, dim: 4, cap: 16, batch: 1, steps: 1, gap: [0, 0] }, // chunks of one row (one token: out fits 16 bytes)
    { vocab: 1001, dim: 3, cap: 1200, batch: 4, steps: 25, gap: [200, 400] }, // 100 rows, the last chunk of one
    { vocab: 1001, dim: 3, cap: 2400, batch: 4, steps: 25, gap: [0, 0] }, // 200 rows, the last of one
    { vocab: 300, dim: 16, cap: 2048, batch: 2, steps: 8, gap: [0, 0] }, // 32 rows, the last of 12
  ];
  for (const { vocab, dim, cap, batch, steps, gap } of splitCases) {
    const rowsPerChunk = Math.floor(cap / (dim * 4));
    const chunkCount = Math.ceil(vocab / rowsPerChunk);
    it(`a table split into ${chunkCount} chunks of ${rowsPerChunk} rows gives the unsplit results bit for bit (V = ${vocab}, D = ${dim}, N = ${batch * steps})`, async () => {
      const split = new Gpu(gpu().device, undefined, { maxBindingBytes: cap });
      const n = batch * steps;
      const tableData = randomFloats(vocab * dim, vocab + cap, -100, 100);
      const idData = randomIds(n, cap, vocab);
      for (let c = 0; c < Math.min(chunkCount, n); c++) idData[c] = Math.min(vocab, (chunkCount - c) * rowsPerChunk) - 1;
      for (let i = 0; i < n; i++) if (idData[i] >= gap[0] && idData[i] < gap[1]) idData[i] = 3; // and 3 repeats
      const outsideIds = idData.map((id, i) => (n > 1 && i === n - 1 ? vocab : n > 1 && i === n - 2 ? -1 : id));
      const dOutData = randomFloats(n * dim, cap + 1, -100, 100);
      const csr = embeddingGradientIndex(idData, vocab);
      const hit = Array.from({ length: chunkCount }, (_, c) => idData.some((id) => Math.floor(id / rowsPerChunk) === c));
      const gapChunks = hit.map((_, c) => c * rowsPerChunk >= gap[0] && Math.min(vocab, (c + 1) * rowsPerChunk) <= gap[1]);
      if (n >= chunkCount) expect(hit).toEqual(gapChunks.map((inGap) => !inGap));

      const run = async (g: Gpu) => {
        // Leave NaNs in the pool where the output goes, so that any element left unwritten shows.
        g.upload(new Float32Array(n * dim).fill(NaN)).dispose();
        const table = g.upload(tableData, [vocab, dim]);
        const index = uploadEmbeddingGradientIndex(g, csr);
        const out = embeddingForward(g, table, g.upload(outsideIds, [batch, steps]));
        const dTable = embeddingBackward(g, g.upload(dOutData, [batch, steps, dim]), index, vocab, dim);
        const chunks = [table.chunks.length, dTable.chunks.length, out.chunks.length];
        index.dispose();
        return { chunks, out: (await out.read()) as Float32Array, dTable: (await dTable.read()) as Float32Array };
      };
      const whole = await run(gpu());
      const chunked = await run(split);
      expect(whole.chunks).toEqual([1, 1, 1]);
      expect(chunked.chunks).toEqual([chunkCount, chunkCount, 1]);
      expect(Buffer.from(chunked.out.buffer).equals(Buffer.from(whole.out.buffer))).toBe(true);
      expect(Buffer.from(chunked.dTable.buffer).equals(Buffer.from(whole.dTable.buffer))).toBe(true);
      expectClose(chunked.out, embeddingReference(tableData, outsideIds, dim), EXACT);
      expectClose(chunked.dTable, embeddingBackwardReference(dOutData, idData, vocab, dim), EXACT);
    });
  }

  // The index on the GPU: its counts, its largest id (-1 when empty), four tensors freed together;
  // rowStarts of the wrong length, or not ending at the positions' count, are refused.
  it('uploads an index with its counts and largest id, frees it whole, and refuses rowStarts that do not fit', async () => {
    const index = uploadEmbeddingGradientIndex(gpu(), embeddingGradientIndex(new Int32Array([3, 1, 3, 0]), 5));
    expect([index.uniqueCount, index.tokenCount, index.maxId]).toEqual([3, 4, 3]);
    expect(Array.from(await index.uniqueCountTensor.read())).toEqual([3]);
    const tensors = [index.rowIds, index.rowStarts, index.positions, index.uniqueCountTensor];
    index.dispose();
    expect(tensors.map((t) => t.isDisposed)).toEqual([true, true, true, true]);
    const empty = uploadEmbeddingGradientIndex(gpu(), embeddingGradientIndex(new Int32Array(0), 5));
    expect([empty.uniqueCount, empty.tokenCount, empty.maxId]).toEqual([0, 0, -1]);
    empty.dispose();
    const csr = embeddingGradientIndex(new Int32Array([3, 1, 3, 0]), 5);
    expect(() => uploadEmbeddingGradientIndex(gpu(), { ...csr, rowStarts: Int32Array.of(0, 1, 2, 4, 4) })).toThrow(
      new RangeError('uploadEmbeddingGradientIndex: rowStarts must be [4] ending at 4, found [5] ending at 4'),
    );
    expect(() => uploadEmbeddingGradientIndex(gpu(), { ...csr, rowStarts: Int32Array.of(0, 1, 2, 3) })).toThrow(
      new RangeError('uploadEmbeddingGradientIndex: rowStarts must be [4] ending at 4, found [4] ending at 3'),
    );
  });

  // The timer and profiles name a pass `embedding:entry point`; a width that is a multiple of 4
  // takes the vec4 entry points (forward4, backwardPieces4, backward4), any other the scalar ones.
  it('labels its passes, the vec4 forms where the width allows', () => {
    const ids = gpu().upload(Int32Array.of(0, 1, 1), [1, 3]);
    const index = uploadEmbeddingGradientIndex(gpu(), embeddingGradientIndex(Int32Array.of(0, 1, 1), 2));
    const { work } = gpu().capture(() => {
      for (const dim of [4, 3]) {
        embeddingForward(gpu(), gpu().zeros([2, dim]), ids);
        embeddingBackwardRows(gpu(), gpu().zeros([1, 3, dim]), index, 2, dim);
      }
    });
    expect(work.commands.flatMap((c) => ('dispatch' in c ? [c.dispatch.label] : []))).toEqual([
      'embedding:forward4', 'embedding:backwardPieces4', 'embedding:backward4',
      'embedding:forward', 'embedding:backwardPieces', 'embedding:backward',
    ]);
    work.dispose();
    index.dispose();
  });

  // An invocation per token row (forward) and per window and column quad (backwardPieces4):
  // 300 rows take 2 workgroups of 256; 128 columns are 32 quads, one workgroup.
  it('dispatches the invocations each pass needs', () => {
    const ids = gpu().upload(new Int32Array(300), [3, 100]);
    const index = uploadEmbeddingGradientIndex(gpu(), embeddingGradientIndex(Int32Array.of(0, 1, 1), 2));
    const { work } = gpu().capture(() => {
      embeddingForward(gpu(), gpu().zeros([2, 4]), ids);
      embeddingBackwardRows(gpu(), gpu().zeros([1, 3, 128]), index, 2, 128);
    });
    const wg = (n: number) => [...linearWorkgroups(n, 256), 1];
    expect(work.commands.flatMap((c) => ('dispatch' in c ? [c.dispatch.workgroups] : []))).toEqual([wg(300), wg(32), wg(2)]);
    work.dispose();
    index.dispose();
  });

  // A batch without tokens has no rows to sum: no pass is dispatched.
  it('dispatches nothing for the row gradient of an empty batch', () => {
    const index = uploadEmbeddingGradientIndex(gpu(), embeddingGradientIndex(new Int32Array(0), 2));
    const { work, result } = gpu().capture(() => embeddingBackwardRows(gpu(), gpu().zeros([0, 3, 4]), index, 2, 4));
    expect([work.dispatches, result.shape]).toEqual([0, [4]]);
    work.dispose();
    index.dispose();
  });

  it('gives zero rows for ids outside the table', async () => {
    const table = gpu().upload(Float32Array.from({ length: 6 }, (_, i) => i + 1), [2, 3]);
    const ids = gpu().upload(new Int32Array([1, -1, 2, 0]), [2, 2]);
    expect(Array.from(await embeddingForward(gpu(), table, ids).read())).toEqual([4, 5, 6, 0, 0, 0, 0, 0, 0, 1, 2, 3]);
    // The reference too, for ids further outside (a negative subarray index would count from the end).
    const outside = Int32Array.of(-2, 1, 2, -3, 3);
    const got = await embeddingForward(gpu(), table, gpu().upload(outside, [1, 5])).read();
    expect(Array.from(got)).toEqual(Array.from(embeddingReference(Float32Array.from({ length: 6 }, (_, i) => i + 1), outside, 3)));
  });

  it('refuses tensors of the wrong dtype or shape, and an index that does not fit', () => {
    const table = gpu().upload(new Float32Array(12), [4, 3]);
    const ids = gpu().upload(new Int32Array([0, 3]), [1, 2]);
    expect(() => embeddingForward(gpu(), table, gpu().upload(new Float32Array(2), [1, 2]))).toThrow(TypeError);
    expect(() => embeddingForward(gpu(), table, gpu().upload(new Int32Array(2)))).toThrow(
      /embeddingForward: ids must be i32 \[batch, steps\], found i32 \[2\]/,
    );
    expect(() => embeddingForward(gpu(), gpu().upload(new Float32Array(12)), ids)).toThrow(RangeError);
    const index = uploadEmbeddingGradientIndex(gpu(), embeddingGradientIndex(new Int32Array([0, 3]), 4));
    expect(() => embeddingBackward(gpu(), gpu().upload(new Float32Array(8), [1, 2, 4]), index, 4, 3)).toThrow(
      /embeddingBackward: dOut must be \[batch, steps, 3\] with batch·steps = 2 \(the index's tokens\), found \[1, 2, 4\]/,
    );
    expect(() => embeddingBackward(gpu(), gpu().upload(new Float32Array(9), [1, 3, 3]), index, 4, 3)).toThrow(RangeError);
    expect(() => embeddingBackward(gpu(), gpu().upload(new Float32Array(6), [1, 2, 3]), index, 3, 3)).toThrow(/holds id 3/);
  });

  // Each check names the op, the argument and what it found: a table of the wrong dtype or rank,
  // a table without rows or columns, and sizes that are not positive integers.
  it('names the op and argument of every refusal: dtypes, ranks, empty tables, sizes', () => {
    const ids = gpu().upload(new Int32Array([0, 1]), [1, 2]);
    expect(() => embeddingForward(gpu(), gpu().upload(new Int32Array(6), [2, 3]), ids)).toThrow(new TypeError('embeddingForward: table must be f32 [vocab, dim], found i32 [2, 3]'));
    expect(() => embeddingForward(gpu(), gpu().upload(new Float32Array(6)), ids)).toThrow(new RangeError('embeddingForward: table must be f32 [vocab, dim], found f32 [6]'));
    expect(() => embeddingForward(gpu(), gpu().zeros([0, 3]), ids)).toThrow(new RangeError('embeddingForward: table vocab must be a positive integer, found 0'));
    expect(() => embeddingForward(gpu(), gpu().zeros([2, 0]), ids)).toThrow(new RangeError('embeddingForward: table dim must be a positive integer, found 0'));
    const index = uploadEmbeddingGradientIndex(gpu(), embeddingGradientIndex(new Int32Array([0, 1]), 2));
    const dOut = gpu().zeros([1, 2, 4]);
    expect(() => embeddingBackward(gpu(), dOut, index, 0, 4)).toThrow(new RangeError('embeddingBackward: vocabSize must be a positive integer, found 0'));
    expect(() => embeddingBackward(gpu(), dOut, index, 2, 0)).toThrow(new RangeError('embeddingBackward: dim must be a positive integer, found 0'));
    expect(() => embeddingBackward(gpu(), gpu().zeros([2, 4]), index, 2, 4)).toThrow(new RangeError('embeddingBackward: dOut must be f32 [batch, steps, 4], found f32 [2, 4]'));
    expect(() => embeddingBackwardRows(gpu(), dOut, index, 2, 0)).toThrow(new RangeError('embeddingBackwardRows: dim must be a positive integer, found 0'));
    expect(() => embeddingBackwardRows(gpu(), dOut, index, 2, 4, 0)).toThrow(new RangeError('embeddingBackwardRows: expand must be a positive integer, found 0'));
    expect(() => embeddingBackwardRows(gpu(), gpu().zeros([1, 2]), index, 2, 4)).toThrow(new RangeError('embeddingBackwardRows: dOut must be f32 [batch, steps, 4], found f32 [1, 2]'));
    // dOut's shape against the index, each condition alone: its token count, its width, and an
    // expanded gradient's single step.
    expect(() => embeddingBackward(gpu(), gpu().zeros([1, 3, 4]), index, 2, 4)).toThrow(
      new RangeError("embeddingBackward: dOut must be [batch, steps, 4] with batch·steps = 2 (the index's tokens), found [1, 3, 4]"),
    );
    expect(() => embeddingBackwardRows(gpu(), gpu().zeros([1, 2, 3]), index, 2, 4)).toThrow(
      new RangeError("embeddingBackwardRows: dOut must be [batch, steps, 4] with batch·steps = 2 (the index's tokens), found [1, 2, 3]"),
    );
    const four = uploadEmbeddingGradientIndex(gpu(), embeddingGradientIndex(new Int32Array([0, 1, 1, 0]), 2));
    expect(() => embeddingBackwardRows(gpu(), gpu().zeros([1, 2, 4]), four, 2, 4, 2)).toThrow(
      new RangeError("embeddingBackwardRows: dOut must be [batch, 1, 4] with batch·2 = 4 (the index's tokens), found [1, 2, 4]"),
    );
    four.dispose();
    index.dispose();
  });

  // loss = Σ w ⊙ meanPool(embedding(table, ids)); the GPU's dTable against central differences
  // of the float64 references. The loss is linear in the table, so the differences are exact
  // up to float64 rounding.
  for (const [batch, steps, dim] of [
    [3, 5, 3],
    [37, 256, 16],
  ]) {
    it(`gradient of meanPool∘embedding matches finite differences (B = ${batch}, T = ${steps}, D = ${dim})`, async () => {
      const vocab = 10;
      const [repeated, once, unused] = [2, 7, 9];
      const idData = randomIds(batch * steps, batch + steps, 5); // ids 0..4, many repeats
      idData[idData.length - 1] = once;
      const tableData = randomFloats(vocab * dim, 21);
      const w = randomFloats(batch * dim, 22);
      const loss = (t: Float64Array): number =>
        meanPoolReference(embeddingReference(t, idData, dim), batch, steps, dim).reduce((s, v, i) => s + w[i] * v, 0);

      const table = gpu().upload(tableData, [vocab, dim]);
      const ids = gpu().upload(idData, [batch, steps]);
      const pooled = meanPoolForward(gpu(), embeddingForward(gpu(), table, ids));
      const gpuLoss = ((await pooled.read()) as Float32Array).reduce((s, v, i) => s + w[i] * v, 0);
      expect(gpuLoss).toBeCloseTo(loss(Float64Array.from(tableData)), 4);

      const index = uploadEmbeddingGradientIndex(gpu(), embeddingGradientIndex(idData, vocab));
      const dEmbedded = meanPoolBackward(gpu(), gpu().upload(w, [batch, dim]), steps);
      const dTable = await embeddingBackward(gpu(), dEmbedded, index, vocab, dim).read();

      const eps = 1e-3;
      const entries = [
        [repeated, 0],
        [repeated, dim - 1],
        [0, 1],
        [once, 1],
        [unused, 2],
      ];
      for (const [row, d] of entries) {
        const i = row * dim + d;
        const plus = Float64Array.from(tableData);
        const minus = Float64Array.from(tableData);
        plus[i] += eps;
        minus[i] -= eps;
        const numeric = (loss(plus) - loss(minus)) / (2 * eps);
        if (row === unused) {
          expect(dTable[i]).toBe(0);
          expect(numeric).toBe(0);
        } else {
          expect(numeric).not.toBe(0);
          expect(Math.abs(dTable[i] - numeric), `dTable[${row}, ${d}] = ${dTable[i]} vs ${numeric}`).toBeLessThanOrEqual(1e-6 + 1e-4 * Math.abs(numeric));
        }
      }
      index.dispose();
    });
  }
});
