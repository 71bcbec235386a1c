/**
 * Keras Conv1D (channels last, strides 1) without activation on the GPU (shaders/conv1d.wgsl):
 * y = conv(x, W) + b with W as Keras stores it, [kernelSize, inChannels, filters]; the gradients
 * of x and W (the bias gradient is Dense's, over the rows of dy); and plain TypeScript references.
 */
import source from '../../shaders/conv1d.wgsl';
import { linearWorkgroups, type Gpu, type Tensor } from '../gpu/gpu.js';

const WORKGROUP_SIZE = 64;

export type Conv1DPadding = 'valid' | 'same';

export interface Conv1DGeometry {
  /** Steps of the output: T - K + 1 for 'valid', T for 'same'. */
  outSteps: number;
  /** Zeros before the first step: floor((K - 1) / 2) for 'same' (TensorFlow's split at stride 1), 0 for 'valid'. */
  padLeft: number;
}

/** The output length and left padding of a stride-1 convolution; a RangeError when the kernel is longer than a 'valid' input. */
export function conv1dGeometry(op: string, steps: number, kernelSize: number, padding: Conv1DPadding): Conv1DGeometry {
  if (padding === 'same') return { outSteps: steps, padLeft: Math.floor((kernelSize - 1) / 2) };
  if (kernelSize > steps) throw new RangeError(`${op}: kernel_size ${kernelSize} is longer than the ${steps} steps of its input with padding 'valid'`);
  return { outSteps: steps - kernelSize + 1, padLeft: 0 };
}

/** y [B, T', F] = conv(x [B, T, C], kernel [K, C, F]) + bias [F] (no bias when null). */
export function conv1dForward(gpu: Gpu, x: Tensor, kernel: Tensor, bias: Tensor | null, padding: Conv1DPadding): Tensor {
  const op = 'conv1dForward';
  const [batch, steps, channels] = expectRank3(op, 'x', x);
  const [kernelSize, , filters] = expectKernel(op, kernel, channels);
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== filters)) throw new RangeError(`${op}: expected bias of shape [${filters}], found [${bias.shape.join(', ')}]`);
  const { outSteps, padLeft } = conv1dGeometry(op, steps, kernelSize, padding);
  const y = gpu.empty([batch, outSteps, filters]);
  // Without a bias the binding still needs a buffer: the kernel's, never read.
  run(gpu, 'forward', [x, y, kernel, bias ?? kernel], { batch, steps, outSteps, channels, filters, kernelSize, padLeft, useBias: bias ? 1 : 0 }, y.size);
  return y;
}

/** dx [B, T, C] given dy [B, T', F] and kernel [K, C, F], for an input of `steps` steps. */
export function conv1dInputGradient(gpu: Gpu, dy: Tensor, kernel: Tensor, steps: number, padding: Conv1DPadding): Tensor {
  const op = 'conv1dInputGradient';
  const [batch, dySteps, filters] = expectRank3(op, 'dy', dy);
  const [kernelSize, channels] = kernel.shape;
  expectKernel(op, kernel, channels, filters);
  const { outSteps, padLeft } = conv1dGeometry(op, steps, kernelSize, padding);
  if (dySteps !== outSteps) throw new RangeError(`${op}: dy has ${dySteps} steps; an input of ${steps} steps with padding '${padding}' gives ${outSteps}`);
  const dx = gpu.empty([batch, steps, channels]);
  run(gpu, 'inputGradient', [dy, dx, kernel], { batch, steps, outSteps, channels, filters, kernelSize, padLeft, useBias: 0 }, dx.size);
  return dx;
}

/** dW [K, C, F] given x [B, T, C] and dy [B, T', F]. */
export function conv1dKernelGradient(gpu: Gpu, x: Tensor, dy: Tensor, kernelSize: number, padding: Conv1DPadding): Tensor {
  const op = 'conv1dKernelGradient';
  const [batch, steps, channels] = expectRank3(op, 'x', x);
  const [dyBatch, dySteps, filters] = expectRank3(op, 'dy', dy);
  const { outSteps, padLeft } = conv1dGeometry(op, steps, kernelSize, padding);
  if (dyBatch !== batch || dySteps !== outSteps) throw new RangeError(`${op}: expected dy of shape [${batch}, ${outSteps}, *], found [${dy.shape.join(', ')}]`);
  const dw = gpu.empty([kernelSize, channels, filters]);
  run(gpu, 'kernelGradient', [x, dw, dy], { batch, steps, outSteps, channels, filters, kernelSize, padLeft, useBias: 0 }, dw.size);
  return dw;
}

interface Conv1DParams {
  batch: number;
  steps: number;
  outSteps: number;
  channels: number;
  filters: number;
  kernelSize: number;
  padLeft: number;
  useBias: number;
}

/** Buffers go in the shader's binding order: a, out, b, bias (see the table in conv1d.wgsl). */
function run(gpu: Gpu, entryPoint: string, buffers: Tensor[], p: Conv1DParams, count: number): void {
  const params = new Uint32Array([count, p.batch, p.steps, p.outSteps, p.channels, p.filters, p.kernelSize, p.padLeft, p.useBias]);
  gpu.dispatch('conv1d', source, entryPoint, buffers, linearWorkgroups(count, WORKGROUP_SIZE), params);
}

function expectRank3(op: string, name: string, t: Tensor): [number, number, number] {
  if (t.dtype !== 'f32' || t.shape.length !== 3) throw new RangeError(`${op}: expected ${name} f32 of shape [batch, steps, channels], found ${t.dtype} [${t.shape.join(', ')}]`);
  return t.shape as [number, number, number];
}

function expectKernel(op: string, kernel: Tensor, channels: number, filters?: number): [number, number, number] {
  const [k, c, f] = kernel.shape;
  if (kernel.shape.length !== 3 || c !== channels || (filters !== undefined && f !== filters) || k < 1) {
    throw new RangeError(`${op}: expected kernel of shape [*, ${channels}, ${filters ?? '*'}], found [${kernel.shape.join(', ')}]`);
  }
  return [k, c, f];
}

export interface Conv1DShape {
  batch: number;
  steps: number;
  channels: number;
  filters: number;
  kernelSize: number;
  padding: Conv1DPadding;
}

/**
 * The convolution on the host, accumulated in float64 in the shader's order; stored into `out`
 * (Float32Array by default, a Float64Array keeps full precision for finite differences).
 */
export function conv1dReference<T extends Float32Array | Float64Array = Float32Array>(
  x: ArrayLike<number>,
  kernel: ArrayLike<number>,
  bias: ArrayLike<number> | null,
  s: Conv1DShape,
  out?: T,
): T {
  const { outSteps, padLeft } = conv1dGeometry('conv1dReference', s.steps, s.kernelSize, s.padding);
  const { channels: C, filters: F } = s;
  const y = out ?? (new Float32Array(s.batch * outSteps * F) as T);
  for (let b = 0; b < s.batch; b++) {
    for (let t = 0; t < outSteps; t++) {
      for (let f = 0; f < F; f++) {
        let acc = 0;
        for (let k = 0; k < s.kernelSize; k++) {
          const src = t + k - padLeft;
          if (src < 0 || src >= s.steps) continue;
          for (let c = 0; c < C; c++) acc += x[(b * s.steps + src) * C + c] * kernel[(k * C + c) * F + f];
        }
        y[(b * outSteps + t) * F + f] = acc + (bias ? bias[f] : 0);
      }
    }
  }
  return y;
}

export function conv1dInputGradientReference(dy: ArrayLike<number>, kernel: ArrayLike<number>, s: Conv1DShape): Float32Array {
  const { outSteps, padLeft } = conv1dGeometry('conv1dInputGradientReference', s.steps, s.kernelSize, s.padding);
  const { channels: C, filters: F } = s;
  const dx = new Float32Array(s.batch * s.steps * C);
  for (let b = 0; b < s.batch; b++) {
    for (let src = 0; src < s.steps; src++) {
      for (let c = 0; c < C; c++) {
        let acc = 0;
        for (let k = 0; k < s.kernelSize; k++) {
          const t = src + padLeft - k;
          if (t < 0 || t >= outSteps) continue;
          for (let f = 0; f < F; f++) acc += dy[(b * outSteps + t) * F + f] * kernel[(k * C + c) * F + f];
        }
        dx[(b * s.steps + src) * C + c] = acc;
      }
    }
  }
  return dx;
}

export function conv1dKernelGradientReference(x: ArrayLike<number>, dy: ArrayLike<number>, s: Conv1DShape): Float32Array {
  const { outSteps, padLeft } = conv1dGeometry('conv1dKernelGradientReference', s.steps, s.kernelSize, s.padding);
  const { channels: C, filters: F } = s;
  const dw = new Float32Array(s.kernelSize * C * F);
  for (let k = 0; k < s.kernelSize; k++) {
    for (let c = 0; c < C; c++) {
      for (let f = 0; f < F; f++) {
        let acc = 0;
        for (let b = 0; b < s.batch; b++) {
          for (let t = 0; t < outSteps; t++) {
            const src = t + k - padLeft;
            if (src >= 0 && src < s.steps) acc += x[(b * s.steps + src) * C + c] * dy[(b * outSteps + t) * F + f];
          }
        }
        dw[(k * C + c) * F + f] = acc;
      }
    }
  }
  return dw;
}
