/** Elementwise a + b on the GPU (shaders/add.wgsl), with its plain TypeScript reference. */
import source from '../../shaders/add.wgsl';
import { expectSameShape, linearWorkgroups, type Gpu, type Tensor } from '../gpu/gpu.js';

const WORKGROUP_SIZE = 256;

/** A new tensor a + b; a and b must have the same shape. */
export function add(gpu: Gpu, a: Tensor, b: Tensor): Tensor {
  expectSameShape('add', 'b', b, 'a', a);
  const out = gpu.empty(a.shape);
  gpu.dispatch('add', source, 'main', [a, b, out], linearWorkgroups(a.size, WORKGROUP_SIZE), new Uint32Array([a.size]));
  return out;
}

export function addReference(a: Float32Array, b: Float32Array): Float32Array {
  return a.map((v, i) => v + b[i]);
}
