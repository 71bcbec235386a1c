import { describe, expect, it, vi } from 'vitest';
import { Gpu, linearWorkgroups, type Tensor } from '../src/gpu/gpu.js';
import {
  batchWords,
  embeddingBagParams,
  embeddingBagBackwardReference,
  embeddingBagForwardReference,
  prepareEmbeddingBag,
  presenceShape,
  tokenBags,
  tokenBitsFor,
  uploadTokenBags,
  wholeTable,
  type TableShard,
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

  it('packs ids in the fewest bits, one at least', () => {
    expect([1, 2, 3, 8, 9, 88587].map(tokenBitsFor)).toEqual([1, 1, 2, 3, 4, 17]);
  });

  // A vocabulary of one is the smallest; zero and fractions are refused whole.
  it('refuses a vocabulary that is not a positive integer', () => {
    expect(tokenBags(new Int32Array(2), 1, 2, 1).entries[0]).toBe(2 << 1);
    expect(() => tokenBags(new Int32Array(2), 1, 2, 0)).toThrow('tokenBags: vocab must be a positive integer, found 0');
    expect(() => tokenBags(new Int32Array(2), 1, 2, 2.5)).toThrow('tokenBags: vocab must be a positive integer, found 2.5');
  });

  // Each bound alone, at its edge: counts take the 32 - tokenBits bits above the id (steps up to
  // 2^(32 - tokenBits) - 1), and ids at most 24 bits.
  it('takes sequences up to the count field and vocabularies up to 24 bits, and names what does not fit', () => {
    expect(tokenBags(new Int32Array(4095), 1, 4095, 2 ** 20).entries[0] >>> 20).toBe(4095);
    expect(() => tokenBags(new Int32Array(4096), 1, 4096, 2 ** 20)).toThrow(
      `tokenBags: a vocabulary of ${2 ** 20} and sequences of 4096 do not fit 32-bit entries`,
    );
    expect(tokenBags(new Int32Array(1), 1, 1, 2 ** 24).tokenBits).toBe(24);
    expect(() => tokenBags(new Int32Array(1), 1, 1, 2 ** 24 + 1)).toThrow(`tokenBags: a vocabulary of ${2 ** 24 + 1} and sequences of 1 do not fit 32-bit entries`);
  });

  it('sizes the presence bitmap by 32-row words, and fills the batch descriptor (slot 0, unmarked by default)', () => {
    expect([presenceShape(100, 32), presenceShape(100, 33), presenceShape(7, 1024)]).toEqual([[4, 100], [7, 100], [97, 7]]);
    expect(Array.from(batchWords(3, 7))).toEqual([3, 7, 0, 0]);
    expect(Array.from(batchWords(3, 7, 2, true))).toEqual([3, 7, 2, 1]);
  });
});

describe('embedding-bag kernel (fused gather and mean-pool)', () => {
  const gpu = useGpu();

  /**
   * Run both passes on the GPU for the batch order[first .. first + rows); `split` cuts the table
   * into shards of `rowsPerShard` rows and the data into chunks of at most `bagBytes` per binding.
   */
  async function run(
    ids: Int32Array,
    samples: number,
    steps: number,
    vocab: number,
    dim: number,
    order: Int32Array,
    first: number,
    rows: number,
    markRows: number,
    split: { rowsPerShard?: number; bagBytes?: number; rowWorkgroups?: boolean; spareRows?: number } = {},
  ) {
    const g = gpu();
    const bags = uploadTokenBags(g, tokenBags(ids, samples, steps, vocab), split.bagBytes);
    const table = randomFloats(vocab * dim, 3);
    const dPooled = randomFloats(markRows * dim, 4);
    const tensors: Tensor[] = [];
    const keep = <T extends Tensor>(t: T) => (tensors.push(t), t);
    const shards: TableShard[] = [];
    const rowsPerShard = split.rowsPerShard ?? vocab;
    for (let firstToken = 0; firstToken < vocab; firstToken += rowsPerShard) {
      const n = Math.min(rowsPerShard, vocab - firstToken);
      shards.push({
        firstToken,
        rows: n,
        // `spareRows` rows of NaN after the shard's own in its table's buffer: nothing may read them.
        table: keep(g.upload(Float32Array.of(...table.slice(firstToken * dim, (firstToken + n) * dim), ...new Float32Array((split.spareRows ?? 0) * dim).fill(Number.NaN)))),
        dTable: keep(g.upload(new Float32Array(n * dim).fill(Number.NaN))), // every element must be written
        presence: keep(g.zeros(presenceShape(n, markRows), 'i32')),
      });
    }
    const b = {
      bags,
      dim,
      capacity: markRows,
      markRows,
      batch: keep(g.upload(batchWords(first, rows, 0, true))),
      order: keep(g.upload(order)),
      shards,
      pooled: keep(g.upload(new Float32Array(markRows * dim).fill(Number.NaN))),
      dPooled: keep(g.upload(dPooled)),
      rowWorkgroups: split.rowWorkgroups,
    };
    const passes = await prepareEmbeddingBag(g, b);
    g.record([...passes.forward, ...passes.backward]);
    const [pooled, ...dTables] = await g.readAll([b.pooled, ...shards.map((sh) => sh.dTable)]);
    const dTable = new Float32Array(vocab * dim);
    shards.forEach((sh, i) => dTable.set(dTables[i], sh.firstToken * dim));
    passes.dispose();
    const chunks = bags.chunks.length;
    bags.dispose();
    tensors.forEach((t) => t.dispose());
    const rowsInBatch = order.subarray(first, first + rows);
    return {
      pooled: pooled.subarray(0, rows * dim),
      dTable,
      chunks,
      dispatches: passes.forward.length + passes.backward.length,
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

  it('splits the table into shards and the data into chunks, each pass adding its part', async () => {
    // 90 reviews over 300 tokens (with repeats of 4 and more, which search the review's chunk),
    // shards of 64 rows (the last one short) and data chunks of at most 256 bytes.
    const [samples, steps, vocab, dim] = [90, 24, 300, 8];
    const ids = randomIds(samples * steps, 21, vocab);
    for (let r = 0; r < samples; r += 3) ids.fill(r % vocab, r * steps, r * steps + 5);
    const order = Int32Array.from({ length: samples }, (_, i) => (i * 41) % samples);
    const whole = await run(ids, samples, steps, vocab, dim, order, 10, 70, 80);
    const split = await run(ids, samples, steps, vocab, dim, order, 10, 70, 80, { rowsPerShard: 64, bagBytes: 256 });
    expect(whole.chunks).toBe(1);
    expect(split.chunks).toBeGreaterThan(5);
    expect(split.dispatches).toBe(2 * 5 * split.chunks);
    expectClose(split.pooled, split.expectedPooled, { atol: 1e-6, rtol: 1e-5 });
    expectClose(split.dTable, split.expectedDTable, { atol: 1e-6, rtol: 1e-5 });
    expectClose(split.pooled, whole.pooled, { atol: 1e-6, rtol: 1e-5 });
    expectClose(split.dTable, whole.dTable, { atol: 1e-6, rtol: 1e-5 });
  });

  it('walks a row in one invocation or in eight lanes of a workgroup: the same gradient to rounding, each deterministic', async () => {
    // Split and chunked, a full 1,024-row batch (32 presence words), tokens in every review with
    // counts of 4 and more: every branch of both backward passes, 2-D dispatches aside.
    const [samples, steps, vocab] = [1100, 12, 300];
    const ids = randomIds(samples * steps, 22, vocab);
    for (let r = 0; r < samples; r++) ids.fill(r % 7, r * steps, r * steps + 5);
    const order = Int32Array.from({ length: samples }, (_, i) => (i * 41) % samples);
    const split = { rowsPerShard: 128, bagBytes: 16384 };
    for (const dim of [4, 12]) {
      const perRow = await run(ids, samples, steps, vocab, dim, order, 10, 1024, 1024, { ...split, rowWorkgroups: false });
      const words = await run(ids, samples, steps, vocab, dim, order, 10, 1024, 1024, { ...split, rowWorkgroups: true });
      const again = await run(ids, samples, steps, vocab, dim, order, 10, 1024, 1024, { ...split, rowWorkgroups: true });
      expect(words.chunks).toBeGreaterThan(1);
      expectClose(perRow.dTable, perRow.expectedDTable, { atol: 1e-6, rtol: 1e-5 });
      expectClose(words.dTable, words.expectedDTable, { atol: 1e-6, rtol: 1e-5 });
      expect(Array.from(again.dTable)).toEqual(Array.from(words.dTable));
    }
    await expect(run(ids, samples, steps, vocab, 80, order, 10, 70, 80)).rejects.toThrow('embeddingBag: the embedding dimension must be at most 64, found 80');
  });

  // A shard's table is the start of its buffer (the store's rows; what follows may be anything).
  // Count-0 entries still read a row: the padding (token field 2^tokenBits - 1, past a vocabulary
  // of 6 or of a 64-row shard) and, when sharded, other shards' tokens; each must be clamped to the
  // shard's last row, or its 0 · NaN makes the mean NaN.
  it("reads no table row past the shard's own, where its buffer holds more", async () => {
    const [samples, steps, vocab, dim] = [70, 13, 6, 8];
    const ids = randomIds(samples * steps, 9, vocab);
    const order = Int32Array.from({ length: samples }, (_, i) => (i * 37) % samples);
    const whole = await run(ids, samples, steps, vocab, dim, order, 40, 30, 40, { spareRows: 1 });
    expectClose(whole.pooled, whole.expectedPooled, { atol: 1e-6, rtol: 1e-5 });
    expectClose(whole.dTable, whole.expectedDTable, { atol: 1e-6, rtol: 1e-5 });
    const wide = randomIds(90 * 24, 21, 300);
    const shuffled = Int32Array.from({ length: 90 }, (_, i) => (i * 41) % 90);
    const split = await run(wide, 90, 24, 300, dim, shuffled, 10, 70, 80, { rowsPerShard: 64, spareRows: 1 });
    expectClose(split.pooled, split.expectedPooled, { atol: 1e-6, rtol: 1e-5 });
    expectClose(split.dTable, split.expectedDTable, { atol: 1e-6, rtol: 1e-5 });
  });

  // The widest dimension (D = 64, MAX_DIM4 = 16 column quads) run, not only prepared: every quad of
  // a row's sum has its own register (backward) and its own slot of the lanes' shared sums (backwardWords).
  it('runs the widest dimension, 64, in both backward forms', async () => {
    const [samples, steps, vocab, dim] = [40, 10, 20, 64];
    const ids = randomIds(samples * steps, 23, vocab);
    for (let r = 0; r < samples; r += 2) ids.fill(r % vocab, r * steps, r * steps + 5);
    const order = Int32Array.from({ length: samples }, (_, i) => (i * 7) % samples);
    for (const rowWorkgroups of [false, true]) {
      const r = await run(ids, samples, steps, vocab, dim, order, 0, 40, 40, { rowWorkgroups });
      expectClose(r.pooled, r.expectedPooled, { atol: 1e-6, rtol: 1e-5 });
      expectClose(r.dTable, r.expectedDTable, { atol: 1e-6, rtol: 1e-5 });
    }
  });

  it('cuts the data into chunks of whole reviews that fit the binding, and names a review that cannot fit', () => {
    const g = gpu();
    const bags = tokenBags(randomIds(40 * 10, 5, 50), 40, 10, 50);
    const resident = uploadTokenBags(g, bags, 160);
    let next = 0;
    for (const c of resident.chunks) {
      expect(c.firstReview).toBe(next);
      expect(c.offsets.byteLength).toBeLessThanOrEqual(160);
      expect(c.entries.byteLength).toBeLessThanOrEqual(160);
      expect(c.entries.size).toBe(bags.offsets[c.firstReview + c.reviews] - bags.offsets[c.firstReview]);
      next += c.reviews;
    }
    expect(next).toBe(40);
    resident.dispose();
    expect(() => uploadTokenBags(g, bags, 16)).toThrow(/review 0 has \d+ entries, more than one binding of 16 bytes holds/);
  });

  // Chunks are as large as the binding allows, by either bound met exactly: 10 reviews of 4
  // entries fill 40 words (160 bytes); 39 empty reviews' 40 offsets fill floor(162 / 4) words.
  it('fills each chunk to the binding exactly, by entries or by offsets, and frees every chunk', async () => {
    const g = gpu();
    const four = uploadTokenBags(g, tokenBags(new Int32Array(25 * 3), 25, 3, 5), 160);
    expect(four.chunks.map((c) => [c.firstReview, c.reviews, c.entries.size])).toEqual([[0, 10, 40], [10, 10, 40], [20, 5, 20]]);
    // Offsets count from the chunk's own first entry.
    expect(Array.from(await four.chunks[1].offsets.read())).toEqual([0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40]);
    const empty = uploadTokenBags(g, tokenBags(new Int32Array(0), 50, 0, 3), 162);
    expect(empty.chunks.map((c) => [c.firstReview, c.reviews, c.offsets.size])).toEqual([[0, 39, 40], [39, 11, 12]]);
    const tensors = [...four.chunks, ...empty.chunks].flatMap((c) => [c.offsets, c.entries]);
    four.dispose();
    empty.dispose();
    expect(tensors.every((t) => t.isDisposed)).toBe(true);
  });

  // Review 0 (one token: 4 entries) fits 40 bytes; review 1 (12 distinct tokens: 12 entries) does not.
  it('names a later review that cannot fit with its own entry count, and uploads no reviews as one bindable chunk', async () => {
    const g = gpu();
    const ids = Int32Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ...Array.from({ length: 12 }, (_, i) => i)]);
    expect(() => uploadTokenBags(g, tokenBags(ids, 2, 12, 12), 40)).toThrow('uploadTokenBags: review 1 has 12 entries, more than one binding of 40 bytes holds');
    const none = uploadTokenBags(g, tokenBags(new Int32Array(0), 0, 5, 3));
    expect(none.chunks.map((c) => [c.firstReview, c.reviews, c.offsets.size, c.entries.size])).toEqual([[0, 0, 1, 4]]);
    expect(Array.from(await none.chunks[0].offsets.read())).toEqual([0]);
    none.dispose();
  });

  it('refuses a dimension that is not a multiple of 4 and batches past the bitmap', async () => {
    const g = gpu();
    const bags = uploadTokenBags(g, tokenBags(new Int32Array(4), 2, 2, 3));
    const t = g.zeros([4]);
    const base = { bags, batch: t, order: t, shards: wholeTable(3, t, t, t), pooled: t, dPooled: t };
    await expect(prepareEmbeddingBag(g, { ...base, dim: 6, capacity: 2, markRows: 2 })).rejects.toThrow('multiple of 4, found 6');
    await expect(prepareEmbeddingBag(g, { ...base, dim: 4, capacity: 2, markRows: 2048 })).rejects.toThrow('batches of 2048 rows exceed 1024');
    bags.dispose();
    t.dispose();
  });

  // Prepared only: the widest dimension taken, the entry points, workgroup counts and compiled
  // constants. On SwiftShader the default backward pass is one invocation per row; eight lanes
  // per row (backwardWords) when asked. One chunk and one shard compile the plain paths.
  it('prepares the widest dimension, the software default backward pass and the unsplit specialisation', async () => {
    const g = gpu();
    const bags = uploadTokenBags(g, tokenBags(new Int32Array(4), 2, 2, 3));
    const t = g.zeros([4]);
    const b = { bags, batch: t, order: t, shards: wholeTable(100, t, t, t), pooled: t, dPooled: t, dim: 64, capacity: 40, markRows: 40 };
    const prepare = vi.spyOn(g, 'prepare');
    const createUniform = vi.spyOn(g, 'createUniform');
    const byDefault = await prepareEmbeddingBag(g, b);
    const words = await prepareEmbeddingBag(g, { ...b, rowWorkgroups: true });
    const perRow = await prepareEmbeddingBag(g, { ...b, rowWorkgroups: false });
    const wg = (n: number) => [...linearWorkgroups(n, 64), 1];
    expect(byDefault.forward.map((p) => [p.label, p.workgroups])).toEqual([['embedding-bag:forward', wg(40 * 16)]]);
    expect(byDefault.backward.map((p) => [p.label, p.workgroups])).toEqual([['embedding-bag:backward', wg(100)]]);
    expect(perRow.backward.map((p) => p.label)).toEqual(['embedding-bag:backward']);
    expect(words.backward.map((p) => [p.label, p.workgroups])).toEqual([['embedding-bag:backwardWords', wg(100 * 8)]]);
    expect(new Set(prepare.mock.calls.map((c) => JSON.stringify(c[6])))).toEqual(new Set([JSON.stringify({ DIM4: 16, WORDS: 2, CHUNKED: 0, SHARDED: 0 })]));
    prepare.mockRestore();
    // Disposing the passes destroys their uniforms: one per (chunk, shard) in each direction.
    const uniforms = createUniform.mock.results.map((r) => r.value as GPUBuffer);
    createUniform.mockRestore();
    const destroys = uniforms.map((u) => vi.spyOn(u, 'destroy'));
    [byDefault, words, perRow].forEach((p) => p.dispose());
    expect(destroys.map((d) => d.mock.calls.length)).toEqual([1, 1, 1, 1, 1, 1]);
    bags.dispose();
    t.dispose();
  });

  // WebGPU promises every device 16 KiB of workgroup storage. The project's devices ask for the
  // adapter's own limit (SwiftShader's is larger), so a second device at the defaults shows what
  // every adapter takes: backwardWords' lane sums at D = 64 fill the 16 KiB exactly.
  it("fits backwardWords' shared lane sums in WebGPU's default workgroup storage at the widest dimension", async () => {
    const webgpu = await import('webgpu');
    // As src/gpu/device.ts found the adapter: Dawn's default backends, or SwiftShader's Vulkan driver alone.
    const instance = webgpu.create(gpu().report?.backend === 'dawn-swiftshader' ? ['backend=vulkan'] : []);
    const adapter = await instance.requestAdapter();
    const device = await adapter!.requestDevice();
    expect(device.limits.maxComputeWorkgroupStorageSize).toBe(16384);
    const g = new Gpu(device);
    const bags = uploadTokenBags(g, tokenBags(new Int32Array(4), 2, 2, 3));
    const t = g.zeros([4]);
    const b = { bags, batch: t, order: t, shards: wholeTable(100, t, t, t), pooled: t, dPooled: t, dim: 64, capacity: 40, markRows: 40, rowWorkgroups: true };
    const passes = await prepareEmbeddingBag(g, b);
    expect(passes.backward.map((p) => p.label)).toEqual(['embedding-bag:backwardWords']);
    passes.dispose();
    bags.dispose();
    t.dispose();
    await g.close();
    device.destroy();
    void instance; // Dawn's instance must outlive its device
  });

  it('writes the uniform of a (chunk, shard) pair: shard rows, steps, token bits, first token, first review, reviews, accumulate', () => {
    const bags = { steps: 9, tokenBits: 5 } as Parameters<typeof embeddingBagParams>[0];
    const chunk = { firstReview: 30, reviews: 12 } as Parameters<typeof embeddingBagParams>[1];
    expect(Array.from(embeddingBagParams(bags, chunk, { firstToken: 64, rows: 36 }, true))).toEqual([36, 9, 5, 64, 30, 12, 1]);
    expect(embeddingBagParams(bags, chunk, { firstToken: 0, rows: 36 }, false)[6]).toBe(0);
  });
});
