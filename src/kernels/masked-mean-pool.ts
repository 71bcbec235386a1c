/**
 * Global average pooling over the unmasked steps (Keras GlobalAveragePooling1D given a mask) on
 * the GPU (shaders/masked-mean-pool.wgsl), with plain TypeScript references. A row whose steps
 * are all masked gives NaN, as Keras' sum / sum(mask) = 0 / 0 does; its gradient is 0.
 */
import maskedMeanPool from '../../shaders/masked-mean-pool.wgsl';
import { linearWorkgroups, type Gpu, type Tensor } from '../gpu/gpu.js';
import { ROW_QUADS_WGSL, withShared } from './shader-library.js';

const source = withShared(maskedMeanPool, ROW_QUADS_WGSL);

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

/**
 * The same mean where the mask is (ids != 0) of the ids an embedding gathers from `table` [V, D]
 * (Embedding(mask_zero)): the rows read through the ids, never written as [B, T, D]; the same floats.
 */
export function maskedMeanPoolGatheredForward(gpu: Gpu, table: Tensor, ids: Tensor): Tensor {
  const op = 'maskedMeanPoolGatheredForward';
  if (table.dtype !== 'f32' || table.shape.length !== 2) throw new TypeError(`${op}: table must be f32 [vocab, dim], found ${table.dtype} [${table.shape.join(', ')}]`);
  if (ids.dtype !== 'i32' || ids.shape.length !== 2) throw new TypeError(`${op}: ids must be i32 [batch, steps], found ${ids.dtype} [${ids.shape.join(', ')}]`);
  const [vocab, dim] = table.shape;
  const [batch, steps] = ids.shape;
  const out = gpu.empty([batch, dim]);
  const count = batch * Math.ceil(dim / 4);
  gpu.dispatch('masked-mean-pool', source, 'forwardGathered', { 1: table, 2: out, 4: ids }, linearWorkgroups(count, WORKGROUP_SIZE), paramsOf(count, steps, dim, vocab));
  return out;
}

/** Each sample's share of dOut, dOut[b, :] / Σ_t mask, as [B, 1, D]: every unmasked step's gradient (an expanded gradient, src/nn/gradient-forms.ts). */
export function maskedMeanPoolBackwardExpanded(gpu: Gpu, dOut: Tensor, mask: Tensor): Tensor {
  const [batch, steps] = mask.shape;
  const dim = dOut.shape[dOut.shape.length - 1];
  expectShapes('maskedMeanPoolBackwardExpanded', [batch, steps, dim], mask);
  if (dOut.shape.length !== 2 || dOut.shape[0] !== batch) throw new RangeError(`maskedMeanPoolBackwardExpanded: expected dOut of shape [${batch}, dim], found [${dOut.shape.join(', ')}]`);
  const shares = gpu.empty([batch, 1, dim]);
  dispatch(gpu, 'backwardExpanded', [dOut, shares, mask], batch, steps, dim);
  return shares;
}

/** dx [B, T, D] from the shares [B, 1, D]: the share at unmasked steps, 0 at masked ones (what maskedMeanPoolBackward writes). */
export function broadcastMasked(gpu: Gpu, shares: Tensor, mask: Tensor): Tensor {
  const [batch, steps] = mask.shape;
  const dim = shares.shape[shares.shape.length - 1];
  expectShapes('broadcastMasked', [batch, steps, dim], mask);
  if (shares.shape.length !== 3 || shares.shape[0] !== batch || shares.shape[1] !== 1) throw new RangeError(`broadcastMasked: expected shares of shape [${batch}, 1, dim], found [${shares.shape.join(', ')}]`);
  const dx = gpu.empty([batch, steps, dim]);
  dispatch(gpu, 'broadcast', [shares, dx, mask], batch, steps, dim);
  return dx;
}

function paramsOf(count: number, steps: number, dim: number, vocab = 0): Uint32Array {
  return new Uint32Array([count, steps, dim, QUIET_NAN_BITS, vocab, 0, 0, 0]);
}

function dispatch(gpu: Gpu, entryPoint: string, buffers: Tensor[], batch: number, steps: number, dim: number): void {
  const count = batch * dim;
  gpu.dispatch('masked-mean-pool', source, entryPoint, buffers, linearWorkgroups(count, WORKGROUP_SIZE), paramsOf(count, steps, dim));
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
