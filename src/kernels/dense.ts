/**
 * Keras Dense without activation on the GPU (shaders/dense.wgsl): y = x·W + b with the
 * kernel W laid out as Keras stores it, [inputs, units], on inputs of any rank >= 2 (rows
 * of the last axis); the gradients of x, W and b; and plain TypeScript references (on rows).
 */
import source from '../../shaders/dense.wgsl';
import { linearWorkgroups, type Gpu, type Tensor } from '../gpu/gpu.js';

/** Smaller than the elementwise kernels' 256: the model's outputs are few (512 × 1), and more workgroups spread over more threads. */
const WORKGROUP_SIZE = 64;
/** A dimension `expectShape` accepts whatever its size. */
const ANY = -1;

/**
 * y [..., O] = x [..., I] · kernel [I, O] + bias [O]. x may have any rank >= 2: Keras' Dense
 * applies the kernel to the last axis (keras/src/layers/core/dense.py: `ops.matmul(inputs, kernel)`),
 * so the leading dimensions are rows, B = x.size / I.
 */
export function denseForward(gpu: Gpu, x: Tensor, kernel: Tensor, bias: Tensor): Tensor {
  const { rows, lastDim: inputs, leading } = rowsOf('denseForward', 'x', x);
  const [, units] = expectShape('denseForward', 'kernel', kernel, [inputs, ANY]);
  expectShape('denseForward', 'bias', bias, [units]);
  const y = gpu.empty([...leading, units]);
  run(gpu, 'forward', [x, y, kernel, bias], rows * units, [rows, inputs, units]);
  return y;
}

/** dx [..., I] = dy [..., O] · kernelᵀ, where kernel is [I, O]: x's gradient in x's shape. */
export function denseInputGradient(gpu: Gpu, dy: Tensor, kernel: Tensor): Tensor {
  const { rows, lastDim: units, leading } = rowsOf('denseInputGradient', 'dy', dy);
  const [inputs] = expectShape('denseInputGradient', 'kernel', kernel, [ANY, units]);
  const dx = gpu.empty([...leading, inputs]);
  run(gpu, 'inputGradient', [dy, dx, kernel], rows * inputs, [rows, inputs, units]);
  return dx;
}

/** dW [I, O] = xᵀ · dy for x [..., I] and dy [..., O] with the same leading dimensions, summed over rows in index order. */
export function denseKernelGradient(gpu: Gpu, x: Tensor, dy: Tensor): Tensor {
  const { rows, lastDim: inputs, leading } = rowsOf('denseKernelGradient', 'x', x);
  const [units] = expectShape('denseKernelGradient', 'dy', dy, [...leading, ANY]).slice(-1);
  const dw = gpu.empty([inputs, units]);
  run(gpu, 'kernelGradient', [x, dw, dy], inputs * units, [rows, inputs, units]);
  return dw;
}

/** db [O] = Σ over rows of dy [..., O]. */
export function denseBiasGradient(gpu: Gpu, dy: Tensor): Tensor {
  const { rows, lastDim: units } = rowsOf('denseBiasGradient', 'dy', dy);
  const db = gpu.empty([units]);
  run(gpu, 'biasGradient', [dy, db], units, [rows, 0, units]);
  return db;
}

/** Buffers go in the shader's binding order: a, out, b, bias (see the table in dense.wgsl). */
function run(gpu: Gpu, entryPoint: string, buffers: Tensor[], outputs: number, [rows, inputs, units]: [number, number, number]): void {
  const params = new Uint32Array([rows, inputs, units]);
  gpu.dispatch('dense', source, entryPoint, buffers, linearWorkgroups(outputs, WORKGROUP_SIZE), params);
}

/** A tensor of rank >= 2 seen as rows of its last dimension; a RangeError naming the op otherwise. */
function rowsOf(op: string, name: string, t: Tensor): { rows: number; lastDim: number; leading: number[] } {
  if (t.shape.length < 2) throw new RangeError(`${op}: expected ${name} of rank 2 or more ([..., features]), found [${t.shape.join(', ')}]`);
  const leading = t.shape.slice(0, -1);
  return { rows: leading.reduce((a, b) => a * b, 1), lastDim: t.shape[t.shape.length - 1], leading };
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
