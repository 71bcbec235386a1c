/**
 * Keras 3's Adam step on the GPU (shaders/adam.wgsl), with a float64 reference.
 * keras/src/optimizers/adam.py `update_step`, with t = iterations + 1:
 *   alpha = lr sqrt(1 - beta2^t) / (1 - beta1^t)
 *   m += (g - m)(1 - beta1);  v += (g^2 - v)(1 - beta2);  w -= m alpha / (sqrt(v) + epsilon)
 * epsilon is added after the bias correction was folded into alpha, i.e. to the uncorrected sqrt(v).
 */
import source from '../../shaders/adam.wgsl';
import { expectSameShape, linearWorkgroups, type Gpu, type PreparedDispatch, type Tensor } from '../gpu/gpu.js';

const WORKGROUP_SIZE = 256;
/** Keras' defaults. */
const LEARNING_RATE = 0.001;
const BETA_1 = 0.9;
const BETA_2 = 0.999;
const EPSILON = 1e-7;
/** Bytes of shaders/adam.wgsl's Params. */
export const ADAM_PARAMS_BYTES = 20;

export interface AdamOptions {
  /** t, 1-based: Keras' `iterations + 1`. */
  step: number;
  learningRate?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

function resolve(op: string, options: AdamOptions): Required<AdamOptions> {
  const { step, learningRate = LEARNING_RATE, beta1 = BETA_1, beta2 = BETA_2, epsilon = EPSILON } = options;
  if (!Number.isInteger(step) || step < 1) throw new RangeError(`${op}: step must be an integer >= 1, found ${step}`);
  for (const [name, value] of Object.entries({ learningRate, beta1, beta2, epsilon })) {
    if (!Number.isFinite(value)) throw new RangeError(`${op}: ${name} must be finite, found ${value}`);
  }
  return { step, learningRate, beta1, beta2, epsilon };
}

/**
 * alpha = lr sqrt(1 - beta2^t) / (1 - beta1^t) with every stage rounded to float32 (Math.fround), following
 * Keras' ops on float32 variables as closely as practical; pow itself is evaluated in double, then rounded.
 */
export function adamAlpha(options: AdamOptions): number {
  const { step, learningRate, beta1, beta2 } = resolve('adamAlpha', options);
  const f = Math.fround;
  const t = f(step);
  const beta1Power = f(Math.pow(f(beta1), t));
  const beta2Power = f(Math.pow(f(beta2), t));
  return f(f(f(learningRate) * f(Math.sqrt(f(1 - beta2Power)))) / f(1 - beta1Power));
}

/** The uniform of one step over `count` elements (shaders/adam.wgsl's Params). */
export function adamParams(count: number, options: AdamOptions, op = 'adamParams'): Uint8Array {
  const { learningRate, beta1, beta2, epsilon, step } = resolve(op, options);
  const params = new DataView(new ArrayBuffer(ADAM_PARAMS_BYTES));
  params.setUint32(0, count, true);
  params.setFloat32(4, adamAlpha({ step, learningRate, beta1, beta2 }), true);
  // Keras multiplies by the Python float `1 - self.beta_1` (double), which becomes float32 when applied.
  params.setFloat32(8, 1 - beta1, true);
  params.setFloat32(12, 1 - beta2, true);
  params.setFloat32(16, epsilon, true);
  return new Uint8Array(params.buffer);
}

/**
 * One Adam step: updates `param`, `m` and `v` in place (recorded; nothing is read back).
 * A weight split into chunks (larger than one binding) takes one dispatch per chunk: the four
 * tensors have one shape, so their chunks line up.
 */
export function adamStep(gpu: Gpu, param: Tensor, grad: Tensor, m: Tensor, v: Tensor, options: AdamOptions): void {
  for (const [name, t] of [['param', param], ['grad', grad], ['m', m], ['v', v]] as const) {
    if (t.dtype !== 'f32') throw new RangeError(`adamStep: ${name} must be f32, found ${t.dtype}`);
    expectSameShape('adamStep', name, t, 'param', param);
  }
  param.chunks.forEach((chunk, i) => {
    const count = chunk.byteLength / 4;
    const buffers = [chunk, grad.chunks[i], m.chunks[i], v.chunks[i]];
    gpu.dispatch('adam', source, 'update', buffers, linearWorkgroups(count, WORKGROUP_SIZE), adamParams(Math.min(count, param.size), options, 'adamStep'));
  });
}

/**
 * The step prepared once over flat buffers whose size is a multiple of 4 (four elements per
 * invocation), each bound whole: the shader takes the count from the binding, so one uniform
 * `params` (filled with `adamParams` before each use) serves several dispatches.
 */
export function prepareAdam(gpu: Gpu, param: Tensor, grad: Tensor, m: Tensor, v: Tensor, params: GPUBuffer): Promise<PreparedDispatch> {
  if (param.size % 4 !== 0) throw new RangeError(`prepareAdam: ${param.size} elements is not a multiple of 4`);
  return gpu.prepare('adam', source, 'updateVec4', { 5: param, 6: grad, 7: m, 8: v }, linearWorkgroups(param.size / 4, WORKGROUP_SIZE), params);
}

/** The same step in float64 (alpha included): mutates `param`, `m` and `v`. */
export function adamReference(param: Float64Array, grad: ArrayLike<number>, m: Float64Array, v: Float64Array, options: AdamOptions): void {
  const { step, learningRate, beta1, beta2, epsilon } = resolve('adamReference', options);
  const alpha = (learningRate * Math.sqrt(1 - beta2 ** step)) / (1 - beta1 ** step);
  for (let i = 0; i < param.length; i++) {
    const g = grad[i];
    m[i] += (g - m[i]) * (1 - beta1);
    v[i] += (g * g - v[i]) * (1 - beta2);
    param[i] -= (m[i] * alpha) / (Math.sqrt(v[i]) + epsilon);
  }
}
