/**
 * Row-sparse gradients and the lazy optimizer update: the row kernels against their references
 * (split tables included), the embedding's row gradient against the dense one, and LazyAdam
 * against Adam's rule applied to the touched rows only, through a whole model step.
 */
import { describe, expect, it } from 'vitest';
import { Gpu, type Tensor } from '../src/gpu/gpu.js';
import { embeddingBackward, embeddingBackwardRows, embeddingGradientIndex, uploadEmbeddingGradientIndex } from '../src/kernels/embedding.js';
import { optimizerRowUpdate } from '../src/kernels/optimizer-update.js';
import { rowGradientReference, scatterRows, scatterRowsReference } from '../src/kernels/rows.js';
import { Dense, Embedding, GlobalAveragePooling1D } from '../src/nn/layers.js';
import { Sequential } from '../src/nn/model.js';
import { Adam, LazyAdam } from '../src/nn/optimizers/index.js';
import { useGpu } from './gpu-helpers.js';

/** Rows rowIds[u] of a table [V, D], back to back. */
function gatherRowsReference(table: Float32Array, rowIds: Int32Array, dim: number): Float32Array {
  const out = new Float32Array(rowIds.length * dim);
  rowIds.forEach((id, u) => out.set(table.subarray(id * dim, (id + 1) * dim), u * dim));
  return out;
}

function random(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1);
}

describe('row-sparse gradients', () => {
  const gpu = useGpu();

  for (const [label, maxBindingBytes] of [['whole', undefined], ['split into 3 chunks', 50 * 50 * 4]] as const) {
    it(`scatters rows as the reference does (table ${label}, D = 12)`, async () => {
      const g = maxBindingBytes ? new Gpu(gpu().device, undefined, { maxBindingBytes: maxBindingBytes / 50 * 12 }) : gpu();
      const [vocab, dim] = [130, 12];
      const hostTable = random(vocab * dim, 3);
      const ids = Int32Array.from([5, 129, 0, 64, 5, 77, 100, 64, 50, 49]);
      const index = uploadEmbeddingGradientIndex(g, embeddingGradientIndex(ids, vocab));
      const table = g.upload(hostTable, [vocab, dim]);
      expect(table.chunks.length).toBe(maxBindingBytes ? 3 : 1);
      const rowIds = Int32Array.from(new Set(ids)).sort();
      // As a captured step's index: room for 3 rows more than U, whose compact rows hold values.
      const room = { ...index, uniqueCount: index.uniqueCount + 3 };
      const update = random(room.uniqueCount * dim, 9);
      scatterRows(g, room, g.upload(update), table);
      scatterRowsReference(hostTable, rowIds, update, dim);
      expect(await table.read()).toEqual(hostTable);
      table.dispose();
      index.dispose();
    });

    // LazyAdam's in-place row update (shaders/optimizer-adam.wgsl adamRows) against Adam's float32
    // reference applied to the touched rows alone, bit for bit: rows not a multiple of 4 wide, a table
    // split over buffers, an index with room for more rows than it holds; the gradient stored, or
    // factored ([U, 2] sums times a [50, 2] kernel, shaders/row-gradients.wgsl).
    for (const units of [0, 2]) {
      it(`updates exactly the touched rows of the table and its slots as Adam's reference does on them (table ${label}, D = 50, ${units ? `factored through ${units}` : 'stored'})`, async () => {
        const g = maxBindingBytes ? new Gpu(gpu().device, undefined, { maxBindingBytes }) : gpu();
        const [vocab, dim, iterations] = [130, 50, 3];
        const optimizer = new LazyAdam({ learningRate: 0.01, weightDecay: 0.004 });
        const host = [random(vocab * dim, 11), random(vocab * dim, 12).map(Math.abs), random(vocab * dim, 13).map(Math.abs)];
        const ids = Int32Array.from([5, 129, 0, 64, 5, 77, 100, 64, 50, 49, 51]);
        const csr = embeddingGradientIndex(ids, vocab);
        const room = { ...uploadEmbeddingGradientIndex(g, csr), uniqueCount: csr.rowIds.length + 3 }; // as a captured step's
        const stored = random((csr.rowIds.length + 3) * (units || dim), 14);
        const factor = units ? random(dim * units, 15) : undefined;
        const rows = rowGradientReference(stored, csr.rowIds.length, dim, factor);
        const [table, momentum, velocity] = host.map((h) => g.upload(h, [vocab, dim]));
        expect(table.chunks.length).toBe(maxBindingBytes ? 3 : 1);
        optimizerRowUpdate(g, optimizer, table, [momentum, velocity], g.upload(stored), room, iterations, factor && g.upload(factor, [dim, units]));
        csr.rowIds.forEach((id, u) => {
          const row = (a: Float32Array) => a.subarray(id * dim, (id + 1) * dim);
          optimizer.reference(row(host[0]), rows.subarray(u * dim, (u + 1) * dim), [row(host[1]), row(host[2])], iterations);
        });
        for (const [k, t] of [table, momentum, velocity].entries()) expect(Buffer.from(((await t.read()) as Float32Array).buffer).equals(Buffer.from(host[k].buffer))).toBe(true);
        room.dispose();
      });
    }
  }

  it('the scatter refuses a compact buffer too small for its rows, and a factor that is not [D, units]', async () => {
    const g = gpu();
    const index = uploadEmbeddingGradientIndex(g, embeddingGradientIndex(Int32Array.of(1, 3, 3), 10)); // U = 2
    const table = g.zeros([10, 4]);
    expect(() => scatterRows(g, index, g.zeros([7]), table)).toThrow('scatterRows: a compact buffer of 7 elements for 2 rows of 4');
    expect(() => scatterRows(g, index, g.zeros([3]), table, g.zeros([4, 2]))).toThrow('scatterRows: a compact buffer of 3 elements for 2 rows of 2');
    expect(() => scatterRows(g, index, g.zeros([4]), table, g.zeros([4, 2, 1]))).toThrow("scatterRows: a factored gradient's kernel must be [4, units], found [4, 2, 1]");
    // Exactly U rows are enough, stored or factored.
    scatterRows(g, index, g.upload(Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8)), table);
    const rows = (await table.read()) as Float32Array;
    expect(Array.from(rows.subarray(4, 8))).toEqual([1, 2, 3, 4]);
    expect(Array.from(rows.subarray(12, 16))).toEqual([5, 6, 7, 8]);
    scatterRows(g, index, g.upload(Float32Array.of(1, 0, 0, 1)), table, g.upload(Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8), [4, 2]));
    expect(Array.from(((await table.read()) as Float32Array).subarray(4, 8))).toEqual([1, 3, 5, 7]);
    // The Gpu names the kernel whose binding is wrong.
    const compact = g.zeros([8]);
    compact.dispose();
    expect(() => scatterRows(g, index, compact, table)).toThrow('rows: binding 3 is a disposed tensor');
    index.dispose();
  });

  it('the reference rows are the first U rows of the compact buffer, or its [U, O] sums times the factor', () => {
    const compact = Float32Array.of(1, 2, 3, 4, 5, 6); // room for 3 rows of 2, 2 used
    expect(rowGradientReference(compact, 2, 2)).toEqual(Float32Array.of(1, 2, 3, 4));
    // Through a factor [3, 2]: row u, column d is compact[u, :]·factor[d, :].
    expect(rowGradientReference(compact, 2, 3, Float32Array.of(1, 0, 0, 1, 1, 1))).toEqual(Float32Array.of(1, 2, 3, 3, 4, 7));
  });

  it('the scatter of an empty index dispatches nothing', async () => {
    const g = gpu();
    const index = uploadEmbeddingGradientIndex(g, embeddingGradientIndex(new Int32Array(0), 10));
    expect(index.uniqueCount).toBe(0);
    const entries: string[] = [];
    const dispatch = g.dispatch.bind(g);
    g.dispatch = (...args: Parameters<typeof dispatch>) => (entries.push(args[2]), dispatch(...args));
    try {
      scatterRows(g, index, g.zeros([4]), g.zeros([10, 4]));
    } finally {
      g.dispatch = dispatch;
    }
    expect(entries).toEqual([]);
    index.dispose();
  });

  // Each refused input breaks one check alone; the message names the problem (and both sizes).
  it('the row update refuses an optimizer without one, and slots, a table, a factor or a gradient that do not fit', () => {
    const g = gpu();
    const op = 'optimizerRowUpdate';
    const lazy = new LazyAdam();
    const index = uploadEmbeddingGradientIndex(g, embeddingGradientIndex(Int32Array.of(1, 3, 3), 10)); // U = 2
    const table = g.zeros([10, 4]);
    const slots = () => [g.zeros([10, 4]), g.zeros([10, 4])];
    const gradient = g.zeros([8]);
    expect(() => optimizerRowUpdate(g, new Adam(), table, slots(), gradient, index, 0)).toThrow(`${op}: Adam has no row-sparse update`);
    expect(() => optimizerRowUpdate(g, lazy, table, slots().slice(1), gradient, index, 0)).toThrow(`${op}: lazyadam takes 2 slots, found 1`);
    expect(() => optimizerRowUpdate(g, lazy, g.zeros([2, 5, 4]), slots(), gradient, index, 0)).toThrow(`${op}: the table must be [vocab, dim], found [2, 5, 4]`);
    expect(() => optimizerRowUpdate(g, lazy, table, slots(), gradient, index, 0, g.zeros([3, 2]))).toThrow(`${op}: a factored gradient's kernel must be [4, units], found [3, 2]`);
    expect(() => optimizerRowUpdate(g, lazy, table, slots(), g.zeros([7]), index, 0)).toThrow(`${op}: a row gradient of 7 values for 2 rows of 4`);
    // Factored through 2 units, [U, 2] sums are the whole gradient.
    expect(() => optimizerRowUpdate(g, lazy, table, slots(), g.zeros([3]), index, 0, g.zeros([4, 2]))).toThrow(`${op}: a row gradient of 3 values for 2 rows of 2`);
    optimizerRowUpdate(g, lazy, table, slots(), g.zeros([4]), index, 0, g.zeros([4, 2]));
    // Slots are split as the table is: as many values, and chunk for chunk the same rows.
    const velocity = (s: Tensor) => optimizerRowUpdate(g, lazy, table, [g.zeros([10, 4]), s], gradient, index, 0);
    expect(() => velocity(g.zeros([10, 8]))).toThrow(`${op}: slot velocity is not split as the table is`);
    const inFives = new Gpu(g.device, undefined, { maxBindingBytes: 5 * 4 * 4 });
    const splitTable = inFives.zeros([10, 4]);
    expect(splitTable.chunks.map((c) => c.rows)).toEqual([5, 5]);
    // As many values, chunks from the same first rows, but a last chunk of 3 rows ([8, 5] in chunks of 5 rows).
    const shorterLast = new Gpu(g.device, undefined, { maxBindingBytes: 112 }).zeros([8, 5]);
    expect(shorterLast.chunks.map((c) => [c.firstRow, c.rows])).toEqual([[0, 5], [5, 3]]);
    expect(() => optimizerRowUpdate(inFives, lazy, splitTable, [inFives.zeros([10, 4]), shorterLast], gradient, index, 0)).toThrow(`${op}: slot velocity is not split as the table is`);
    // As many values, its first chunk the table's, but no second one.
    expect(() => optimizerRowUpdate(inFives, lazy, splitTable, [inFives.zeros([10, 4]), g.zeros([5, 8])], gradient, index, 0)).toThrow(`${op}: slot velocity is not split as the table is`);
    index.dispose();
  });

  // The parameter store binds its own uniform, filled with optimizer.params(iterations) before each step.
  it('the row update takes its step from a uniform buffer as from the number, bit for bit', async () => {
    const g = gpu();
    const [vocab, dim, iterations] = [20, 6, 4];
    const optimizer = new LazyAdam({ learningRate: 0.01 });
    const index = uploadEmbeddingGradientIndex(g, embeddingGradientIndex(Int32Array.of(2, 7, 7, 19), vocab));
    const gradient = g.upload(random(3 * dim, 21));
    const run = async (step: number | GPUBuffer) => {
      const [table, momentum, velocity] = [random(vocab * dim, 22), new Float32Array(vocab * dim), new Float32Array(vocab * dim)].map((h) => g.upload(h, [vocab, dim]));
      optimizerRowUpdate(g, optimizer, table, [momentum, velocity], gradient, index, step);
      return Promise.all([table, momentum, velocity].map(async (t) => { const a = (await t.read()) as Float32Array; return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex'); }));
    };
    const uniform = g.createUniform(optimizer.params(iterations));
    expect(await run(uniform)).toEqual(await run(iterations));
    // The step matters: a different count moves the table differently.
    expect((await run(0))[0]).not.toEqual((await run(iterations))[0]);
    uniform.destroy();
    index.dispose();
  });

  // Rows 7 wide: one quad, then 3 lanes (a quad at column 4 would write the next row's first value);
  // 9 touched rows, more than the 7 columns (no bound on u but the row counts); rows 3, 4, 5 touch
  // each other and row 6 is left out, so a write past a row's end shows.
  it('the row update moves exactly the touched rows of a table 7 wide, 9 of them, as Adam\'s reference does', async () => {
    const g = gpu();
    const [vocab, dim, iterations] = [24, 7, 2];
    const optimizer = new LazyAdam({ learningRate: 0.01 });
    const host = [random(vocab * dim, 31), random(vocab * dim, 32).map(Math.abs), random(vocab * dim, 33).map(Math.abs)];
    const ids = Int32Array.from([3, 4, 5, 9, 10, 14, 17, 20, 23, 4]);
    const csr = embeddingGradientIndex(ids, vocab);
    expect(csr.rowIds.length).toBe(9);
    const index = uploadEmbeddingGradientIndex(g, csr);
    const rows = random(csr.rowIds.length * dim, 34);
    const [table, momentum, velocity] = host.map((h) => g.upload(h, [vocab, dim]));
    optimizerRowUpdate(g, optimizer, table, [momentum, velocity], g.upload(rows), index, iterations);
    csr.rowIds.forEach((id, u) => {
      const row = (a: Float32Array) => a.subarray(id * dim, (id + 1) * dim);
      optimizer.reference(row(host[0]), rows.subarray(u * dim, (u + 1) * dim), [row(host[1]), row(host[2])], iterations);
    });
    for (const [k, t] of [table, momentum, velocity].entries()) expect(Buffer.from(((await t.read()) as Float32Array).buffer).equals(Buffer.from(host[k].buffer))).toBe(true);
    index.dispose();
  });

  // The dispatch covers the host's count of rows (index.uniqueCount, the room of a captured step's
  // index, for which the gradient is checked); were the GPU's U ever larger, rows past that count
  // stay as they are rather than read a gradient row past the checked ones.
  it('the row update stops at the host\'s row count even when the GPU\'s U says more', async () => {
    const g = gpu();
    const [vocab, dim] = [12, 8];
    const optimizer = new LazyAdam({ learningRate: 0.01 });
    const csr = embeddingGradientIndex(Int32Array.of(1, 4, 6), vocab);
    const full = uploadEmbeddingGradientIndex(g, csr);
    const index = { ...full, uniqueCount: 2 }; // U = 3 on the GPU
    const hostTable = random(vocab * dim, 41);
    const [table, momentum, velocity] = [hostTable, new Float32Array(vocab * dim), new Float32Array(vocab * dim)].map((h) => g.upload(h, [vocab, dim]));
    optimizerRowUpdate(g, optimizer, table, [momentum, velocity], g.upload(random(3 * dim, 42)), index, 0);
    const moved = (await table.read()) as Float32Array;
    const row = (a: Float32Array, v: number) => Array.from(a.subarray(v * dim, (v + 1) * dim));
    for (const v of [1, 4]) expect(row(moved, v)).not.toEqual(row(hostTable, v));
    expect(row(moved, 6)).toEqual(row(hostTable, 6));
    full.dispose();
  });

  for (const dim of [16, 5]) {
    it(`the embedding's row gradient holds exactly the dense gradient's nonzero rows (D = ${dim})`, async () => {
      const g = gpu();
      const [vocab, batch, steps] = [300, 6, 9];
      const ids = Int32Array.from({ length: batch * steps }, (_, i) => (i * 37 + (i % 5) * 11) % 40);
      const index = uploadEmbeddingGradientIndex(g, embeddingGradientIndex(ids, vocab));
      const dOut = g.upload(random(batch * steps * dim, 4), [batch, steps, dim]);
      const dense = (await embeddingBackward(g, dOut, index, vocab, dim).read()) as Float32Array;
      const rows = (await embeddingBackwardRows(g, dOut, index, vocab, dim).read()) as Float32Array;
      const rowIds = Int32Array.from(new Set(ids)).sort();
      expect(rows.length).toBe(Math.ceil((rowIds.length * dim) / 4) * 4);
      expect(rows.subarray(0, rowIds.length * dim)).toEqual(gatherRowsReference(dense, rowIds, dim));
      // Every other row of the dense gradient is zero.
      const touched = new Set(rowIds);
      for (let v = 0; v < vocab; v++) if (!touched.has(v)) expect(dense.subarray(v * dim, (v + 1) * dim).every((x) => x === 0)).toBe(true);
    });
  }

  it('LazyAdam moves only the touched rows and their moments; Adam moves every row that has momentum', async () => {
    const [vocab, steps] = [50, 4];
    // Step 1 touches ids 1..8, step 2 only ids 20..27 (batches of one review, no shuffle).
    const x = { data: Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 20, 21, 22, 23, 24, 25, 26, 27].slice(0, 2 * steps * 2)), shape: [2, 2 * steps] as [number, number] };
    const y = Uint8Array.from([1, 0]);
    const run = async (optimizer: Adam | LazyAdam) => {
      const m = new Sequential([new Embedding(vocab, 8), new GlobalAveragePooling1D(), new Dense(1, { activation: 'sigmoid' })]);
      m.build(gpu(), [2 * steps], { seed: 1 });
      m.compile({ optimizer });
      await m.fit(x, y, { epochs: 1, batchSize: 1, shuffle: false, verbose: 0 });
      return { m, weights: await m.getWeights(), state: await m.getOptimizerState() };
    };
    const initial = new Sequential([new Embedding(vocab, 8), new GlobalAveragePooling1D(), new Dense(1, { activation: 'sigmoid' })]);
    initial.build(gpu(), [2 * steps], { seed: 1 });
    const [table0] = await initial.getWeights();
    const lazy = await run(new LazyAdam({ learningRate: 0.1 }));
    const dense = await run(new Adam({ learningRate: 0.1 }));
    const row = (t: Float32Array, v: number) => Array.from(t.subarray(v * 8, (v + 1) * 8));
    // Rows 1..8 were touched at step 1 only: lazily they stay where step 1 left them; densely they move on at step 2.
    // Rows 20..27 were touched at step 2 only; row 40 never.
    for (const v of [40]) {
      expect(row(lazy.weights[0], v)).toEqual(row(table0, v));
      expect(row(dense.weights[0], v)).toEqual(row(table0, v)); // no gradient ever: Adam's moments stay 0 too
    }
    const [lazyM, denseM] = [lazy.state.slots[0].values[0], dense.state.slots[0].values[0]];
    for (const v of [1, 5, 8]) {
      expect(row(lazy.weights[0], v)).not.toEqual(row(table0, v));
      // Lazy: the momentum of a row untouched at step 2 is still step 1's, (1 - beta1) g1; dense decays it by beta1.
      row(denseM, v).forEach((m, d) => expect(m).toBeCloseTo(0.9 * row(lazyM, v)[d], 6));
      expect(row(dense.weights[0], v)).not.toEqual(row(lazy.weights[0], v));
    }
    for (const v of [20, 24, 27]) expect(row(lazy.weights[0], v)).not.toEqual(row(table0, v));
    expect(lazy.m.execution).toBe('captured');
  });

  it('a table split over buffers trains with LazyAdam as an unsplit one, bit for bit (width 50, not a multiple of 4)', async () => {
    const [vocab, dim, steps] = [400, 50, 12];
    const ids = Int32Array.from({ length: 64 * steps }, (_, i) => (i * 7919 + (i >> 3) * 31) % vocab);
    const x = { data: ids, shape: [64, steps] as [number, number] };
    const y = Uint8Array.from({ length: 64 }, (_, i) => (ids[i * steps] % 3 === 0 ? 1 : 0));
    const train = async (g: Gpu) => {
      const m = new Sequential([new Embedding(vocab, dim), new GlobalAveragePooling1D(), new Dense(1, { activation: 'sigmoid' })]);
      m.build(g, [steps], { seed: 2 });
      m.compile({ optimizer: new LazyAdam({ learningRate: 0.05 }) });
      const history = await m.fit(x, y, { epochs: 3, batchSize: 8, verbose: 0, seed: 1 });
      return { m, history: history.history, weights: await m.getWeights(), state: await m.getOptimizerState() };
    };
    // 100 rows of 50 floats a binding: the table and its slots in 4 shards (a batch's [8, 12, 50] still fits one).
    const split = await train(new Gpu(gpu().device, undefined, { maxBindingBytes: 100 * dim * 4 }));
    const whole = await train(gpu());
    expect(split.m.weights[0].tensor.chunks.length).toBe(4);
    expect(split.history).toEqual(whole.history);
    const bits = (a: Float32Array[]) => a.map((t) => Buffer.from(t.buffer, t.byteOffset, t.byteLength).toString('hex'));
    expect(bits(split.weights)).toEqual(bits(whole.weights));
    expect(bits(split.state.slots.flatMap((s) => s.values))).toEqual(bits(whole.state.slots.flatMap((s) => s.values)));
  });
});
