/** Elementwise a + b on the GPU (shaders/add.wgsl), with its plain TypeScript reference. */
import source from '../../shaders/add.wgsl';
import { linearWorkgroups, type Gpu, type Tensor } from '../gpu/gpu.js';

const WORKGROUP_SIZE = 256;

/** A new tensor a + b; a and b must have the same shape. */
export function add(gpu: Gpu, a: Tensor, b: Tensor): Tensor {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new RangeError(`add: expected b of shape [${a.shape.join(', ')}] (as a), found [${b.shape.join(', ')}]`);
  }
  const out = gpu.empty(a.shape);
  gpu.dispatch('add', source, 'main', [a, b, out], linearWorkgroups(a.size, WORKGROUP_SIZE), new Uint32Array([a.size]));
  return out;
}

export function addReference(a: Float32Array, b: Float32Array): Float32Array {
  return a.map((v, i) => v + b[i]);
}
