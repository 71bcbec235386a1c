/**
 * Global max pooling over the steps axis (Keras GlobalMaxPooling1D) on the GPU
 * (shaders/max-pool.wgsl), with TensorFlow's reduce_max gradient (ties share it equally),
 * and plain TypeScript references.
 */
import source from '../../shaders/max-pool.wgsl';
import { expectSameShape, linearWorkgroups, type Gpu, type Tensor } from '../gpu/gpu.js';

const WORKGROUP_SIZE = 256;

/** out[b, d] = max_t x[b, t, d] for x [B, T, D]. */
export function maxPoolForward(gpu: Gpu, x: Tensor): Tensor {
  const [batch, steps, dim] = expectPoolInput('maxPoolForward', x);
  const out = gpu.empty([batch, dim]);
  dispatch(gpu, 'forward', [x, out], batch, steps, dim);
  return out;
}

/** dx [B, T, D] given x, the forward's output `pooled` [B, D] and its gradient dOut [B, D]. */
export function maxPoolBackward(gpu: Gpu, x: Tensor, pooled: Tensor, dOut: Tensor): Tensor {
  const [batch, steps, dim] = expectPoolInput('maxPoolBackward', x);
  if (pooled.shape.length !== 2 || pooled.shape[0] !== batch || pooled.shape[1] !== dim) {
    throw new RangeError(`maxPoolBackward: expected pooled of shape [${batch}, ${dim}], found [${pooled.shape.join(', ')}]`);
  }
  expectSameShape('maxPoolBackward', 'dOut', dOut, 'pooled', pooled);
  const dx = gpu.empty(x.shape);
  dispatch(gpu, 'backward', [x, dx, pooled, dOut], batch, steps, dim);
  return dx;
}

function dispatch(gpu: Gpu, entryPoint: string, buffers: Tensor[], batch: number, steps: number, dim: number): void {
  const count = batch * dim;
  gpu.dispatch('max-pool', source, entryPoint, buffers, linearWorkgroups(count, WORKGROUP_SIZE), new Uint32Array([count, steps, dim]));
}

function expectPoolInput(op: string, x: Tensor): [number, number, number] {
  if (x.dtype !== 'f32' || x.shape.length !== 3 || x.shape[1] < 1) {
    throw new RangeError(`${op}: x must be f32 [batch, steps, dim] with at least one step, found ${x.dtype} [${x.shape.join(', ')}]`);
  }
  return x.shape as [number, number, number];
}

export function maxPoolReference(x: ArrayLike<number>, batch: number, steps: number, dim: number): Float32Array {
  const out = new Float32Array(batch * dim);
  for (let b = 0; b < batch; b++) {
    for (let d = 0; d < dim; d++) {
      let best = x[b * steps * dim + d];
      for (let t = 1; t < steps; t++) best = Math.max(best, x[(b * steps + t) * dim + d]);
      out[b * dim + d] = best;
    }
  }
  return out;
}

/** TensorFlow's `_MinOrMaxGrad`: (x == max) / (count of such steps) · dOut, in float32 as the shader rounds it. */
export function maxPoolBackwardReference(x: ArrayLike<number>, dOut: ArrayLike<number>, batch: number, steps: number, dim: number): Float32Array {
  const pooled = maxPoolReference(x, batch, steps, dim);
  const dx = new Float32Array(batch * steps * dim);
  for (let b = 0; b < batch; b++) {
    for (let d = 0; d < dim; d++) {
      const at = (t: number) => (b * steps + t) * dim + d;
      let ties = 0;
      for (let t = 0; t < steps; t++) if (Math.fround(x[at(t)]) === pooled[b * dim + d]) ties++;
      const share = Math.fround(Math.fround(1 / ties) * Math.fround(dOut[b * dim + d]));
      for (let t = 0; t < steps; t++) if (Math.fround(x[at(t)]) === pooled[b * dim + d]) dx[at(t)] = share;
    }
  }
  return dx;
}
