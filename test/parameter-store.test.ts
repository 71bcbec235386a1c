/**
 * The parameter store's layout (src/nn/parameter-store.ts), checked against the rules its doc
 * comment states, for random lists of weights on devices whose bindings are a few KiB: each weight
 * starts at the 256-byte storage offset alignment; a shard is at most one binding and a whole number
 * of vec4s, zero in its gaps; a weight past the room left starts a shard, and only then; one past a
 * binding is split by rows, each run filling its shard; the small weights at the end stay together;
 * a row-sparse weight's shards hold nothing else. Then what the store does with the layout: views
 * that read back every weight, row slices of a split table, the optimizer's state, and freeing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Gpu, type Tensor } from '../src/gpu/gpu.js';
import type { Weight } from '../src/nn/layers.js';
import { Adam, SGD } from '../src/nn/optimizers/index.js';
import { ParameterStore } from '../src/nn/parameter-store.js';
import { randomFloats, useGpu } from './gpu-helpers.js';

const ALIGN = 256;
const aligned = (bytes: number) => Math.ceil(bytes / ALIGN) * ALIGN;

interface WeightSpec {
  shape: number[];
  rowSparse: boolean;
}

/** Weights of the given shapes, each with its own values (seeded by its index). */
function makeWeights(gpu: Gpu, specs: readonly WeightSpec[]): { weights: Weight[]; values: Float32Array[] } {
  const values = specs.map((s, i) => randomFloats(s.shape.reduce((a, b) => a * b, 1), 100 + i));
  const weights = specs.map((s, i) => ({ name: `w${i}`, tensor: gpu.upload(values[i], s.shape) }));
  return { weights, values };
}

/** Where each weight's runs went: shard index, byte offset in it, bytes, first row, rows. */
function runsOf(store: ParameterStore, weight: Tensor) {
  return weight.chunks.map((c) => ({
    shard: store.shards.findIndex((s) => s.values.chunks[0].buffer === c.buffer),
    offset: c.bufferOffset,
    bytes: c.byteLength,
    firstRow: c.firstRow,
    rows: c.rows,
  }));
}

const fixed = (...shapes: number[][]): WeightSpec[] => shapes.map((shape) => ({ shape, rowSparse: false }));

const spec = fc.record({
  shape: fc.oneof(fc.tuple(fc.integer({ min: 1, max: 90 }), fc.integer({ min: 1, max: 9 })).map(([r, c]) => [r, c]), fc.integer({ min: 1, max: 300 }).map((n) => [n])),
  rowSparse: fc.boolean(),
});

describe('ParameterStore', () => {
  const gpu = useGpu();

  it('lays out any list of weights by its rules, and every weight, gradient and gap reads back', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(spec, { minLength: 1, maxLength: 7 }), fc.constantFrom<number>(512, 1024, 1536, 4096), async (specs, capacity) => {
        const capped = new Gpu(gpu().device, undefined, { maxBindingBytes: capacity });
        const { weights, values } = makeWeights(capped, specs);
        const store = ParameterStore.adopt(capped, weights, specs.map((s) => s.rowSparse));
        const shardBytes = store.shards.map((s) => s.values.byteLength);
        const bytes = specs.map((s) => s.shape.reduce((a, b) => a * b, 4));
        const rowBytes = specs.map((s, i) => (s.shape[0] > 0 ? bytes[i] / s.shape[0] : 0));
        const tail = bytes.map((_, i) => bytes.slice(i).reduce((n, b) => aligned(n) + b, 0));
        const runs = weights.map((w) => runsOf(store, w.tensor));
        const used = new Map<number, [number, number][]>();
        let end = { shard: -1, offset: capacity }; // where the previous weight ended
        for (let i = 0; i < weights.length; i++) {
          const r = runs[i];
          // Rows in order, each run inside one aligned stretch of one shard of at most one binding.
          expect(r.reduce((n, x) => n + x.rows, 0)).toBe(specs[i].shape[0]);
          r.forEach((x, k) => {
            expect(x.firstRow).toBe(k === 0 ? 0 : r[k - 1].firstRow + r[k - 1].rows);
            expect(x.offset % ALIGN).toBe(0);
            expect(x.bytes).toBe(x.rows * rowBytes[i]);
            expect(x.offset + x.bytes).toBeLessThanOrEqual(shardBytes[x.shard]);
            // A run that is not the last fills its shard: no room for one more row.
            if (k < r.length - 1) expect(x.offset + x.bytes + rowBytes[i]).toBeGreaterThan(capacity);
            const spans = used.get(x.shard) ?? [];
            for (const [a, b] of spans) expect(x.offset >= b || x.offset + x.bytes <= a).toBe(true);
            used.set(x.shard, [...spans, [x.offset, x.offset + x.bytes]]);
          });
          if (bytes[i] <= capacity) expect(r).toHaveLength(1);
          // A new shard only when a rule asks for one; and whenever one does.
          const opened = r[0].shard !== end.shard;
          const from = aligned(end.offset);
          const rowSparseEdge = specs[i].rowSparse || (i > 0 && specs[i - 1].rowSparse);
          const rows = specs[i].shape[0];
          const mustOpen =
            rowSparseEdge || (tail[i] <= capacity && from + tail[i] > capacity) || (bytes[i] <= capacity && from + bytes[i] > capacity) || (rows > 0 && from + rowBytes[i] > capacity);
          expect(opened, `weight ${i} (${bytes[i]} bytes) after ${end.offset} bytes of shard ${end.shard}`).toBe(mustOpen);
          if (opened) expect([r[0].offset, r[0].shard]).toEqual([0, end.shard + 1]);
          const last = r[r.length - 1];
          end = { shard: last.shard, offset: last.offset + last.bytes };
        }
        for (let k = 0; k < shardBytes.length; k++) {
          const spans = used.get(k)!;
          // Each shard ends with its last weight, at most one binding, a whole number of vec4s.
          expect(shardBytes[k]).toBe(Math.max(16, Math.ceil(Math.max(...spans.map(([, b]) => b)) / 16) * 16));
          expect(shardBytes[k]).toBeLessThanOrEqual(capacity);
        }
        // A row-sparse weight's shards hold it alone.
        specs.forEach((s, i) => {
          if (s.rowSparse) for (const x of runs[i]) expect(runs.filter((other, j) => j !== i && other.some((y) => y.shard === x.shard))).toEqual([]);
        });
        expect(store.byteLength).toBe(shardBytes.reduce((a, b) => a + b, 0));
        // The views read back each weight; gradients and the gaps between weights are zeros.
        const read = await capped.readAll([...weights.map((w) => w.tensor), ...store.gradients, ...store.shards.map((s) => s.values)]);
        values.forEach((v, i) => expect(read[i]).toEqual(v));
        store.gradients.forEach((_, i) => expect(Array.from(read[weights.length + i]).every((x) => x === 0)).toBe(true));
        store.shards.forEach((_, k) => {
          const shard = read[2 * weights.length + k];
          const inWeight = new Uint8Array(shard.length);
          for (const [a, b] of used.get(k)!) inWeight.fill(1, a / 4, b / 4);
          shard.forEach((x, e) => {
            if (!inWeight[e]) expect(x, `shard ${k} element ${e}`).toBe(0);
          });
        });
        store.dispose();
      }),
      {
        numRuns: 40,
        seed: 16,
        // Each on a boundary (1-D weights of n floats are 4n bytes; 256-byte alignment):
        examples: [
          // the head's tail exactly one binding (64 + 768 bytes from 0 and 256): it starts a shard, though its first weight fits the room;
          [fixed([75], [16], [192]), 1024],
          // a weight exactly the room left (256 + 768 bytes) stays;
          [fixed([64], [192]), 1024],
          // a weight of exactly one binding, after another and before a larger one, starts a shard whole;
          [fixed([4], [256], [300]), 1024],
          // one row of a split weight exactly fills the room left (256 + 256 bytes);
          [fixed([4], [3, 64]), 512],
          // a row of exactly one binding; a weight with no rows after a full shard (no new shard for it).
          [fixed([2, 128], [128], [0, 3]), 512],
        ],
      },
    );
  });

  it('keeps the small weights at the end in one shard (the fused head binds them so)', () => {
    // 1,024 bytes a binding: a 500-byte table leaves room from byte 512, where the head's kernel and
    // bias would fit, but not its four weights (64 + 16 + 64 + 4 bytes, each at a 256-byte boundary:
    // 772 bytes), so they start a second shard together.
    const capped = new Gpu(gpu().device, undefined, { maxBindingBytes: 1024 });
    const { weights } = makeWeights(capped, [[25, 5], [4, 4], [4], [16, 1], [1]].map((shape) => ({ shape, rowSparse: false })));
    const store = ParameterStore.adopt(capped, weights);
    expect(weights.map((_, i) => store.locate(i))).toEqual([
      { shard: 0, offset: 0 },
      { shard: 1, offset: 0 },
      { shard: 1, offset: 64 },
      { shard: 1, offset: 128 },
      { shard: 1, offset: 192 },
    ]);
    store.dispose();
  });

  it("slices a split table's rows at every aligned start, refuses a slice that crosses a shard, and clears the gradients", async () => {
    // 1,024 bytes a binding: a [100, 3] table (12-byte rows) is split into runs of 85 and 15 rows;
    // a view must start at a multiple of 256 bytes, every 64 rows (256 / gcd(12, 256)).
    const capped = new Gpu(gpu().device, undefined, { maxBindingBytes: 1024 });
    const { weights, values } = makeWeights(capped, [{ shape: [100, 3], rowSparse: false }, { shape: [8], rowSparse: false }]);
    const store = ParameterStore.adopt(capped, weights);
    expect(store.rowRuns(0)).toEqual([{ firstRow: 0, rows: 85 }, { firstRow: 85, rows: 15 }]);
    expect([store.alignedRows(0), store.alignedRows(1)]).toEqual([64, 64]);
    for (const [first, rows] of [[0, 85], [64, 21], [85, 15], [0, 1]]) {
      const slice = store.sliceRows(0, first, rows, 'values');
      expect(await slice.read()).toEqual(values[0].subarray(first * 3, (first + rows) * 3));
    }
    capped.write(store.gradients[0], Float32Array.from({ length: 300 }, (_, i) => i));
    expect(Array.from(await store.sliceRows(0, 64, 2, 'grads').read())).toEqual([192, 193, 194, 195, 196, 197]);
    expect(() => store.sliceRows(0, 64, 22, 'values')).toThrow('sliceRows: rows [64, 86) of w0 cross a shard');
    store.clearGradients();
    expect((await capped.readAll(store.gradients)).map((g) => Array.from(g).every((x) => x === 0))).toEqual([true, true]);
    store.dispose();
  });

  it('aligned slice starts follow the row width: 4-float rows every 16, 1-D every 64, 5 floats every 64', () => {
    const { weights } = makeWeights(gpu(), [[20, 4], [30], [12, 5], [2, 64]].map((shape) => ({ shape, rowSparse: false })));
    const store = ParameterStore.adopt(gpu(), weights);
    expect(weights.map((_, i) => store.alignedRows(i))).toEqual([16, 64, 64, 1]);
    store.dispose();
  });

  it("refuses a weight whose one row passes a binding, naming it", () => {
    // Made on a device without the cap (one with it could not hold the tensor at all).
    const capped = new Gpu(gpu().device, undefined, { maxBindingBytes: 64 });
    const { weights } = makeWeights(gpu(), [{ shape: [2, 17], rowSparse: false }]);
    expect(() => ParameterStore.adopt(capped, weights)).toThrow('w0: a row of 68 bytes does not fit one storage binding of 64 bytes');
  });

  it("keeps the optimizer's state, refuses another optimizer's slots or a wrong count, and frees everything", async () => {
    const before = gpu().stats.bytesInUse;
    const { weights } = makeWeights(gpu(), [{ shape: [6, 2], rowSparse: false }, { shape: [3], rowSparse: false }]);
    const store = ParameterStore.adopt(gpu(), weights);
    expect(() => store.uniform).toThrow('ParameterStore: prepareUpdate() first');
    expect(() => store.updateParams(0)).toThrow('ParameterStore: no optimizer attached (compile first)');
    const adam = new Adam();
    store.setOptimizer(adam);
    const state = { iterations: 7, slots: ['momentum', 'velocity'].map((name, k) => ({ name, values: [randomFloats(12, 40 + k), randomFloats(3, 50 + k)] })) };
    store.setOptimizerState(state);
    expect(await store.getOptimizerState()).toEqual(state);
    expect(adam.iterations).toBe(7);
    expect(() => store.setOptimizerState({ iterations: 0, slots: [{ name: 'momentum', values: [] }] })).toThrow("setOptimizerState: slots (momentum) are not adam's (momentum, velocity)");
    expect(() => store.setOptimizerState({ iterations: 0, slots: state.slots.map((s) => ({ ...s, values: s.values.slice(1) })) })).toThrow(
      'setOptimizerState: momentum holds 1 arrays for 2 weights',
    );
    // One prepared update, kept; one step counts one iteration.
    const update = await store.prepareUpdate();
    expect(await store.prepareUpdate()).toBe(update);
    expect(store.uniform).toBe(update.uniform);
    await store.applyUpdate();
    expect(adam.iterations).toBe(8);
    // Another optimizer replaces the first's slots.
    store.setOptimizer(new SGD({ momentum: 0.9 }));
    expect((await store.getOptimizerState()).slots.map((s) => s.name)).toEqual(['momentum']);
    store.dispose();
    expect(gpu().stats.bytesInUse).toBe(before);
  });

  it("pads an optimizer's uniform to one 64-byte block, and refuses one that passes it", () => {
    const { weights } = makeWeights(gpu(), [{ shape: [4], rowSparse: false }]);
    const store = ParameterStore.adopt(gpu(), weights);
    const sgd = new SGD();
    store.setOptimizer(sgd);
    const params = (bytes: number) => Object.assign(sgd, { params: () => Uint8Array.from({ length: bytes }, (_, i) => i + 1) });
    params(64);
    expect(store.updateParams(0)).toEqual(Uint8Array.from({ length: 64 }, (_, i) => i + 1));
    params(3);
    expect(store.updateParams(0)).toEqual(Uint8Array.from({ length: 64 }, (_, i) => (i < 3 ? i + 1 : 0)));
    params(65);
    expect(() => store.updateParams(0)).toThrow('sgd: params of 65 bytes pass 64');
    store.dispose();
  });
});
