/** Sigmoid on the GPU (shaders/sigmoid.wgsl), with its plain TypeScript reference. */
import shader from '../../shaders/sigmoid.wgsl';
import { BINARY_CLASSIFICATION_WGSL, withShared } from './shader-library.js';
import { expectSameShape, linearWorkgroups, type Gpu, type Tensor } from '../gpu/gpu.js';

const source = withShared(shader, BINARY_CLASSIFICATION_WGSL);

const WORKGROUP_SIZE = 256;

/** y = 1 / (1 + exp(-x)), finite for every finite x (exactly 0 or 1 far out). */
export function sigmoidForward(gpu: Gpu, x: Tensor): Tensor {
  const y = gpu.empty(x.shape);
  gpu.dispatch('sigmoid', source, 'forward', [x, y], linearWorkgroups(x.size, WORKGROUP_SIZE), new Uint32Array([x.size]));
  return y;
}

/** Gradient of x given y = sigmoid(x) (the forward output, not x) and the gradient of y. */
export function sigmoidBackward(gpu: Gpu, y: Tensor, dy: Tensor): Tensor {
  expectSameShape('sigmoidBackward', 'dy', dy, 'y', y);
  const dx = gpu.empty(y.shape);
  gpu.dispatch('sigmoid', source, 'backward', [y, dx, dy], linearWorkgroups(y.size, WORKGROUP_SIZE), new Uint32Array([y.size]));
  return dx;
}

/** Same stable form as the shader: exp only of -|x|, so it never overflows. */
export function sigmoidReference(x: Float32Array): Float32Array {
  return x.map((v) => {
    const e = Math.exp(-Math.abs(v));
    return v >= 0 ? 1 / (1 + e) : e / (1 + e);
  });
}

export function sigmoidBackwardReference(y: Float32Array, dy: Float32Array): Float32Array {
  return dy.map((g, i) => g * y[i] * (1 - y[i]));
}
