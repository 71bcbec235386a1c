/**
 * The forward kernels that shadergrad and TensorFlow.js both have, timed the same way:
 * one warm-up call, then the wall clock around batches of `repeats` calls, each ended by one sync
 * point (TF.js: reading the last result, which waits for the queue; shadergrad: `gpu.sync()`).
 */
import * as tf from '@tensorflow/tfjs';
import type { Gpu, Tensor } from '../../src/index.js';
import { denseForward } from '../../src/kernels/dense.js';
import { batchWords, prepareEmbeddingBag, presenceShape, tokenBags, uploadTokenBags, wholeTable } from '../../src/kernels/embedding-bag.js';
import { reluForward } from '../../src/kernels/relu.js';
import { sigmoidForward } from '../../src/kernels/sigmoid.js';

const BATCH = 512;
const UNITS = 16;
const MIN_MS = 100;

export const KERNELS = [
  { name: 'embedding gather + mean over steps', shape: '[10000,16] at [512,256] → [512,16]' },
  { name: 'dense + bias + relu', shape: '[512,16]·[16,16] + [16]' },
  { name: 'sigmoid', shape: '[512]' },
] as const;

/** The same inputs for both: token ids from the data, random weights. */
export interface KernelInputs {
  ids: Int32Array; // [512, steps]
  steps: number;
  table: Float32Array; // [vocab, 16]
  vocab: number;
  x: Float32Array; // [512, 16]
  w: Float32Array; // [16, 16]
  b: Float32Array; // [16]
  z: Float32Array; // [512]
}

export function kernelInputs(tokens: Int32Array, steps: number, vocab: number): KernelInputs {
  const random = (n: number, scale: number) => Float32Array.from({ length: n }, () => (Math.random() * 2 - 1) * scale);
  // A batch of real reviews; the rows repeat when the data has fewer than 512 (the test fixture).
  const ids = new Int32Array(BATCH * steps);
  for (let i = 0; i < ids.length; i++) ids[i] = tokens[i % tokens.length];
  return { ids, steps, table: random(vocab * UNITS, 0.05), vocab, x: random(BATCH * UNITS, 1), w: random(UNITS * UNITS, 0.5), b: random(UNITS, 0.1), z: random(BATCH, 4) };
}

/** Milliseconds per call on the active TF.js backend, in KERNELS' order. */
export async function tfjsKernelMs(k: KernelInputs, repeats: number): Promise<number[]> {
  const table = tf.tensor2d(k.table, [k.vocab, UNITS]);
  const ids = tf.tensor2d(k.ids, [BATCH, k.steps], 'int32');
  const x = tf.tensor2d(k.x, [BATCH, UNITS]);
  const w = tf.tensor2d(k.w, [UNITS, UNITS]);
  const b = tf.tensor1d(k.b);
  const z = tf.tensor1d(k.z);
  try {
    return [
      await timeTfjs(repeats, () => tf.tidy(() => tf.mean(tf.gather(table, ids), 1))),
      // What a TF.js Dense layer with relu runs: one fused matmul + bias + activation.
      await timeTfjs(repeats, () => tf.fused.matMul({ a: x, b: w, bias: b, activation: 'relu' })),
      await timeTfjs(repeats, () => tf.sigmoid(z)),
    ];
  } finally {
    tf.dispose([table, ids, x, w, b, z]);
  }
}

async function timeTfjs(repeats: number, op: () => tf.Tensor): Promise<number> {
  const warm = op();
  await warm.data();
  warm.dispose();
  return msPerCall(repeats, async () => {
    const outputs: tf.Tensor[] = [];
    for (let i = 0; i < repeats; i++) outputs.push(op());
    await outputs[outputs.length - 1].data(); // backends run their queue in order: the last result waits for all
    tf.dispose(outputs);
  });
}

/**
 * Milliseconds per call on shadergrad, in KERNELS' order. Gather + mean is the fused path's
 * embedding-bag forward (what training runs), from the batch's token counts, counted once
 * beforehand as training counts them once per data set.
 */
export async function shadergradKernelMs(gpu: Gpu, k: KernelInputs, repeats: number): Promise<number[]> {
  const table = gpu.upload(k.table, [k.vocab, UNITS]);
  const bags = uploadTokenBags(gpu, tokenBags(k.ids, BATCH, k.steps, k.vocab));
  const bagTensors = [
    gpu.upload(batchWords(0, BATCH)),
    gpu.upload(Int32Array.from({ length: BATCH }, (_, i) => i)),
    gpu.zeros(presenceShape(k.vocab, BATCH), 'i32'),
    gpu.empty([BATCH, UNITS]),
  ];
  const [batch, order, presence, pooled] = bagTensors;
  const shards = wholeTable(k.vocab, table, table, presence);
  const bag = await prepareEmbeddingBag(gpu, { bags, dim: UNITS, capacity: BATCH, markRows: BATCH, batch, order, shards, pooled, dPooled: pooled });
  const x = gpu.upload(k.x, [BATCH, UNITS]);
  const w = gpu.upload(k.w, [UNITS, UNITS]);
  const b = gpu.upload(k.b, [UNITS]);
  const z = gpu.upload(k.z, [BATCH]);
  // Each op's intermediate goes back to the pool at once, as in training.
  const then = (first: Tensor, next: (t: Tensor) => Tensor) => {
    const out = next(first);
    first.dispose();
    return out;
  };
  try {
    return [
      await timeGpu(gpu, repeats, () => (gpu.record(bag.forward), null)),
      await timeGpu(gpu, repeats, () => then(denseForward(gpu, x, w, b), (y) => reluForward(gpu, y))),
      await timeGpu(gpu, repeats, () => sigmoidForward(gpu, z)),
    ];
  } finally {
    for (const t of [table, x, w, b, z, ...bagTensors]) t.dispose();
    bags.dispose();
    bag.dispose();
  }
}

/** `op` records one call; what it returns (if anything) goes back to the pool at once. */
async function timeGpu(gpu: Gpu, repeats: number, op: () => Tensor | null): Promise<number> {
  op()?.dispose();
  await gpu.sync();
  return msPerCall(repeats, async () => {
    for (let i = 0; i < repeats; i++) op()?.dispose();
    await gpu.sync();
  });
}

/**
 * Batches of `repeats` calls, each ended by its sync, until MIN_MS have passed: browsers
 * coarsen performance.now() (to 0.1 ms without cross-origin isolation), too coarse for one batch of a small kernel.
 */
async function msPerCall(repeats: number, batch: () => Promise<void>): Promise<number> {
  const started = performance.now();
  let calls = 0;
  do {
    await batch();
    calls += repeats;
  } while (performance.now() - started < MIN_MS);
  return (performance.now() - started) / calls;
}
