/**
 * Each optimizer's shader (shaders/optimizer-*.wgsl through src/kernels/optimizer-update.ts) against its
 * float32 reference (`optimizer.reference`), bit for bit, over several steps with zeros, huge (overflowing)
 * and tiny gradients (subnormals, which WGSL lets a GPU flush to zero, tested apart); Adam against the engine's Adam from before the redesign
 * (shaders/adam.wgsl `updateVec4`, kept as hashes of its results), bit for bit; the prepared dispatch (one uniform, several shards) against the eager one.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { linearWorkgroups, type Tensor } from '../src/gpu/gpu.js';
import { optimizerUpdate, prepareOptimizerUpdate } from '../src/kernels/optimizer-update.js';
import { Adagrad, Adam, AdamW, ExponentialDecay, Optimizer, RMSprop, SGD } from '../src/nn/optimizers/index.js';
import { filled, firstMismatch, randomFloats, TWO_D_INVOCATIONS, useGpu } from './gpu-helpers.js';

/** 259 vec4s: two workgroups, the second partly idle. */
const N = 1036;
const STEPS = 5;

/**
 * Gradients with zeros, large values (1e4), overflowing squares (1e20) and small ones (1e-12); with
 * `subnormal`, also gradients whose squares (1e-21) or selves (1e-40) are float32 subnormals.
 */
function awkwardGradients(n: number, seed: number, subnormal = false): Float32Array {
  const g = randomFloats(n, seed, -1, 1);
  for (let i = 0; i < n; i += 7) g[i] = 0;
  for (let i = 1; i < n; i += 11) g[i] *= 1e4;
  for (let i = 2; i < n; i += 13) g[i] *= subnormal ? 1e-21 : 1e-12;
  for (let i = 3; i < n; i += 29) g[i] *= 1e20;
  if (subnormal) for (let i = 4; i < n; i += 31) g[i] *= 1e-40;
  return g;
}

/**
 * Below this magnitude a slot may differ when gradients are subnormal: WGSL lets an implementation flush
 * subnormal inputs and results to zero (SwiftShader does), the reference keeps them, and a flushed value
 * then feeds the next steps' (still tiny) values. Far below any value that moves a weight.
 */
const FLUSH_NOISE = 1e-30;

/**
 * Indices where the GPU's result differs from the reference's: by bits, except that any NaN equals any
 * NaN (payloads are not portable) and, with `flushes`, values both below FLUSH_NOISE.
 */
function differences(actual: Float32Array, expected: Float32Array, flushes = false): number[] {
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  const out: number[] = [];
  for (let i = 0; i < expected.length; i++) {
    if (a[i] === e[i] || (Number.isNaN(actual[i]) && Number.isNaN(expected[i]))) continue;
    if (flushes && Math.abs(actual[i]) < FLUSH_NOISE && Math.abs(expected[i]) < FLUSH_NOISE) continue;
    out.push(i);
  }
  return out;
}

function expectBitwiseEqual(actual: Float32Array, expected: Float32Array, label: string, flushes = false): void {
  const diff = differences(actual, expected, flushes);
  if (diff.length) expect.fail(`${label}: ${diff.length} elements differ, first ${diff[0]}: ${actual[diff[0]]} vs ${expected[diff[0]]}`);
}

/** One case per entry point and per shared feature (weight decay, schedules). */
const CASES: [string, () => Optimizer][] = [
  ['Adam', () => new Adam()],
  ['Adam with ExponentialDecay', () => new Adam({ learningRate: new ExponentialDecay({ initialLearningRate: 0.01, decaySteps: 2, decayRate: 0.5 }) })],
  ['AdamW', () => new AdamW({ weightDecay: 0.1, learningRate: 0.01 })],
  ['SGD', () => new SGD()],
  ['SGD with weight decay and a staircase schedule', () => new SGD({ weightDecay: 0.01, learningRate: new ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 2, decayRate: 0.9, staircase: true }) })],
  ['SGD momentum', () => new SGD({ momentum: 0.9 })],
  ['SGD nesterov', () => new SGD({ momentum: 0.9, nesterov: true })],
  ['RMSprop', () => new RMSprop()],
  ['RMSprop momentum', () => new RMSprop({ momentum: 0.5 })],
  ['RMSprop centered', () => new RMSprop({ centered: true })],
  ['RMSprop centered momentum', () => new RMSprop({ centered: true, momentum: 0.5, rho: 0.8 })],
  ['Adagrad', () => new Adagrad()],
  ['Adagrad with weight decay', () => new Adagrad({ learningRate: 0.1, weightDecay: 0.05, initialAccumulatorValue: 0 })],
];

describe('optimizer shaders', () => {
  const gpu = useGpu();
  const read = async (t: Tensor) => (await t.read()) as Float32Array;

  /** Runs `STEPS` updates of `n` weights on the GPU and in the reference from the same data; returns both states. */
  async function runBoth(optimizer: Optimizer, subnormal: boolean, n = N) {
    const weights = randomFloats(n, 5, -2, 2);
    weights[8] = -0; // updates by zero keep its sign, as the reference does
    const slots = optimizer.slotNames.map((_, k) => new Float32Array(n).fill(optimizer.slotInitialValue(k)));
    const gpuWeights = gpu().upload(weights);
    const gpuSlots = slots.map((s) => gpu().upload(s));
    for (let iterations = 0; iterations < STEPS; iterations++) {
      const grads = awkwardGradients(n, 60 + iterations, subnormal);
      optimizerUpdate(gpu(), optimizer, gpuWeights, gpu().upload(grads), gpuSlots, iterations);
      optimizer.reference(weights, grads, slots, iterations);
    }
    expect(weights.some((w) => Number.isFinite(w) && w !== 0), 'finite weights remain').toBe(true);
    return { weights, slots, gpuWeights: await read(gpuWeights), gpuSlots: await Promise.all(gpuSlots.map(read)) };
  }

  for (const [label, make] of CASES) {
    it(`${label} (${make().entryPoint}): ${STEPS} steps equal the float32 reference bit for bit`, async () => {
      const optimizer = make();
      const run = await runBoth(optimizer, false);
      expectBitwiseEqual(run.gpuWeights, run.weights, 'weights');
      for (const [k, name] of optimizer.slotNames.entries()) expectBitwiseEqual(run.gpuSlots[k], run.slots[k], name);
    });

    it(`${label}: with subnormal gradients, weights bit for bit, slots but for values below ${FLUSH_NOISE}`, async () => {
      const optimizer = make();
      const run = await runBoth(optimizer, true);
      expectBitwiseEqual(run.gpuWeights, run.weights, 'weights');
      for (const [k, name] of optimizer.slotNames.entries()) expectBitwiseEqual(run.gpuSlots[k], run.slots[k], name, true);
    });
  }

  // 260 vec4s: the last (259) ends a group of 4 invocations, and invocation 260 starts the next one,
  // idle. SwiftShader runs a workgroup 4 invocations at a time, so an idle invocation let through the
  // `i >= arrayLength(&weights)` guard would read the last vec4 (its index clamped) after the update
  // wrote it and update it twice. With 259 (N), 258 and 259 share a group, read together, and the
  // second write repeats the first: the guard's '>=' -> '>' mutant survived there.
  it('each optimizer updates the last vec4 once when the vec4 count is a multiple of 4', async () => {
    for (const [label, make] of CASES) {
      const optimizer = make();
      const run = await runBoth(optimizer, false, 1040);
      expectBitwiseEqual(run.gpuWeights, run.weights, `${label} weights`);
      for (const [k, name] of optimizer.slotNames.entries()) expectBitwiseEqual(run.gpuSlots[k], run.slots[k], `${label} ${name}`);
    }
  });

  // Past 65,535 workgroups the dispatch is 2-D, and only then does vec4Index (optimizer-common.wgsl)
  // use gid.y: TWO_D_INVOCATIONS vec4s (~67 M weights, 268 MB a buffer), one SGD step, every weight checked.
  it('an update past 65,535 workgroups (a 2-D dispatch) reaches every vec4', async () => {
    const n = 4 * TWO_D_INVOCATIONS;
    expect(linearWorkgroups(n / 4, 256)[1]).toBeGreaterThan(1);
    const weights = filled(new Float32Array(n), (i) => ((i % 251) - 125) / 25);
    const grads = filled(new Float32Array(n), (i) => ((i % 241) + 1) / 64);
    const optimizer = new SGD({ learningRate: 0.5 });
    const [gpuWeights, gpuGrads] = [gpu().upload(weights), gpu().upload(grads)];
    optimizerUpdate(gpu(), optimizer, gpuWeights, gpuGrads, [], 0);
    optimizer.reference(weights, grads, [], 0);
    expect(firstMismatch(await read(gpuWeights), (i) => weights[i])).toBe(-1);
    [gpuWeights, gpuGrads].forEach((t) => t.dispose());
  });

  for (const [label, options] of [
    ['defaults', {}],
    ['lr 0.01, beta1 0.8, beta2 0.99, epsilon 1e-5', { learningRate: 0.01, beta1: 0.8, beta2: 0.99, epsilon: 1e-5 }],
  ] as const) {
    it(`Adam (${label}) reproduces the engine's Adam from before the redesign, bit for bit, over ${STEPS} steps`, async () => {
      // The old kernel's results, kept as hashes (test/fixtures/adam/pre-redesign-adam.json says how they were made).
      const golden = (JSON.parse(readFileSync(new URL('./fixtures/adam/pre-redesign-adam.json', import.meta.url), 'utf8')) as { runs: Record<string, Record<string, string>> }).runs[label];
      const optimizer = new Adam(options);
      const mine = { weights: gpu().upload(randomFloats(N, 9, -1, 1)), momentum: gpu().zeros([N]), velocity: gpu().zeros([N]) };
      for (let iterations = 0; iterations < STEPS; iterations++) {
        optimizerUpdate(gpu(), optimizer, mine.weights, gpu().upload(awkwardGradients(N, 80 + iterations)), [mine.momentum, mine.velocity], iterations);
      }
      const sha256 = (a: Float32Array) => createHash('sha256').update(Buffer.from(a.buffer, a.byteOffset, a.byteLength)).digest('hex');
      for (const key of ['weights', 'momentum', 'velocity'] as const) expect(sha256(await read(mine[key])), key).toBe(golden[key]);
    });
  }

  it('a prepared update (one uniform, two shards of different sizes) equals the eager one, bit for bit', async () => {
    const optimizer = new RMSprop({ centered: true, momentum: 0.9 });
    const sizes = [4, 2052];
    const shard = (n: number, seed: number) => ({
      weights: gpu().upload(randomFloats(n, seed)),
      grads: gpu().upload(awkwardGradients(n, seed + 1)),
      slots: optimizer.slotNames.map(() => gpu().zeros([n])),
    });
    const prepared = sizes.map((n, s) => shard(n, 10 * s));
    const eager = sizes.map((n, s) => shard(n, 10 * s));
    const uniforms: GPUBuffer[] = [];
    for (let iterations = 0; iterations < 3; iterations++) {
      const uniform = gpu().createUniform(optimizer.params(iterations));
      uniforms.push(uniform);
      gpu().record(await Promise.all(prepared.map((b) => prepareOptimizerUpdate(gpu(), optimizer, b, uniform))));
      for (const b of eager) optimizerUpdate(gpu(), optimizer, b.weights, b.grads, b.slots, iterations);
    }
    for (const [s, b] of prepared.entries()) {
      expectBitwiseEqual(await read(b.weights), await read(eager[s].weights), `shard ${s} weights`);
      for (const [k, slot] of b.slots.entries()) expectBitwiseEqual(await read(slot), await read(eager[s].slots[k]), `shard ${s} ${optimizer.slotNames[k]}`);
    }
    for (const u of uniforms) u.destroy();
  });

  it('rejects buffers that do not fit the optimizer, naming the problem', () => {
    const four = () => gpu().zeros([4]);
    expect(() => optimizerUpdate(gpu(), new Adam(), four(), four(), [four()], 0)).toThrow(/optimizerUpdate: adam takes 2 slots \(momentum, velocity\), found 1/);
    expect(() => optimizerUpdate(gpu(), new SGD(), four(), four(), [four()], 0)).toThrow(/optimizerUpdate: sgd takes 0 slots \(none\), found 1/);
    expect(() => optimizerUpdate(gpu(), new SGD(), gpu().zeros([6]), gpu().zeros([6]), [], 0)).toThrow(/optimizerUpdate: 6 elements is not a multiple of 4/);
    expect(() => optimizerUpdate(gpu(), new SGD(), four(), gpu().zeros([8]), [], 0)).toThrow(/optimizerUpdate: grads holds 8 elements, weights 4/);
    expect(() => optimizerUpdate(gpu(), new Adagrad(), four(), four(), [gpu().zeros([4], 'i32')], 0)).toThrow(/optimizerUpdate: slot accumulator must be f32, found i32/);
    expect(() => optimizerUpdate(gpu(), new SGD(), gpu().zeros([4], 'i32'), four(), [], 0)).toThrow('optimizerUpdate: weights must be f32, found i32');
    expect(() => optimizerUpdate(gpu(), new SGD(), four(), gpu().zeros([4], 'i32'), [], 0)).toThrow('optimizerUpdate: grads must be f32, found i32');
    expect(() => optimizerUpdate(gpu(), new Adagrad(), four(), four(), [gpu().zeros([8])], 0)).toThrow('optimizerUpdate: slot accumulator holds 8 elements, weights 4');
    // The prepared update checks the same, under its own name.
    const uniform = gpu().createUniform(new SGD().params(0));
    expect(() => prepareOptimizerUpdate(gpu(), new SGD(), { weights: four(), grads: gpu().zeros([8]), slots: [] }, uniform)).toThrow('prepareOptimizerUpdate: grads holds 8 elements, weights 4');
    uniform.destroy();
    // The Gpu names the kernel whose binding is wrong: one pipeline per optimizer.
    const grads = four();
    grads.dispose();
    expect(() => optimizerUpdate(gpu(), new SGD(), four(), grads, [], 0)).toThrow('optimizer-sgd: binding 2 is a disposed tensor');
  });

  // The parameter store binds its own uniform, filled with optimizer.params(iterations) before each step.
  it('an update takes its step from a uniform buffer as from the number, bit for bit', async () => {
    const optimizer = new Adam({ learningRate: 0.01 });
    const iterations = 3;
    const run = async (step: number | GPUBuffer) => {
      const [weights, grads] = [gpu().upload(randomFloats(N, 31)), gpu().upload(awkwardGradients(N, 32))];
      const slots = [gpu().zeros([N]), gpu().zeros([N])];
      optimizerUpdate(gpu(), optimizer, weights, grads, slots, step);
      return Promise.all([weights, ...slots].map(async (t) => { const a = await read(t); return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex'); }));
    };
    const uniform = gpu().createUniform(optimizer.params(iterations));
    expect(await run(uniform)).toEqual(await run(iterations));
    // The step matters: Adam's bias correction moves the weights differently at step 0.
    expect((await run(0))[0]).not.toEqual((await run(iterations))[0]);
    uniform.destroy();
  });
});
