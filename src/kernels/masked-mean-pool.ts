/**
 * Global average pooling over the unmasked steps (Keras GlobalAveragePooling1D given a mask) on
 * the GPU (shaders/masked-mean-pool.wgsl), with plain TypeScript references. A row whose steps
 * are all masked gives NaN, as Keras' sum / sum(mask) = 0 / 0 does; its gradient is 0.
 */
import source from '../../shaders/masked-mean-pool.wgsl';
import { linearWorkgroups, type Gpu, type Tensor } from '../gpu/gpu.js';

const WORKGROUP_SIZE = 256;
/** A quiet NaN's bits, passed to the shader for all-masked rows. */
const QUIET_NAN_BITS = 0x7fc00000;

/** out [B, D] = Σ_t mask·x / Σ_t mask for x [B, T, D] and mask [B, T] (f32 0/1). */
export function maskedMeanPoolForward(gpu: Gpu, x: Tensor, mask: Tensor): Tensor {
  const [batch, steps, dim] = expectShapes('maskedMeanPoolForward', x.shape, mask);
  const out = gpu.empty([batch, dim]);
  dispatch(gpu, 'forward', [x, out, mask], batch, steps, dim);
  return out;
}

/** dx [B, T, D] = mask · dOut / Σ_t mask, the gradient of x given that of the pooled [B, D]. */
export function maskedMeanPoolBackward(gpu: Gpu, dOut: Tensor, mask: Tensor, dim: number): Tensor {
  const [batch, steps] = mask.shape;
  expectShapes('maskedMeanPoolBackward', [batch, steps, dim], mask);
  if (dOut.shape.length !== 2 || dOut.shape[0] !== batch || dOut.shape[1] !== dim) {
    throw new RangeError(`maskedMeanPoolBackward: expected dOut of shape [${batch}, ${dim}], found [${dOut.shape.join(', ')}]`);
  }
  const dx = gpu.empty([batch, steps, dim]);
  dispatch(gpu, 'backward', [dOut, dx, mask], batch, steps, dim);
  return dx;
}

function dispatch(gpu: Gpu, entryPoint: string, buffers: Tensor[], batch: number, steps: number, dim: number): void {
  const count = batch * dim;
  const params = new Uint32Array([count, steps, dim, QUIET_NAN_BITS]);
  gpu.dispatch('masked-mean-pool', source, entryPoint, buffers, linearWorkgroups(count, WORKGROUP_SIZE), params);
}

function expectShapes(op: string, xShape: readonly number[], mask: Tensor): [number, number, number] {
  if (xShape.length !== 3 || xShape[1] < 1 || xShape[2] < 1) throw new RangeError(`${op}: x must be [batch, steps, dim] with steps and dim >= 1, found [${xShape.join(', ')}]`);
  if (mask.dtype !== 'f32' || mask.shape.length !== 2 || mask.shape[0] !== xShape[0] || mask.shape[1] !== xShape[1]) {
    throw new RangeError(`${op}: expected an f32 mask of shape [${xShape[0]}, ${xShape[1]}], found ${mask.dtype} [${mask.shape.join(', ')}]`);
  }
  return xShape as [number, number, number];
}

/** The masked mean in the input's precision, summed over t in order then divided, as the GPU does. */
export function maskedMeanPoolReference<T extends Float32Array | Float64Array>(x: T, mask: ArrayLike<number>, batch: number, steps: number, dim: number): T {
  const out = (x instanceof Float64Array ? new Float64Array(batch * dim) : new Float32Array(batch * dim)) as T;
  const round = x instanceof Float64Array ? (v: number) => v : Math.fround;
  for (let b = 0; b < batch; b++) {
    for (let d = 0; d < dim; d++) {
      let sum = 0;
      let kept = 0;
      for (let t = 0; t < steps; t++) {
        if (mask[b * steps + t] === 0) continue;
        sum = round(sum + x[(b * steps + t) * dim + d]);
        kept++;
      }
      out[b * dim + d] = kept > 0 ? sum / kept : NaN;
    }
  }
  return out;
}

export function maskedMeanPoolBackwardReference(dOut: ArrayLike<number>, mask: ArrayLike<number>, batch: number, steps: number, dim: number): Float32Array {
  const dx = new Float32Array(batch * steps * dim);
  for (let b = 0; b < batch; b++) {
    let kept = 0;
    for (let t = 0; t < steps; t++) if (mask[b * steps + t] !== 0) kept++;
    for (let t = 0; t < steps; t++) {
      if (mask[b * steps + t] === 0) continue;
      for (let d = 0; d < dim; d++) dx[(b * steps + t) * dim + d] = dOut[b * dim + d] / kept;
    }
  }
  return dx;
}
