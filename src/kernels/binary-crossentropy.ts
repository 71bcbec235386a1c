/**
 * Binary cross-entropy on the GPU (shaders/binary-crossentropy.wgsl), from logits and from probabilities, with
 * float64 references. Losses are the batch mean, as Keras' default reduction ("sum_over_batch_size") gives.
 */
import shader from '../../shaders/binary-crossentropy.wgsl';
import { BINARY_CLASSIFICATION_WGSL, withShared } from './shader-library.js';
import { linearWorkgroups, type Gpu, type Tensor } from '../gpu/gpu.js';

const source = withShared(shader, BINARY_CLASSIFICATION_WGSL);

const WORKGROUP_SIZE = 256;
/** The probability clip, as float32 holds Keras' backend.epsilon() and 1 - epsilon (the shader's CLIP_MIN/MAX). */
const CLIP_MIN = Math.fround(1e-7);
const CLIP_MAX = Math.fround(1 - 1e-7);

export interface BceLosses {
  /** [1] mean loss over the batch. */
  mean: Tensor;
  /** [B] each sample's loss. */
  perSample: Tensor;
}

/** The batch size of a [B] or [B, 1] f32 tensor pair of the same B; a RangeError naming `op` otherwise. */
export function checkBatch(op: string, predictions: Tensor, labels: Tensor, predictionName = 'predictions'): number {
  const batchOf = (t: Tensor): number | undefined =>
    t.shape.length === 1 || (t.shape.length === 2 && t.shape[1] === 1) ? t.shape[0] : undefined;
  const b = batchOf(predictions);
  if (b === undefined || b < 1) throw new RangeError(`${op}: ${predictionName} must have shape [B] or [B, 1] with B >= 1, found [${predictions.shape.join(', ')}]`);
  if (batchOf(labels) !== b) throw new RangeError(`${op}: labels must have shape [${b}] or [${b}, 1] to match ${predictionName}, found [${labels.shape.join(', ')}]`);
  for (const [name, t] of [[predictionName, predictions], ['labels', labels]] as const) {
    if (t.dtype !== 'f32') throw new RangeError(`${op}: ${name} must be f32, found ${t.dtype}`);
  }
  return b;
}

function params(count: number, gradScale = 0): DataView {
  const view = new DataView(new ArrayBuffer(8));
  view.setUint32(0, count, true);
  view.setFloat32(4, gradScale, true);
  return view;
}

function losses(gpu: Gpu, op: string, entryPoint: string, x: Tensor, labels: Tensor, xName: string): BceLosses {
  const b = checkBatch(op, x, labels, xName);
  const perSample = gpu.empty([b]);
  const mean = gpu.empty([1]);
  gpu.dispatch('binary-crossentropy', source, entryPoint, [x, labels, perSample, mean], [1], params(b));
  return { mean, perSample };
}

function gradient(gpu: Gpu, op: string, entryPoint: string, x: Tensor, labels: Tensor, scale: number, xName: string): Tensor {
  const b = checkBatch(op, x, labels, xName);
  const dx = gpu.empty(x.shape);
  gpu.dispatch('binary-crossentropy', source, entryPoint, [x, labels, dx], linearWorkgroups(b, WORKGROUP_SIZE), params(b, scale / b));
  return dx;
}

function meanOnly({ mean, perSample }: BceLosses): Tensor {
  perSample.dispose();
  return mean;
}

/** Mean and per-sample tf.nn.sigmoid_cross_entropy_with_logits. */
export function bceFromLogitsLosses(gpu: Gpu, logits: Tensor, labels: Tensor): BceLosses {
  return losses(gpu, 'bceFromLogits', 'forwardFromLogits', logits, labels, 'logits');
}

/** [1] mean loss of the sigmoid of `logits` against `labels`. */
export function bceFromLogitsForward(gpu: Gpu, logits: Tensor, labels: Tensor): Tensor {
  return meanOnly(bceFromLogitsLosses(gpu, logits, labels));
}

/** d(mean loss)/dz = (sigmoid(z) - y) / B * scale, in the shape of `logits`. */
export function bceFromLogitsBackward(gpu: Gpu, logits: Tensor, labels: Tensor, scale = 1): Tensor {
  return gradient(gpu, 'bceFromLogitsBackward', 'backwardFromLogits', logits, labels, scale, 'logits');
}

/** Mean and per-sample cross-entropy of clipped probabilities. */
export function bceLosses(gpu: Gpu, probs: Tensor, labels: Tensor): BceLosses {
  return losses(gpu, 'bce', 'forwardFromProbabilities', probs, labels, 'probs');
}

/** [1] mean loss of `probs` (clipped to [1e-7, 1 - 1e-7]) against `labels`. */
export function bceForward(gpu: Gpu, probs: Tensor, labels: Tensor): Tensor {
  return meanOnly(bceLosses(gpu, probs, labels));
}

/** d(mean loss)/dp * scale, zero where p was clipped, in the shape of `probs`. */
export function bceBackward(gpu: Gpu, probs: Tensor, labels: Tensor, scale = 1): Tensor {
  return gradient(gpu, 'bceBackward', 'backwardFromProbabilities', probs, labels, scale, 'probs');
}

// ---- float64 references ----

export interface BceReference {
  mean: number;
  perSample: Float64Array;
}

function reference(x: ArrayLike<number>, labels: ArrayLike<number>, loss: (x: number, y: number) => number): BceReference {
  const perSample = Float64Array.from({ length: x.length }, (_, i) => loss(x[i], labels[i]));
  return { mean: perSample.reduce((a, b) => a + b, 0) / x.length, perSample };
}

function sigmoid(z: number): number {
  const e = Math.exp(-Math.abs(z));
  return z >= 0 ? 1 / (1 + e) : e / (1 + e);
}

export function bceFromLogitsReference(logits: ArrayLike<number>, labels: ArrayLike<number>): BceReference {
  return reference(logits, labels, (z, y) => Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z))));
}

export function bceFromLogitsBackwardReference(logits: ArrayLike<number>, labels: ArrayLike<number>, scale = 1): Float64Array {
  return Float64Array.from({ length: logits.length }, (_, i) => ((sigmoid(logits[i]) - labels[i]) / logits.length) * scale);
}

/** Clips at the float32 bounds the GPU (and Keras' float32 tensors) use; everything else in float64. */
export function bceReference(probs: ArrayLike<number>, labels: ArrayLike<number>): BceReference {
  return reference(probs, labels, (p, y) => {
    const q = Math.min(Math.max(p, CLIP_MIN), CLIP_MAX);
    return -(y * Math.log(q) + (1 - y) * Math.log(1 - q));
  });
}

export function bceBackwardReference(probs: ArrayLike<number>, labels: ArrayLike<number>, scale = 1): Float64Array {
  return Float64Array.from({ length: probs.length }, (_, i) => {
    const p = probs[i];
    const y = labels[i];
    if (p < CLIP_MIN || p > CLIP_MAX) return 0;
    return (((1 - y) / (1 - p) - y / p) / probs.length) * scale;
  });
}
