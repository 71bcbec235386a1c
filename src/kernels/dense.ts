/**
 * Keras Dense without activation on the GPU (shaders/dense.wgsl): y = x·W + b with the
 * kernel W laid out as Keras stores it, [inputs, units]; the gradients of x, W and b;
 * and plain TypeScript references.
 */
import source from '../../shaders/dense.wgsl';
import { linearWorkgroups, type Gpu, type Tensor } from '../gpu/gpu.js';

/** Smaller than the elementwise kernels' 256: the model's outputs are few (512 × 1), and more workgroups spread over more threads. */
const WORKGROUP_SIZE = 64;
/** A dimension `expectShape` accepts whatever its size. */
const ANY = -1;

/** y [B, O] = x [B, I] · kernel [I, O] + bias [O]. */
export function denseForward(gpu: Gpu, x: Tensor, kernel: Tensor, bias: Tensor): Tensor {
  const [batch, inputs] = expectShape('denseForward', 'x', x, [ANY, ANY]);
  const [, units] = expectShape('denseForward', 'kernel', kernel, [inputs, ANY]);
  expectShape('denseForward', 'bias', bias, [units]);
  const y = gpu.empty([batch, units]);
  run(gpu, 'forward', [x, y, kernel, bias], batch * units, [batch, inputs, units]);
  return y;
}

/** dx [B, I] = dy [B, O] · kernelᵀ, where kernel is [I, O]. */
export function denseInputGradient(gpu: Gpu, dy: Tensor, kernel: Tensor): Tensor {
  const [batch, units] = expectShape('denseInputGradient', 'dy', dy, [ANY, ANY]);
  const [inputs] = expectShape('denseInputGradient', 'kernel', kernel, [ANY, units]);
  const dx = gpu.empty([batch, inputs]);
  run(gpu, 'inputGradient', [dy, dx, kernel], batch * inputs, [batch, inputs, units]);
  return dx;
}

/** dW [I, O] = xᵀ · dy for x [B, I] and dy [B, O], summed over the batch in index order. */
export function denseKernelGradient(gpu: Gpu, x: Tensor, dy: Tensor): Tensor {
  const [batch, inputs] = expectShape('denseKernelGradient', 'x', x, [ANY, ANY]);
  const [, units] = expectShape('denseKernelGradient', 'dy', dy, [batch, ANY]);
  const dw = gpu.empty([inputs, units]);
  run(gpu, 'kernelGradient', [x, dw, dy], inputs * units, [batch, inputs, units]);
  return dw;
}

/** db [O] = Σ_b dy[b, :] for dy [B, O]. */
export function denseBiasGradient(gpu: Gpu, dy: Tensor): Tensor {
  const [batch, units] = expectShape('denseBiasGradient', 'dy', dy, [ANY, ANY]);
  const db = gpu.empty([units]);
  run(gpu, 'biasGradient', [dy, db], units, [batch, 0, units]);
  return db;
}

/** Buffers go in the shader's binding order: a, out, b, bias (see the table in dense.wgsl). */
function run(gpu: Gpu, entryPoint: string, buffers: Tensor[], outputs: number, [batch, inputs, units]: [number, number, number]): void {
  const params = new Uint32Array([batch, inputs, units]);
  gpu.dispatch('dense', source, entryPoint, buffers, linearWorkgroups(outputs, WORKGROUP_SIZE), params);
}

/** The shape of `t` if it matches `expected` (ANY matches any size); a RangeError otherwise. */
function expectShape(op: string, name: string, t: Tensor, expected: number[]): number[] {
  if (t.shape.length !== expected.length || t.shape.some((d, i) => expected[i] !== ANY && d !== expected[i])) {
    const want = expected.map((d) => (d === ANY ? '*' : String(d))).join(', ');
    throw new RangeError(`${op}: expected ${name} of shape [${want}], found [${t.shape.join(', ')}]`);
  }
  return [...t.shape];
}

/**
 * y = x·W + b on the host, accumulated in float64. Results are stored into `out`: a
 * Float32Array by default, or pass a Float64Array to keep full precision (finite differences).
 */
export function denseReference<T extends Float32Array | Float64Array = Float32Array>(
  x: ArrayLike<number>,
  kernel: ArrayLike<number>,
  bias: ArrayLike<number>,
  batch: number,
  inputs: number,
  units: number,
  out: T = new Float32Array(batch * units) as T,
): T {
  for (let r = 0; r < batch; r++) {
    for (let o = 0; o < units; o++) {
      let acc = 0;
      for (let k = 0; k < inputs; k++) acc += x[r * inputs + k] * kernel[k * units + o];
      out[r * units + o] = acc + bias[o];
    }
  }
  return out;
}

export function denseInputGradientReference(dy: ArrayLike<number>, kernel: ArrayLike<number>, batch: number, inputs: number, units: number): Float32Array {
  const dx = new Float32Array(batch * inputs);
  for (let r = 0; r < batch; r++) {
    for (let k = 0; k < inputs; k++) {
      let acc = 0;
      for (let o = 0; o < units; o++) acc += dy[r * units + o] * kernel[k * units + o];
      dx[r * inputs + k] = acc;
    }
  }
  return dx;
}

export function denseKernelGradientReference(x: ArrayLike<number>, dy: ArrayLike<number>, batch: number, inputs: number, units: number): Float32Array {
  const dw = new Float32Array(inputs * units);
  for (let k = 0; k < inputs; k++) {
    for (let o = 0; o < units; o++) {
      let acc = 0;
      for (let r = 0; r < batch; r++) acc += x[r * inputs + k] * dy[r * units + o];
      dw[k * units + o] = acc;
    }
  }
  return dw;
}

export function denseBiasGradientReference(dy: ArrayLike<number>, batch: number, units: number): Float32Array {
  const db = new Float32Array(units);
  for (let o = 0; o < units; o++) {
    let acc = 0;
    for (let r = 0; r < batch; r++) acc += dy[r * units + o];
    db[o] = acc;
  }
  return db;
}
