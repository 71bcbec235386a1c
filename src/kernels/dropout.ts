/**
 * Keras' inverted dropout on the GPU (shaders/dropout.wgsl) with a mask drawn from a
 * counter-based hash of (seed, training step, element), and its plain TypeScript reference,
 * which uses the same hash and agrees with the GPU bit for bit.
 */
import source from '../../shaders/dropout.wgsl';
import { linearWorkgroups, shapeSize, type Gpu, type Tensor } from '../gpu/gpu.js';

const WORKGROUP_SIZE = 256;
/** The shader reads x's shape as 4 axes. */
const AXES = 4;
/** Draws are 24-bit integers: exact in f32 and in the comparisons on both sides. */
const DRAW_RANGE = 2 ** 24;
/** The shader's SEED_OFFSET (the golden-ratio constant). */
const SEED_OFFSET = 0x9e3779b9;

export interface DropoutSettings {
  /** Fraction of the input units to drop, in [0, 1). */
  rate: number;
  /** The layer's seed: an integer in [0, 2**32). */
  seed: number;
  /**
   * Keras' noise_shape with every dimension known: the mask's shape, of x's rank, each
   * dimension 1 (the mask is broadcast along it) or x's. Omitted: x's shape.
   */
  noiseShape?: readonly number[];
}

/**
 * y = x · mask · 1/(1 - rate) for the training step held in `step` (i32 [1]). The backward
 * pass is the same function of dy (same step, same mask): dx = dropoutForward(gpu, dy, step, settings).
 */
export function dropoutForward(gpu: Gpu, x: Tensor, step: Tensor, settings: DropoutSettings): Tensor {
  const layout = dropoutLayout('dropoutForward', x.shape, settings);
  if (step.dtype !== 'i32' || step.size !== 1) throw new TypeError(`dropoutForward: step must be an i32 tensor of one element, found ${step.dtype} [${step.shape.join(', ')}]`);
  if (x.dtype !== 'f32') throw new TypeError(`dropoutForward: x must be f32, found ${x.dtype}`);
  const y = gpu.empty(x.shape);
  const params = new ArrayBuffer(48);
  const words = new Uint32Array(params);
  words.set([x.size, settings.seed >>> 0, layout.dropBelow]);
  new Float32Array(params)[3] = layout.scale;
  words.set(layout.dims, 4);
  words.set(layout.noiseStrides, 8);
  gpu.dispatch('dropout', source, 'forward', [x, y, step], linearWorkgroups(x.size, WORKGROUP_SIZE), words);
  return y;
}

interface DropoutLayout {
  dropBelow: number;
  scale: number;
  dims: number[];
  noiseStrides: number[];
}

/** What the shader needs, checked: a RangeError naming `op` for a bad rate, seed or noise shape. */
export function dropoutLayout(op: string, shape: readonly number[], { rate, seed, noiseShape }: DropoutSettings): DropoutLayout {
  if (!(rate >= 0 && rate < 1)) throw new RangeError(`${op}: rate must be in [0, 1), found ${rate}`);
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) throw new RangeError(`${op}: seed must be an integer in [0, 2**32), found ${seed}`);
  const noise = noiseShape ?? shape;
  if (noise.length !== shape.length || noise.some((d, i) => d !== 1 && d !== shape[i])) {
    throw new RangeError(`${op}: noise shape [${noise.join(', ')}] does not broadcast to the input's [${shape.join(', ')}] (each dimension must be 1 or the input's)`);
  }
  // Without broadcasting the noise index is the element index: view x as one axis.
  const broadcast = noise.some((d, i) => d !== shape[i]);
  const dims = broadcast ? [...shape] : [shapeSize(shape)];
  const noiseDims = broadcast ? [...noise] : [...dims];
  if (dims.length > AXES) throw new RangeError(`${op}: a noise shape is supported on inputs of rank ${AXES} at most, found rank ${dims.length}`);
  while (dims.length < AXES) {
    dims.unshift(1);
    noiseDims.unshift(1);
  }
  const noiseStrides = new Array<number>(AXES);
  for (let axis = AXES - 1, stride = 1; axis >= 0; axis--) {
    noiseStrides[axis] = noiseDims[axis] === 1 ? 0 : stride;
    stride *= noiseDims[axis];
  }
  return { dropBelow: Math.round(rate * DRAW_RANGE), scale: Math.fround(1 / (1 - rate)), dims, noiseStrides };
}

/** The shader's `mix32` (Chris Wellons' lowbias32). */
function mix32(v: number): number {
  let x = v >>> 0;
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** The 24-bit draw of one mask element, as the shader computes it. */
export function dropoutDraw(seed: number, step: number, noiseIndex: number): number {
  return mix32(mix32(mix32(seed ^ SEED_OFFSET) ^ (step >>> 0)) ^ noiseIndex) >>> 8;
}

/** Dropout on the host, with the shader's hash and float32 scaling: equal to the GPU's bit for bit. */
export function dropoutReference(x: Float32Array, shape: readonly number[], step: number, settings: DropoutSettings): Float32Array {
  const { dropBelow, scale, dims, noiseStrides } = dropoutLayout('dropoutReference', shape, settings);
  const [, d1, d2, d3] = dims;
  return x.map((v, i) => {
    const coords = [Math.floor(i / (d1 * d2 * d3)), Math.floor(i / (d2 * d3)) % d1, Math.floor(i / d3) % d2, i % d3];
    const noiseIndex = coords.reduce((sum, c, axis) => sum + c * noiseStrides[axis], 0);
    return dropoutDraw(settings.seed, step, noiseIndex) >= dropBelow ? Math.fround(v * scale) : 0;
  });
}
