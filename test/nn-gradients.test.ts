/**
 * Finite-difference checks of the whole autograd path: the tutorial's model in
 * miniature, gradients from the tape against central differences of a float64
 * reference forward built from the kernels' references.
 */
import { describe, expect, it } from 'vitest';
import { denseReference } from '../src/kernels/dense.js';
import { embeddingReference } from '../src/kernels/embedding.js';
import { meanPoolReference } from '../src/kernels/mean-pool.js';
import { bceReference } from '../src/kernels/binary-crossentropy.js';
import { binaryCrossentropy, dense, embedding, meanPool, relu, sigmoid } from '../src/nn/ops.js';
import { Tape } from '../src/nn/tape.js';
import { randomFloats, useGpu } from './gpu-helpers.js';

const VOCAB = 12;
const DIM = 4;
const HIDDEN = 5;
const BATCH = 7; // not a multiple of anything
const STEPS = 6;
/** Small: the float64 reference has no noise to drown, and ReLU kinks stay out of reach. */
const H = 1e-6;

/** float64 forward of Embedding -> mean-pool -> Dense(relu) -> Dense -> BCE from the logits. */
function referenceLoss(w: Float64Array[], ids: Int32Array, labels: Float64Array): number {
  const [table, k1, b1, k2, b2] = w;
  const pooled = meanPoolReference(embeddingReference(table, ids, DIM), BATCH, STEPS, DIM);
  const hidden = denseReference(pooled, k1, b1, BATCH, DIM, HIDDEN, new Float64Array(BATCH * HIDDEN)).map((v) => Math.max(v, 0));
  const logits = denseReference(hidden, k2, b2, BATCH, HIDDEN, 1, new Float64Array(BATCH));
  let sum = 0;
  logits.forEach((z, i) => (sum += Math.max(z, 0) - z * labels[i] + Math.log1p(Math.exp(-Math.abs(z)))));
  return sum / BATCH;
}

describe('autograd through the tutorial model in miniature', () => {
  const gpu = useGpu();

  it('gradients of every weight match central differences (loss from the logits, past the sigmoid)', async () => {
    const shapes = [[VOCAB, DIM], [DIM, HIDDEN], [HIDDEN], [HIDDEN, 1], [1]];
    const init = shapes.map((s, i) => Float64Array.from(randomFloats(s.reduce((a, b) => a * b, 1), 10 + i, -0.6, 0.6)));
    const ids = Int32Array.from({ length: BATCH * STEPS }, (_, i) => (i * 7 + (i % 5)) % (VOCAB - 1)); // row VOCAB-1 unused
    const labels = Float64Array.from({ length: BATCH }, (_, i) => i % 2);

    const weights = init.map((w, i) => gpu().upload(Float32Array.from(w), shapes[i]));
    const idsTensor = gpu().upload(ids, [BATCH, STEPS]);
    const y = gpu().upload(Float32Array.from(labels));
    const tape = new Tape();
    const loss = tape.watch(() => {
      const [table, k1, b1, k2, b2] = weights;
      const z = dense(relu(dense(meanPool(embedding(table, idsTensor, ids)), k1, b1)), k2, b2);
      return binaryCrossentropy(sigmoid(z), y);
    });
    const grads = tape.gradients(loss, weights);
    const gpuLoss = (await loss.read())[0];
    expect(gpuLoss).toBeCloseTo(referenceLoss(init, ids, labels), 5);

    for (let w = 0; w < init.length; w++) {
      const grad = (await grads.get(weights[w])!.read()) as Float32Array;
      for (let i = 0; i < init[w].length; i += Math.max(1, Math.floor(init[w].length / 9))) {
        const plus = init.map((a) => a.slice());
        const minus = init.map((a) => a.slice());
        plus[w][i] += H;
        minus[w][i] -= H;
        const numeric = (referenceLoss(plus, ids, labels) - referenceLoss(minus, ids, labels)) / (2 * H);
        expect(Math.abs(grad[i] - numeric), `weight ${w}, element ${i}: ${grad[i]} vs ${numeric}`).toBeLessThan(2e-4 + 1e-2 * Math.abs(numeric));
      }
    }
    // The unused embedding row gets exactly zero gradient.
    const dTable = (await grads.get(weights[0])!.read()) as Float32Array;
    expect(Array.from(dTable.subarray((VOCAB - 1) * DIM))).toEqual([0, 0, 0, 0]);
    tape.dispose();
  });

  it('without a sigmoid before it, the loss works on clipped probabilities', async () => {
    const probs = Float32Array.from([0, 1e-9, 0.3, 0.5, 0.9, 1]);
    const labels = Float32Array.from([0, 1, 1, 0, 1, 0]);
    const p = gpu().upload(probs);
    const y = gpu().upload(labels);
    const tape = new Tape();
    const loss = tape.watch(() => binaryCrossentropy(p, y));
    const [dp] = [tape.gradients(loss, [p]).get(p)!];
    expect((await loss.read())[0]).toBeCloseTo(bceReference(probs, labels).mean, 4);
    const grad = await dp.read();
    expect(grad[0]).toBe(0); // clipped: p = 0 is outside [1e-7, 1 - 1e-7]
    expect(grad[2]).toBeCloseTo(-1 / 0.3 / probs.length, 4);
  });

  it('an evaluation tape keeps no gradients but frees every output', async () => {
    const x = gpu().upload(Float32Array.from([-1, 2, -3]));
    const before = gpu().stats.bytesInUse;
    const tape = new Tape(false);
    const y = tape.watch(() => sigmoid(relu(x)));
    const values = await y.read();
    expect([values[0], values[2]]).toEqual([0.5, 0.5]);
    expect(values[1]).toBeCloseTo(1 / (1 + Math.exp(-2)), 6);
    expect(() => tape.gradients(y, [x])).toThrow(/made for evaluation/);
    tape.dispose();
    expect(gpu().stats.bytesInUse).toBe(before);
  });
});
