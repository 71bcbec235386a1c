/**
 * A plain copy on the GPU (shaders/copy.wgsl), with its reference: the practical bandwidth
 * ceiling that the kernel bench page measures every kernel against.
 */
import source from '../../shaders/copy.wgsl';
import { linearWorkgroups, type Gpu, type Tensor } from '../gpu/gpu.js';

const WORKGROUP_SIZE = 256;
/** Elements per vec4 load/store. */
const VEC4 = 4;

/** A new tensor with x's shape, dtype and bits: 16-byte loads and stores when the length allows. */
export function copyKernel(gpu: Gpu, x: Tensor): Tensor {
  const out = gpu.empty(x.shape, x.dtype);
  const vectorized = x.size % VEC4 === 0;
  const count = vectorized ? x.size / VEC4 : x.size;
  gpu.dispatch('copy', source, vectorized ? 'copyVec4' : 'copyScalar', [x, out], linearWorkgroups(count, WORKGROUP_SIZE), new Uint32Array([count, 0]));
  return out;
}

export function copyReference<T extends Float32Array | Int32Array>(x: T): T {
  return x.slice() as T;
}

/**
 * out[r, :] = x[order[start + r], :] for the rows of `out`, bit for bit: x [R, W] and out [n, W] of one
 * dtype (or [R] and [n]), order i32 [M] (rows of x), start i32 [1] on the GPU, so that one recorded
 * dispatch serves every batch of an epoch. Rows past x are not checked: the order is the caller's.
 */
export function takeRows(gpu: Gpu, x: Tensor, order: Tensor, start: Tensor, out: Tensor): void {
  const op = 'takeRows';
  const width = x.shape.length > 1 ? x.size / x.shape[0] : 1;
  if (x.dtype !== out.dtype || out.size % width !== 0 || (out.shape.length > 1 ? out.size / out.shape[0] : 1) !== width) {
    throw new RangeError(`${op}: out ${out.dtype} [${out.shape.join(', ')}] does not take rows of x ${x.dtype} [${x.shape.join(', ')}]`);
  }
  if (order.dtype !== 'i32' || start.dtype !== 'i32' || start.size !== 1) throw new TypeError(`${op}: order and start must be i32, start [1]`);
  const vectorized = width % VEC4 === 0;
  const count = vectorized ? out.size / VEC4 : out.size;
  const params = new Uint32Array([count, vectorized ? width / VEC4 : width]);
  gpu.dispatch('copy', source, vectorized ? 'takeRows4' : 'takeRows', [x, out, order, start], linearWorkgroups(count, WORKGROUP_SIZE), params);
}

export function takeRowsReference<T extends Float32Array | Int32Array>(x: T, width: number, order: Int32Array, start: number, rows: number): T {
  const out = new (x.constructor as { new (n: number): T })(rows * width);
  for (let r = 0; r < rows; r++) out.set(x.subarray(order[start + r] * width, (order[start + r] + 1) * width), r * width);
  return out;
}
