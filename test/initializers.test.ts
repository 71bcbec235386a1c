/**
 * Keras' default initialisers, checked statistically on a large seeded draw read back through the
 * public Sequential.build + getWeights (issue #16: Glorot's limit at sqrt(3/(in+out)) or the
 * embedding's range at ±0.5 passed every test before).
 *
 * Keras 3 (keras/src/initializers/random_initializers.py): Embedding's "uniform" is
 * RandomUniform(-0.05, 0.05); Dense's kernel GlorotUniform = VarianceScaling(1, "fan_avg", "uniform"),
 * i.e. U(-limit, limit) with limit = sqrt(3 / ((fan_in + fan_out) / 2)) = sqrt(6 / (fan_in + fan_out));
 * biases "zeros".
 *
 * For U(-a, a) over n draws: the mean is 0 with standard error a / sqrt(3n); the mean square is a²/3
 * with standard error a² sqrt(4 / 45 / n) (Var X² = a⁴/5 - a⁴/9); every draw lies in [-a, a], and the
 * largest |x| exceeds a (1 - 30 / n) but with probability e^-30. Bounds are 5 standard errors.
 */
import { describe, expect, it } from 'vitest';
import { Conv1D, Dense, Embedding, GlobalAveragePooling1D } from '../src/nn/layers.js';
import { Sequential } from '../src/nn/model.js';
import { useGpu } from './gpu-helpers.js';

const SIGMAS = 5;

/** `values` drawn from U(-limit, limit), within SIGMAS standard errors on mean and mean square. */
function expectUniform(what: string, values: Float32Array, limit: number): void {
  const n = values.length;
  let sum = 0;
  let squares = 0;
  let largest = 0;
  for (const v of values) {
    sum += v;
    squares += v * v;
    largest = Math.max(largest, Math.abs(v));
  }
  // float32 rounding of the bound itself may put a draw one ulp past it.
  expect(largest, `${what}: largest |x|`).toBeLessThanOrEqual(Math.fround(limit) * (1 + 2 ** -23));
  expect(largest, `${what}: largest |x| reaches the limit`).toBeGreaterThan(limit * (1 - 30 / n));
  expect(Math.abs(sum / n), `${what}: mean`).toBeLessThanOrEqual((SIGMAS * limit) / Math.sqrt(3 * n));
  expect(Math.abs(squares / n - limit ** 2 / 3), `${what}: mean square`).toBeLessThanOrEqual(SIGMAS * limit ** 2 * Math.sqrt(4 / 45 / n));
}

describe("Keras' default initialisers", () => {
  const gpu = useGpu();

  it('Embedding: RandomUniform(-0.05, 0.05); Dense: GlorotUniform kernels and zero biases', async () => {
    const [vocab, dim, units] = [400, 250, 300];
    const model = new Sequential();
    model.add(new Embedding(vocab, dim));
    model.add(new GlobalAveragePooling1D());
    model.add(new Dense(units, { activation: 'relu' }));
    model.add(new Dense(1, { activation: 'sigmoid' }));
    model.build(gpu(), [7], { seed: 2024 });
    const [table, kernel1, bias1, kernel2, bias2] = await model.getWeights();
    expect([table.length, kernel1.length, kernel2.length]).toEqual([vocab * dim, dim * units, units]);
    expectUniform('embeddings', table, 0.05);
    expectUniform('dense kernel (250 -> 300)', kernel1, Math.sqrt(6 / (dim + units)));
    // 300 draws only: the range is what a wrong limit breaks, and sqrt(6 / 301) vs sqrt(3 / 301) is a factor sqrt(2).
    const limit2 = Math.sqrt(6 / (units + 1));
    expect(Math.max(...kernel2.map(Math.abs))).toBeLessThanOrEqual(limit2);
    expect(Math.max(...kernel2.map(Math.abs))).toBeGreaterThan(limit2 * (1 - 30 / units));
    expect(Array.from(bias1)).toEqual(new Array(units).fill(0));
    expect(Array.from(bias2)).toEqual([0]);
    model.dispose();
  });

  it('Conv1D: GlorotUniform with fan_in = kernel_size · in_channels, fan_out = kernel_size · filters; zero bias', async () => {
    // keras/src/initializers/random_initializers.py `compute_fans`: for a kernel of shape
    // (kernel_size, in_channels, filters), the receptive field (kernel_size) multiplies both fans.
    const [channels, filters, kernelSize] = [40, 64, 5];
    const model = new Sequential();
    model.add(new Embedding(30, channels));
    model.add(new Conv1D(filters, kernelSize));
    model.build(gpu(), [20], { seed: 77 });
    const [, kernel, bias] = await model.getWeights();
    expect(kernel.length).toBe(kernelSize * channels * filters);
    expectUniform('conv1d kernel (5 x 40 -> 64)', kernel, Math.sqrt(6 / (kernelSize * channels + kernelSize * filters)));
    expect(Array.from(bias)).toEqual(new Array(filters).fill(0));
    model.dispose();
  });

  it('the draw depends on the seed, and one seed gives one draw', async () => {
    const draw = async (seed: number) => {
      const model = new Sequential();
      model.add(new Embedding(50, 8));
      model.build(gpu(), [3], { seed });
      const [table] = await model.getWeights();
      model.dispose();
      return Array.from(table);
    };
    expect(await draw(5)).toEqual(await draw(5));
    expect(await draw(5)).not.toEqual(await draw(6));
  });
});
