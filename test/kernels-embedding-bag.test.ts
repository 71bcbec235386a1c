import { describe, expect, it } from 'vitest';
import type { Tensor } from '../src/gpu/gpu.js';
import {
  batchWords,
  embeddingBagBackwardReference,
  embeddingBagForwardReference,
  embeddingBagParams,
  prepareEmbeddingBag,
  presenceShape,
  tokenBags,
  uploadTokenBags,
} from '../src/kernels/embedding-bag.js';
import { expectClose, randomFloats, randomIds, useGpu } from './gpu-helpers.js';

describe('tokenBags', () => {
  it("lists each review's distinct tokens ascending with their counts, padded to whole vec4s", () => {
    const bags = tokenBags(new Int32Array([5, 1, 5, 0, 0, 0, 2, 2, 2, 2, 2, 2]), 2, 6, 8);
    expect(bags.tokenBits).toBe(3);
    expect(Array.from(bags.offsets)).toEqual([0, 4, 8]);
    const decoded = Array.from(bags.entries, (e) => [e & 7, e >>> 3]);
    const pad = [7, 0]; // the largest token field with count 0: still ascending, adds nothing
    expect(decoded).toEqual([[0, 3], [1, 1], [5, 2], pad, [2, 6], pad, pad, pad]);
  });

  it('keeps the whole count for a review of one repeated token, and the largest vocabulary it can pack', () => {
    const bags = tokenBags(new Int32Array(2494).fill(88586), 1, 2494, 88587);
    expect(bags.tokenBits).toBe(17);
    expect([bags.entries[0] & (2 ** 17 - 1), bags.entries[0] >>> 17]).toEqual([88586, 2494]);
  });

  it('names an id outside the vocabulary and a shape the ids do not fill', () => {
    expect(() => tokenBags(new Int32Array([0, 1, 9, 2]), 2, 2, 9)).toThrow('token id 9 at sample 1, position 0 is outside [0, 9)');
    expect(() => tokenBags(new Int32Array([0, -1]), 1, 2, 9)).toThrow(RangeError);
    expect(() => tokenBags(new Int32Array(5), 2, 2, 9)).toThrow('5 ids do not fill [2, 2]');
    expect(() => tokenBags(new Int32Array(4), 1, 4, 2 ** 30)).toThrow('do not fit 32-bit entries');
  });
});

describe('embedding-bag kernel (fused gather and mean-pool)', () => {
  const gpu = useGpu();

  /** Run both passes on the GPU for the batch order[first .. first + rows). */
  async function run(ids: Int32Array, samples: number, steps: number, vocab: number, dim: number, order: Int32Array, first: number, rows: number, markRows: number) {
    const g = gpu();
    const bags = uploadTokenBags(g, tokenBags(ids, samples, steps, vocab));
    const table = randomFloats(vocab * dim, 3);
    const dPooled = randomFloats(markRows * dim, 4);
    const tensors: Tensor[] = [];
    const keep = <T extends Tensor>(t: T) => (tensors.push(t), t);
    const b = {
      bags,
      dim,
      capacity: markRows,
      markRows,
      batch: keep(g.upload(batchWords(first, rows, 0, true))),
      order: keep(g.upload(order)),
      presence: keep(g.zeros(presenceShape(vocab, markRows), 'i32')),
      table: keep(g.upload(table)),
      pooled: keep(g.zeros([markRows, dim])),
      dPooled: keep(g.upload(dPooled)),
      dTable: keep(g.upload(new Float32Array(vocab * dim).fill(Number.NaN))), // every element must be written
    };
    const params = g.createUniform(embeddingBagParams(bags));
    const { forward, backward } = await prepareEmbeddingBag(g, b, params);
    g.record([forward, backward]);
    const [pooled, dTable] = await g.readAll([b.pooled, b.dTable]);
    params.destroy();
    bags.dispose();
    tensors.forEach((t) => t.dispose());
    const rowsInBatch = order.subarray(first, first + rows);
    return {
      pooled: pooled.subarray(0, rows * dim),
      dTable,
      expectedPooled: embeddingBagForwardReference(table, dim, ids, steps, rowsInBatch),
      expectedDTable: embeddingBagBackwardReference(dPooled, dim, vocab, ids, steps, rowsInBatch),
    };
  }

  it('matches gather-then-mean and its gradient on a shuffled, partial batch with repeated tokens', async () => {
    // 70 reviews of 13 tokens over 6 ids (many repeats); batch capacity 40 (two bitmap words),
    // the batch is the last 30 rows of a shuffled order.
    const [samples, steps, vocab, dim] = [70, 13, 6, 8];
    const ids = randomIds(samples * steps, 9, vocab);
    const order = Int32Array.from({ length: samples }, (_, i) => (i * 37) % samples);
    const r = await run(ids, samples, steps, vocab, dim, order, 40, 30, 40);
    expectClose(r.pooled, r.expectedPooled, { atol: 1e-6, rtol: 1e-5 });
    expectClose(r.dTable, r.expectedDTable, { atol: 1e-6, rtol: 1e-5 });
  });

  it('writes zero gradient rows for tokens absent from the batch, over a wide vocabulary and a full 512-row batch', async () => {
    const [samples, steps, vocab, dim] = [600, 20, 3001, 16];
    const ids = randomIds(samples * steps, 11, vocab);
    const order = Int32Array.from({ length: samples }, (_, i) => samples - 1 - i);
    const r = await run(ids, samples, steps, vocab, dim, order, 0, 512, 512);
    expectClose(r.pooled, r.expectedPooled, { atol: 1e-6, rtol: 1e-5 });
    expectClose(r.dTable, r.expectedDTable, { atol: 1e-6, rtol: 1e-5 });
    const absent = r.expectedDTable.findIndex((v, i) => v === 0 && i % dim === 0);
    expect(absent).toBeGreaterThanOrEqual(0);
    expect(Array.from(r.dTable.subarray(absent, absent + dim))).toEqual(new Array(dim).fill(0));
  });

  it('handles a power-of-two vocabulary, where the padding entries share the last token id', async () => {
    const [samples, steps, vocab, dim] = [50, 9, 16, 4];
    const ids = randomIds(samples * steps, 13, vocab);
    ids.fill(vocab - 1, 0, steps); // a review of nothing but the last token
    const order = Int32Array.from({ length: samples }, (_, i) => i);
    const r = await run(ids, samples, steps, vocab, dim, order, 0, samples, samples);
    expectClose(r.pooled, r.expectedPooled, { atol: 1e-6, rtol: 1e-5 });
    expectClose(r.dTable, r.expectedDTable, { atol: 1e-6, rtol: 1e-5 });
  });

  it('is deterministic: the same batch gives the same bits', async () => {
    const ids = randomIds(64 * 32, 2, 10);
    const order = Int32Array.from({ length: 64 }, (_, i) => i);
    const a = await run(ids, 64, 32, 10, 4, order, 0, 64, 64);
    const b = await run(ids, 64, 32, 10, 4, order, 0, 64, 64);
    expect(Array.from(b.dTable)).toEqual(Array.from(a.dTable));
  });

  it('refuses a dimension that is not a multiple of 4 and batches past the bitmap', async () => {
    const g = gpu();
    const bags = uploadTokenBags(g, tokenBags(new Int32Array(4), 2, 2, 3));
    const t = g.zeros([4]);
    const base = { bags, batch: t, order: t, presence: t, table: t, pooled: t, dPooled: t, dTable: t };
    const params = g.createUniform(embeddingBagParams(bags));
    await expect(prepareEmbeddingBag(g, { ...base, dim: 6, capacity: 2, markRows: 2 }, params)).rejects.toThrow('multiple of 4, found 6');
    await expect(prepareEmbeddingBag(g, { ...base, dim: 4, capacity: 2, markRows: 2048 }, params)).rejects.toThrow('batches of 2048 rows exceed 1024');
    params.destroy();
    bags.dispose();
    t.dispose();
  });
});
