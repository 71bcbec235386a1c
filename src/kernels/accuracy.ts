/** Keras' binary accuracy on the GPU (shaders/accuracy.wgsl), as a count of correct predictions. */
import shader from '../../shaders/accuracy.wgsl';
import { BINARY_CLASSIFICATION_WGSL, withShared } from './shader-library.js';
import type { Gpu, Tensor } from '../gpu/gpu.js';
import { checkBatch } from './binary-crossentropy.js';

const source = withShared(shader, BINARY_CLASSIFICATION_WGSL);

/** Keras' default `threshold` for binary_accuracy (the shader's THRESHOLD). */
const THRESHOLD = 0.5;

/** [1] f32 number of samples where (p > 0.5) equals the label; sum over an epoch and divide by its sample count. */
export function binaryAccuracyCount(gpu: Gpu, probs: Tensor, labels: Tensor): Tensor {
  const b = checkBatch('binaryAccuracyCount', probs, labels, 'probs');
  const correct = gpu.empty([1]);
  gpu.dispatch('accuracy', source, 'countCorrect', [probs, labels, correct], [1], new Uint32Array([b]));
  return correct;
}

/** The count binaryAccuracyCount computes: cast(p > threshold) == y, as keras binary_accuracy. */
export function binaryAccuracyReference(probs: ArrayLike<number>, labels: ArrayLike<number>): number {
  let correct = 0;
  for (let i = 0; i < probs.length; i++) if ((probs[i] > THRESHOLD ? 1 : 0) === labels[i]) correct++;
  return correct;
}
