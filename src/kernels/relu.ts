/** ReLU on the GPU (shaders/relu.wgsl), with its plain TypeScript reference. */
import source from '../../shaders/relu.wgsl';
import { expectSameShape, linearWorkgroups, type Gpu, type Tensor } from '../gpu/gpu.js';

const WORKGROUP_SIZE = 256;

export function reluForward(gpu: Gpu, x: Tensor): Tensor {
  const y = gpu.empty(x.shape);
  gpu.dispatch('relu', source, 'forward', [x, y], linearWorkgroups(x.size, WORKGROUP_SIZE), new Uint32Array([x.size]));
  return y;
}

/** Gradient of x given the gradient of y = relu(x). */
export function reluBackward(gpu: Gpu, x: Tensor, dy: Tensor): Tensor {
  expectSameShape('reluBackward', 'dy', dy, 'x', x);
  const dx = gpu.empty(x.shape);
  gpu.dispatch('relu', source, 'backward', [x, dx, dy], linearWorkgroups(x.size, WORKGROUP_SIZE), new Uint32Array([x.size]));
  return dx;
}

export function reluReference(x: Float32Array): Float32Array {
  return x.map((v) => Math.max(v, 0));
}

export function reluBackwardReference(x: Float32Array, dy: Float32Array): Float32Array {
  return dy.map((g, i) => (x[i] > 0 ? g : 0));
}
