/**
 * The text-model layers through `callLayers` and the tape: whole-stack gradients against central
 * differences of a float64 forward built from the kernels' references (the three models of issue
 * 11: dropout + masked average, Conv1D + max, Dense on [batch, steps, features] + masked average),
 * masks, Dropout's modes, build-time errors, and Keras configs.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RandomState } from '../src/data/random-state.js';
import type { Gpu, Tensor } from '../src/gpu/gpu.js';
import { conv1dReference } from '../src/kernels/conv1d.js';
import { denseReference } from '../src/kernels/dense.js';
import { dropoutReference } from '../src/kernels/dropout.js';
import { embeddingReference } from '../src/kernels/embedding.js';
import { maskedMeanPoolReference } from '../src/kernels/masked-mean-pool.js';
import {
  callLayers,
  Conv1D,
  Dense,
  Dropout,
  Embedding,
  GlobalAveragePooling1D,
  GlobalMaxPooling1D,
  inferenceContext,
  LAYER_CLASSES,
  LayerConfigError,
  layerFromConfig,
  type CallContext,
  type Layer,
  type Shape,
} from '../src/nn/layers.js';
import { binaryCrossentropy } from '../src/nn/ops.js';
import { Tape } from '../src/nn/tape.js';
import { expectClose, useGpu } from './gpu-helpers.js';

const VOCAB = 12;
const DIM = 4;
const BATCH = 5;
const STEPS = 6;
const STEP = 17; // the training step Dropout draws its masks from
/** Small: the float64 reference has no noise to drown, and ReLU and max kinks stay out of reach. */
const H = 1e-6;

/** Ids with trailing padding (id 0) of a different length per row; every row keeps a token. */
const IDS = Int32Array.from({ length: BATCH * STEPS }, (_, i) => {
  const [row, t] = [Math.floor(i / STEPS), i % STEPS];
  return t < STEPS - (row % 4) ? 1 + ((i * 7 + row) % (VOCAB - 1)) : 0;
});
const LABELS = Float64Array.from({ length: BATCH }, (_, i) => i % 2);
const MASK = Float64Array.from(IDS, (id) => (id !== 0 ? 1 : 0));

function buildStack(gpu: Gpu, layers: Layer[], seed = 3): Shape {
  const rng = new RandomState(seed);
  let shape: Shape = [null, STEPS];
  for (const layer of layers) {
    layer.build(gpu, shape, rng);
    shape = layer.computeOutputShape(shape);
  }
  return shape;
}

/** Mean BCE from the logits, as Keras computes it past a sigmoid. */
function bceFromLogits(logits: Float64Array): number {
  let sum = 0;
  logits.forEach((z, i) => (sum += Math.max(z, 0) - z * LABELS[i] + Math.log1p(Math.exp(-Math.abs(z)))));
  return sum / logits.length;
}

/** Dropout as the reference applies it: x times the layer's mask·scale for STEP (float32 multipliers, as the GPU's). */
function dropoutF64(x: Float64Array, shape: number[], layer: Dropout): Float64Array {
  const multipliers = dropoutReference(new Float32Array(x.length).fill(1), shape, STEP, { rate: layer.rate, seed: layer.seed!, noiseShape: layer.noiseShape?.map((d, i) => d ?? shape[i]) });
  return x.map((v, i) => v * multipliers[i]);
}

function maxPoolF64(x: Float64Array, batch: number, steps: number, dim: number): Float64Array {
  const out = new Float64Array(batch * dim).fill(-Infinity);
  for (let b = 0; b < batch; b++) for (let t = 0; t < steps; t++) for (let d = 0; d < dim; d++) out[b * dim + d] = Math.max(out[b * dim + d], x[(b * steps + t) * dim + d]);
  return out;
}

const relu = (x: Float64Array) => x.map((v) => Math.max(v, 0));

interface GradientCase {
  name: string;
  layers: () => Layer[];
  /** float64 loss of the stack for weights `w` (in the layers' weight order). */
  referenceLoss: (w: Float64Array[], layers: Layer[]) => number;
}

const CASES: GradientCase[] = [
  {
    name: 'Embedding(maskZero) -> Dropout -> GlobalAveragePooling1D -> Dropout -> Dense(1, sigmoid)',
    layers: () => [new Embedding(VOCAB, DIM, { maskZero: true }), new Dropout(0.4, { seed: 5 }), new GlobalAveragePooling1D(), new Dropout(0.3, { seed: 6 }), new Dense(1, { activation: 'sigmoid' })],
    referenceLoss: ([table, kernel, bias], layers) => {
      const embedded = dropoutF64(embeddingReference(table, IDS, DIM), [BATCH, STEPS, DIM], layers[1] as Dropout);
      const pooled = dropoutF64(maskedMeanPoolReference(embedded, MASK, BATCH, STEPS, DIM), [BATCH, DIM], layers[3] as Dropout);
      return bceFromLogits(denseReference(pooled, kernel, bias, BATCH, DIM, 1, new Float64Array(BATCH)));
    },
  },
  {
    name: "Embedding -> Conv1D(3, 3, relu, 'same') -> GlobalMaxPooling1D -> Dense(1, sigmoid)",
    layers: () => [new Embedding(VOCAB, DIM), new Conv1D(3, 3, { padding: 'same', activation: 'relu' }), new GlobalMaxPooling1D(), new Dense(1, { activation: 'sigmoid' })],
    referenceLoss: ([table, kernel, bias, k2, b2]) => {
      const s = { batch: BATCH, steps: STEPS, channels: DIM, filters: 3, kernelSize: 3, padding: 'same' as const };
      const conv = relu(conv1dReference(embeddingReference(table, IDS, DIM), kernel, bias, s, new Float64Array(BATCH * STEPS * 3)));
      return bceFromLogits(denseReference(maxPoolF64(conv, BATCH, STEPS, 3), k2, b2, BATCH, 3, 1, new Float64Array(BATCH)));
    },
  },
  {
    name: "Embedding -> Conv1D(2, 4, linear, 'valid', no bias) -> GlobalMaxPooling1D -> Dense(1, sigmoid)",
    layers: () => [new Embedding(VOCAB, DIM), new Conv1D(2, 4, { useBias: false }), new GlobalMaxPooling1D(), new Dense(1, { activation: 'sigmoid' })],
    referenceLoss: ([table, kernel, k2, b2]) => {
      const s = { batch: BATCH, steps: STEPS, channels: DIM, filters: 2, kernelSize: 4, padding: 'valid' as const };
      const conv = conv1dReference(embeddingReference(table, IDS, DIM), kernel, null, s, new Float64Array(BATCH * 3 * 2));
      return bceFromLogits(denseReference(maxPoolF64(conv, BATCH, 3, 2), k2, b2, BATCH, 2, 1, new Float64Array(BATCH)));
    },
  },
  {
    name: 'Embedding(maskZero) -> Dense(3, relu) on [batch, steps, features] -> GlobalAveragePooling1D -> Dense(1, sigmoid)',
    layers: () => [new Embedding(VOCAB, DIM, { maskZero: true }), new Dense(3, { activation: 'relu' }), new GlobalAveragePooling1D(), new Dense(1, { activation: 'sigmoid' })],
    referenceLoss: ([table, k1, b1, k2, b2]) => {
      const hidden = relu(denseReference(embeddingReference(table, IDS, DIM), k1, b1, BATCH * STEPS, DIM, 3, new Float64Array(BATCH * STEPS * 3)));
      const pooled = maskedMeanPoolReference(hidden, MASK, BATCH, STEPS, 3);
      return bceFromLogits(denseReference(pooled, k2, b2, BATCH, 3, 1, new Float64Array(BATCH)));
    },
  },
];

describe('text layers through callLayers and the tape', () => {
  const gpu = useGpu();
  const training = (): CallContext => ({ training: true, step: gpu().upload(Int32Array.of(STEP), [1]) });
  afterEach(() => vi.restoreAllMocks());

  for (const c of CASES) {
    it(`gradients of every weight match central differences: ${c.name}`, async () => {
      const layers = c.layers();
      expect(buildStack(gpu(), layers)).toEqual([null, 1]);
      const weights = layers.flatMap((l) => l.weights.map((w) => w.tensor));
      const init = await Promise.all(weights.map(async (w) => Float64Array.from(await w.read())));
      const ids = gpu().upload(IDS, [BATCH, STEPS]);
      const labels = gpu().upload(Float32Array.from(LABELS));
      const tape = new Tape();
      const loss = tape.watch(() => binaryCrossentropy(callLayers(layers, { ids, hostIds: IDS }, training()), labels));
      const grads = tape.gradients(loss, weights);
      expect((await loss.read())[0]).toBeCloseTo(c.referenceLoss(init, layers), 5);
      for (let w = 0; w < init.length; w++) {
        const grad = await grads.get(weights[w])!.read();
        for (let i = 0; i < init[w].length; i += Math.max(1, Math.floor(init[w].length / 11))) {
          const plus = init.map((a) => a.slice());
          const minus = init.map((a) => a.slice());
          plus[w][i] += H;
          minus[w][i] -= H;
          const numeric = (c.referenceLoss(plus, layers) - c.referenceLoss(minus, layers)) / (2 * H);
          expect(Math.abs(grad[i] - numeric), `weight ${w}, element ${i}: ${grad[i]} vs ${numeric}`).toBeLessThan(2e-4 + 1e-2 * Math.abs(numeric));
        }
      }
      // Padding (id 0) is masked, and row 0 of the table gets no gradient through a masked average.
      // (Zero of either sign: a factored gradient's row is a product, 0·K, and -0 moves no optimizer.)
      if ((layers[0] as Embedding).maskZero) expect(Array.from((await grads.get(weights[0])!.read()).subarray(0, DIM)).map((v) => v === 0)).toEqual([true, true, true, true]);
      tape.dispose();
    });
  }

  it('Dropout is the identity unless training, and then reproducible from (seed, step)', async () => {
    const layers = [new Embedding(VOCAB, DIM), new Dropout(0.5, { seed: 1 })];
    buildStack(gpu(), layers);
    const batch = { ids: gpu().upload(IDS, [BATCH, STEPS]), hostIds: IDS };
    const embedded = await callLayers(layers.slice(0, 1), batch, inferenceContext(gpu())).read();
    expect(Array.from(await callLayers(layers, batch, inferenceContext(gpu())).read())).toEqual(Array.from(embedded));
    const at = async (step: number) => Array.from(await callLayers(layers, batch, { training: true, step: gpu().upload(Int32Array.of(step), [1]) }).read());
    const first = await at(3);
    expect(first).toEqual(Array.from(dropoutReference(embedded as Float32Array, [BATCH, STEPS, DIM], 3, { rate: 0.5, seed: 1 })));
    expect(await at(3)).toEqual(first);
    expect(await at(4)).not.toEqual(first);
  });

  it("Dropout without a seed draws one from the build's RandomState: the same build seed gives the same masks", () => {
    const seedOf = (buildSeed: number) => {
      const layer = new Dropout(0.5);
      buildStack(gpu(), [new Embedding(VOCAB, DIM), layer], buildSeed);
      return layer.seed;
    };
    expect(seedOf(7)).toBe(seedOf(7));
    expect(seedOf(7)).not.toBe(seedOf(8));
    expect(new Dropout(0.5, { seed: 9 }).getConfig().seed).toBe(9);
  });

  it("a layer that does not support masking drops the mask with Keras' warning, once", async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const conv = new Conv1D(2, 3, { name: 'conv_masked' });
    const layers = [new Embedding(VOCAB, DIM, { maskZero: true }), conv, new GlobalAveragePooling1D()];
    buildStack(gpu(), layers);
    const batch = { ids: gpu().upload(IDS, [BATCH, STEPS]), hostIds: IDS };
    const pooled = await callLayers(layers, batch, inferenceContext(gpu())).read();
    await callLayers(layers, batch, inferenceContext(gpu())).read();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatch(/Layer 'conv_masked' \(of type Conv1D\) was passed an input with a mask attached to it\. However, this layer does not support masking/);
    // The pooling after the convolution saw no mask: it is the plain mean over every step.
    const convOut = await callLayers(layers.slice(0, 2), batch, inferenceContext(gpu())).read();
    const plainMean = maskedMeanPoolReference(convOut as Float32Array, new Float32Array(BATCH * 4).fill(1), BATCH, 4, 2);
    expectClose(pooled, plainMean, { atol: 1e-7, rtol: 1e-6 });
  });

  it('shape and configuration errors are raised at build time, naming the layer and the shapes', () => {
    const build = (layers: Layer[]) => () => buildStack(gpu(), layers);
    expect(build([new Embedding(VOCAB, 16), new Conv1D(8, 7, { name: 'conv1d_long' })])).toThrow(
      new LayerConfigError("conv1d_long: kernel_size 7 is longer than the 6 steps of its input (None, 6, 16) with padding 'valid'"),
    );
    expect(build([new Embedding(VOCAB, DIM), new GlobalAveragePooling1D({ name: 'gap' }), new GlobalMaxPooling1D({ name: 'gmp' })])).toThrow(
      /gmp: GlobalMaxPooling1D expects \(batch, steps, features\), found input shape \(None, 4\)/,
    );
    expect(build([new Embedding(VOCAB, DIM), new Dropout(0.5, { noiseShape: [null, 2, 1], name: 'drop' })])).toThrow(
      /drop: noise_shape \(None, 2, 1\) does not broadcast to the input: axis 1 must be 1, None or 6, found input shape \(None, 6, 4\)/,
    );
    expect(build([new Embedding(VOCAB, DIM), new Dropout(0.5, { noiseShape: [32, 1, null], name: 'drop_batch' })])).toThrow(
      /drop_batch: noise_shape \(32, 1, None\) does not broadcast to the input: axis 0 must be 1 or None \(its size is known only in fit/,
    );
    expect(build([new Embedding(VOCAB, DIM), new GlobalAveragePooling1D(), new Conv1D(2, 2, { name: 'flat' })])).toThrow(/flat: Conv1D expects \(batch, steps, channels\), found input shape \(None, 4\)/);
    expect(() => new Conv1D(4, 3, { strides: 2 })).toThrow(new LayerConfigError('Conv1D: only strides 1 is supported, got 2'));
    expect(() => new Conv1D(4, 3, { padding: 'causal' as 'same' })).toThrow(/Conv1D: padding must be 'valid' or 'same', got 'causal'/);
    expect(() => new Dropout(1)).toThrow(/Dropout: rate must be a number in \[0, 1\), got 1/);
    expect(() => new Dense(2, { activation: 'tanh' as 'relu' })).toThrow(/Dense: unknown activation 'tanh'/);
  });

  it("every layer's Keras config makes the same layer again (layerFromConfig), and unsupported values are refused", () => {
    const layers = [
      new Embedding(100, 8, { maskZero: true, name: 'emb' }),
      new Dropout(0.25, { seed: 4, noiseShape: [null, 1, null], name: 'drop' }),
      new Dense(6, { activation: 'relu', name: 'hidden' }),
      new Conv1D(5, 3, { padding: 'same', activation: 'sigmoid', useBias: false, name: 'conv' }),
      new GlobalAveragePooling1D({ name: 'avg' }),
      new GlobalMaxPooling1D({ name: 'max' }),
    ];
    expect(layers.map((l) => l.className).sort()).toEqual([...LAYER_CLASSES].sort());
    for (const layer of layers) {
      const again = layerFromConfig(layer.className, layer.getConfig());
      expect(again.constructor).toBe(layer.constructor);
      expect(again.getConfig()).toEqual(layer.getConfig());
    }
    expect(layers[3].getConfig()).toMatchObject({ filters: 5, kernel_size: [3], strides: [1], padding: 'same', activation: 'sigmoid', use_bias: false });
    expect(layers[0].getConfig()).toMatchObject({ name: 'emb', input_dim: 100, output_dim: 8, mask_zero: true });
    // Keras writes kernel_size as a one-element list; a bare integer is taken too.
    expect((layerFromConfig('Conv1D', { filters: 2, kernel_size: 5 }) as Conv1D).kernelSize).toBe(5);
    expect(() => layerFromConfig('LSTM', { units: 4 })).toThrow(/layerFromConfig: unknown layer class 'LSTM' \(known: Embedding, Dense, Dropout, Conv1D/);
    expect(() => layerFromConfig('Conv1D', { filters: 2, kernel_size: [3], strides: [2] })).toThrow(/layerFromConfig: Conv1D: strides \[2\] is not supported \(only 1\)/);
    expect(() => layerFromConfig('Dense', { units: 2, use_bias: false })).toThrow(/Dense: use_bias false is not supported/);
    expect(() => layerFromConfig('Dense', { units: 2, activation: 'tanh' })).toThrow(/Dense: activation 'tanh' is not supported/);
    expect(() => layerFromConfig('GlobalAveragePooling1D', { keepdims: true })).toThrow(/keepdims true is not supported/);
    expect(() => layerFromConfig('Embedding', { input_dim: '10', output_dim: 4 })).toThrow(/Embedding: input_dim must be an integer, got "10"/);
  });
});

/** Keep the unused-type import honest: Tensor is the callLayers result type. */
export type { Tensor };
