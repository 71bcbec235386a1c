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
  gpu.dispatch('copy', source, vectorized ? 'copyVec4' : 'copyScalar', [x, out], linearWorkgroups(count, WORKGROUP_SIZE), new Uint32Array([count]));
  return out;
}

export function copyReference<T extends Float32Array | Int32Array>(x: T): T {
  return x.slice() as T;
}
