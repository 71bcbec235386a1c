/**
 * Row-sparse gradients and the lazy optimizer update: the row kernels against their references
 * (split tables included), the embedding's row gradient against the dense one, and LazyAdam
 * against Adam's rule applied to the touched rows only, through a whole model step.
 */
import { describe, expect, it } from 'vitest';
import { Gpu } from '../src/gpu/gpu.js';
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
      const update = random(index.uniqueCount * dim, 9);
      scatterRows(g, index, g.upload(update), table);
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
