/**
 * The routes through src/nn/ops.ts that the model tests do not take (found by StrykerJS): a mask
 * that is not the embedding's own, a table split into chunks, a sigmoid whose gradient is not
 * taken by the loss, an embedding gradient without its ids, and the tensors each backward frees.
 * Each is checked against a float64 reference of the same chain:
 * Embedding -> masked GlobalAveragePooling1D -> Dense(1) -> sigmoid -> binary cross-entropy.
 */
import { describe, expect, it } from 'vitest';
import { Gpu, type Tensor } from '../src/gpu/gpu.js';
import { binaryCrossentropy, dense, embedding, maskedMeanPool, meanPool, paddingMask, sigmoid } from '../src/nn/ops.js';
import { Tape } from '../src/nn/tape.js';
import { expectClose, randomFloats, randomIds, useGpu } from './gpu-helpers.js';

const [VOCAB, DIM, BATCH, STEPS] = [40, 4, 3, 6];
const sigmoid64 = (z: number) => 1 / (1 + Math.exp(-z));

/**
 * The chain's pooled rows, loss and table gradient in float64. `mask[b * STEPS + t]` weighs step t
 * of review b (every review keeps at least one step); Dense(1) has `kernel` [DIM] and `bias`.
 */
function chainReference(table: Float32Array, ids: Int32Array, mask: ArrayLike<number>, kernel: Float32Array, bias: number, labels: Float32Array) {
  const pooled = new Float64Array(BATCH * DIM);
  const dTable = new Float64Array(VOCAB * DIM);
  let loss = 0;
  for (let b = 0; b < BATCH; b++) {
    let kept = 0;
    for (let t = 0; t < STEPS; t++) kept += mask[b * STEPS + t];
    for (let t = 0; t < STEPS; t++) {
      for (let d = 0; d < DIM; d++) pooled[b * DIM + d] += (mask[b * STEPS + t] * table[ids[b * STEPS + t] * DIM + d]) / kept;
    }
    let z = bias;
    for (let d = 0; d < DIM; d++) z += pooled[b * DIM + d] * kernel[d];
    const [p, y] = [sigmoid64(z), labels[b]];
    loss += (Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z)))) / BATCH;
    const dz = (p - y) / BATCH;
    for (let t = 0; t < STEPS; t++) {
      for (let d = 0; d < DIM; d++) dTable[ids[b * STEPS + t] * DIM + d] += (dz * kernel[d] * mask[b * STEPS + t]) / kept;
    }
  }
  return { pooled, loss, dTable };
}

/** The chain's inputs: ids with padding (id 0) at a few steps, and a second set of ids whose padding differs. */
function inputs() {
  const ids = randomIds(BATCH * STEPS, 3, VOCAB);
  const otherIds = randomIds(BATCH * STEPS, 4, VOCAB);
  for (const i of [1, 4, 9, 16]) ids[i] = 0;
  for (const i of [0, 2, 7, 8, 15]) otherIds[i] = 0;
  for (const i of [3, 10, 13]) otherIds[i] = 5; // each review keeps some steps under either mask
  return {
    ids,
    otherIds,
    table: randomFloats(VOCAB * DIM, 5, -1, 1),
    kernel: randomFloats(DIM, 6, -2, 2),
    bias: 0.25,
    labels: Float32Array.from({ length: BATCH }, (_, i) => i % 2),
  };
}

describe('ops: routes the models do not take', () => {
  const gpu = useGpu();

  /**
   * Runs the chain on `on` with the mask `maskOf` makes from the ids tensor, and returns the pooled
   * rows, the loss and the table's gradient, everything else freed.
   */
  async function runChain(on: Gpu, data: ReturnType<typeof inputs>, maskOf: (idsTensor: Tensor) => Tensor) {
    const table = on.upload(data.table, [VOCAB, DIM]);
    const idsTensor = on.upload(data.ids, [BATCH, STEPS]);
    const kernel = on.upload(data.kernel, [DIM, 1]);
    const bias = on.upload(new Float32Array([data.bias]), [1]);
    const labels = on.upload(data.labels, [BATCH, 1]);
    const before = on.stats.bytesInUse;
    const tape = new Tape();
    let pooledTensor: Tensor | null = null;
    const loss = tape.watch(() => {
      const pooled = maskedMeanPool(embedding(table, idsTensor, data.ids), maskOf(idsTensor));
      pooledTensor = pooled;
      return binaryCrossentropy(sigmoid(dense(pooled, kernel, bias)), labels);
    });
    const pooled = Float64Array.from((await pooledTensor!.read()) as Float32Array);
    const lossValue = ((await loss.read()) as Float32Array)[0];
    const grads = tape.gradients(loss, [table]);
    const dTable = Float64Array.from((await grads.get(table)!.read()) as Float32Array);
    for (const g of grads.values()) g.dispose();
    tape.dispose();
    const leaked = on.stats.bytesInUse - before;
    for (const t of [table, idsTensor, kernel, bias, labels]) t.dispose();
    return { pooled, loss: lossValue, dTable, leaked };
  }

  it("a mask from other ids: the pooled rows, the loss and the table's gradient follow that mask, and the backward frees what it made", async () => {
    const data = inputs();
    const otherMask = Float64Array.from(data.otherIds, (id) => (id === 0 ? 0 : 1));
    const want = chainReference(data.table, data.ids, otherMask, data.kernel, data.bias, data.labels);
    const otherIdsTensor = gpu().upload(data.otherIds, [BATCH, STEPS]);
    const got = await runChain(gpu(), data, () => paddingMask(otherIdsTensor));
    otherIdsTensor.dispose();
    expectClose(got.pooled, want.pooled, { atol: 1e-6, rtol: 1e-5 });
    expectClose([got.loss], [want.loss], { atol: 1e-6, rtol: 1e-5 });
    expectClose(got.dTable, want.dTable, { atol: 1e-7, rtol: 1e-5 });
    // The densified gradient (the padding is not this embedding's) and the uploaded gradient index are freed.
    expect(got.leaked).toBe(0);
  });

  it('a mask given as floats (no ids behind it): the rows are gathered and the gradient goes through the mask', async () => {
    const data = inputs();
    // Not the ids' padding: masks steps with real tokens and keeps a padded one.
    const mask = Float32Array.from({ length: BATCH * STEPS }, (_, i) => (i % 3 === 1 ? 0 : 1));
    const want = chainReference(data.table, data.ids, mask, data.kernel, data.bias, data.labels);
    const maskTensor = gpu().upload(mask, [BATCH, STEPS]);
    const got = await runChain(gpu(), data, () => maskTensor);
    maskTensor.dispose();
    expectClose(got.pooled, want.pooled, { atol: 1e-6, rtol: 1e-5 });
    expectClose(got.dTable, want.dTable, { atol: 1e-7, rtol: 1e-5 });
    expect(got.leaked).toBe(0);
  });

  it("the embedding's own mask: the rows are read through the ids, and the backward frees the index it uploaded", async () => {
    const data = inputs();
    const want = chainReference(data.table, data.ids, Float64Array.from(data.ids, (id) => (id === 0 ? 0 : 1)), data.kernel, data.bias, data.labels);
    const got = await runChain(gpu(), data, (idsTensor) => paddingMask(idsTensor));
    expectClose(got.pooled, want.pooled, { atol: 1e-6, rtol: 1e-5 });
    expectClose(got.dTable, want.dTable, { atol: 1e-7, rtol: 1e-5 });
    expect(got.leaked).toBe(0);
  });

  it('a table split into chunks (past one binding): its own mask pools and differentiates as one binding does', async () => {
    // 320 bytes a binding: the 40 x 4 table (640 bytes) is 2 chunks, so the rows cannot be read through
    // the ids; the gathered [3, 6, 4] rows (288 bytes) still fit one binding.
    const capped = new Gpu(gpu().device, undefined, { maxBindingBytes: 320 });
    const data = inputs();
    const want = chainReference(data.table, data.ids, Float64Array.from(data.ids, (id) => (id === 0 ? 0 : 1)), data.kernel, data.bias, data.labels);
    const got = await runChain(capped, data, (idsTensor) => paddingMask(idsTensor));
    expectClose(got.pooled, want.pooled, { atol: 1e-6, rtol: 1e-5 });
    expectClose(got.dTable, want.dTable, { atol: 1e-7, rtol: 1e-5 });
  });

  it("a sigmoid inside the graph: the loss takes the outer one's logits, the inner one's gradient is σ'(x)", async () => {
    // loss = BCE(σ(σ(x)), y): the loss's gradient goes to the outer logits σ(x), then through σ's own backward.
    const x = Float32Array.of(-3, -0.5, 0, 0.7, 2.5, 6);
    const y = Float32Array.of(1, 0, 1, 0, 1, 0);
    const xTensor = gpu().upload(x, [x.length, 1]);
    const tape = new Tape();
    const loss = tape.watch(() => binaryCrossentropy(sigmoid(sigmoid(xTensor)), gpu().upload(y, [y.length, 1])));
    const got = (await tape.gradients(loss, [xTensor]).get(xTensor)!.read()) as Float32Array;
    const want = Array.from(x, (v, i) => {
      const s = sigmoid64(v);
      return ((sigmoid64(s) - y[i]) / x.length) * s * (1 - s);
    });
    expectClose(got, want, { atol: 1e-7, rtol: 1e-5 });
    tape.dispose();
  });

  it("an embedding's gradient without the ids (neither on the host nor as an index) is refused by name", () => {
    const ids = randomIds(BATCH * STEPS, 7, VOCAB);
    const table = gpu().upload(randomFloats(VOCAB * DIM, 8), [VOCAB, DIM]);
    const tape = new Tape();
    const loss = tape.watch(() => {
      const pooled = meanPool(embedding(table, gpu().upload(ids, [BATCH, STEPS])));
      return binaryCrossentropy(sigmoid(dense(pooled, gpu().upload(randomFloats(DIM, 9), [DIM, 1]), gpu().zeros([1]))), gpu().zeros([BATCH, 1]));
    });
    expect(() => tape.gradients(loss, [table])).toThrow(
      'embedding: a gradient needs the ids on the host or a gradient index (TokenBatch.hostIds or gradientIndex)',
    );
    tape.dispose();
  });

  it('the mean pool hands the embedding its gradient one row per review: the backward makes no [B, T, D] gradient', async () => {
    // A fresh pool of buffers, so that its peak counts this graph alone. B x T x D floats are 1 MiB here.
    // The forward allocates the embedding's [B, T, D] output (unwritten: the pool reads the rows through
    // the ids), kept until the tape is freed; the embedding's backward allocates its partial sums, a row
    // of D per position (src/kernels/embedding.ts), and the index over the B x T ids, about a tenth of
    // that. A dense [B, T, D] gradient would be another MiB.
    const own = new Gpu(gpu().device);
    const [batch, steps, dim, vocab] = [16, 256, 64, 50];
    const ids = randomIds(batch * steps, 10, vocab);
    const table = own.upload(randomFloats(vocab * dim, 11), [vocab, dim]);
    const idsTensor = own.upload(ids, [batch, steps]);
    // A square Dense first: its input's gradient is dense [B, D] (a narrower one would hand it on factored, [B, 1]).
    const [square, kernel] = [own.upload(randomFloats(dim * dim, 12), [dim, dim]), own.upload(randomFloats(dim, 13), [dim, 1])];
    const [squareBias, bias, labels] = [own.zeros([dim]), own.zeros([1]), own.zeros([batch, 1])];
    const tape = new Tape();
    const loss = tape.watch(() => {
      const pooled = meanPool(embedding(table, idsTensor, ids));
      return binaryCrossentropy(sigmoid(dense(dense(pooled, square, squareBias), kernel, bias)), labels);
    });
    await loss.read();
    const afterForward = own.stats.peakBytesAllocated;
    const grads = tape.gradients(loss, [table]);
    await grads.get(table)!.read();
    const partialSums = batch * steps * dim * 4;
    expect(own.stats.peakBytesAllocated - afterForward - partialSums).toBeLessThan(batch * steps * dim * 4);
    tape.dispose();
  });
});
