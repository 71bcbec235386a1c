import { describe, expect, it } from 'vitest';
import { linearWorkgroups } from '../src/gpu/gpu.js';
import { dropoutDraw, dropoutForward, dropoutLayout, dropoutReference, type DropoutSettings } from '../src/kernels/dropout.js';
import { filled, firstMismatch, randomFloats, TWO_D_INVOCATIONS, useGpu } from './gpu-helpers.js';

describe('dropout kernel', () => {
  const gpu = useGpu();
  const stepTensor = (step: number) => gpu().upload(Int32Array.of(step), [1]);

  const cases: [number[], DropoutSettings][] = [
    [[1, 1], { rate: 0.5, seed: 0 }],
    [[40], { rate: 0.5, seed: 3, noiseShape: [1] }],
    [[1, 40], { rate: 0.5, seed: 4, noiseShape: [1, 1] }],
    [[37, 13], { rate: 0.3, seed: 7 }],
    [[3, 5, 7], { rate: 0.9, seed: 2 ** 32 - 1 }],
    [[4, 6, 5], { rate: 0.5, seed: 11, noiseShape: [4, 1, 5] }],
    [[2, 3, 4, 5], { rate: 0.25, seed: 12345, noiseShape: [1, 3, 1, 5] }],
    // Shared along axis 1 only: the first and third coordinates (stride 20 and 5) count.
    [[2, 3, 4, 5], { rate: 0.5, seed: 77, noiseShape: [2, 1, 4, 5] }],
    // Leading dims of 2, not 1: the shader's one-axis shortcut must not be taken.
    [[2, 2, 2, 5], { rate: 0.5, seed: 5, noiseShape: [2, 1, 2, 5] }],
  ];
  for (const [shape, settings] of cases) {
    it(`equals the reference bit for bit, forward and backward ([${shape.join(', ')}], rate ${settings.rate}, noise ${settings.noiseShape?.join('x') ?? 'full'})`, async () => {
      const size = shape.reduce((a, b) => a * b, 1);
      const xs = randomFloats(size, size);
      const dys = randomFloats(size, size + 1);
      for (const step of [0, 1, 2 ** 31 - 1]) {
        const s = stepTensor(step);
        const y = dropoutForward(gpu(), gpu().upload(xs, shape), s, settings);
        // The backward pass is the same map on dy.
        const dx = dropoutForward(gpu(), gpu().upload(dys, shape), s, settings);
        expect(y.shape).toEqual(shape);
        const values = Array.from(await y.read());
        expect(values).toEqual(Array.from(dropoutReference(xs, shape, step, settings)));
        // Not a trivial mask: past a few dozen elements some are dropped and some kept.
        const oneDraw = settings.noiseShape?.every((d) => d === 1);
        if (size > 30 && !oneDraw) expect([values.some((v) => v === 0), values.some((v) => v !== 0)]).toEqual([true, true]);
        // A noise shape of all 1s is one draw for the whole tensor: all kept or all dropped.
        if (oneDraw) expect(new Set(values.map((v, i) => v === 0 && xs[i] !== 0)).size).toBe(1);
        expect(Array.from(await dx.read())).toEqual(Array.from(dropoutReference(dys, shape, step, settings)));
      }
    });
  }

  it('keeps about 1 - rate of the elements, scaled by 1 / (1 - rate), and draws a fresh mask each step', async () => {
    const n = 20000;
    const ones = gpu().upload(new Float32Array(n).fill(1), [n]);
    const settings = { rate: 0.3, seed: 42 };
    const a = (await dropoutForward(gpu(), ones, stepTensor(5), settings).read()) as Float32Array;
    const b = (await dropoutForward(gpu(), ones, stepTensor(6), settings).read()) as Float32Array;
    const again = (await dropoutForward(gpu(), ones, stepTensor(5), settings).read()) as Float32Array;
    const kept = a.filter((v) => v !== 0);
    expect(kept.length / n).toBeGreaterThan(0.68);
    expect(kept.length / n).toBeLessThan(0.72);
    expect(new Set(kept)).toEqual(new Set([Math.fround(1 / 0.7)]));
    expect(Array.from(again)).toEqual(Array.from(a)); // same seed and step: same mask
    const changed = a.reduce((c, v, i) => c + ((v === 0) !== (b[i] === 0) ? 1 : 0), 0);
    expect(changed / n).toBeGreaterThan(0.3); // independent masks differ at 2·0.3·0.7 = 42% of elements
    const otherSeed = (await dropoutForward(gpu(), ones, stepTensor(5), { rate: 0.3, seed: 43 }).read()) as Float32Array;
    expect(otherSeed.some((v, i) => (v === 0) !== (a[i] === 0))).toBe(true);
  });

  it('keeps an element whose draw equals the threshold: Keras keeps where the uniform draw >= rate', async () => {
    const [n, seed, step] = [64, 21, 4];
    const draws = Array.from({ length: n }, (_, i) => dropoutDraw(seed, step, i));
    const at = draws.indexOf([...draws].sort((a, b) => a - b)[n / 2]);
    // rate = draw / 2^24 exactly: the shader's dropBelow, round(rate · 2^24), is that draw.
    const settings = { rate: draws[at] / 2 ** 24, seed };
    expect(dropoutLayout('op', [n], settings).dropBelow).toBe(draws[at]);
    const y = (await dropoutForward(gpu(), gpu().upload(new Float32Array(n).fill(1)), stepTensor(step), settings).read()) as Float32Array;
    expect(y[at]).toBe(Math.fround(1 / (1 - settings.rate)));
    expect(Array.from(y, (v) => v !== 0)).toEqual(draws.map((d) => d >= draws[at]));
    expect(Array.from(y)).toEqual(Array.from(dropoutReference(new Float32Array(n).fill(1), [n], step, settings)));
  });

  it('shares the mask along the axes where the noise shape is 1', async () => {
    const shape = [3, 8, 4];
    const y = (await dropoutForward(gpu(), gpu().upload(new Float32Array(96).fill(1), shape), stepTensor(3), { rate: 0.5, seed: 9, noiseShape: [3, 1, 4] }).read()) as Float32Array;
    for (let b = 0; b < 3; b++) for (let t = 1; t < 8; t++) for (let d = 0; d < 4; d++) expect(y[(b * 8 + t) * 4 + d]).toBe(y[b * 32 + d]);
  });

  it('the draw is a fixed function of (seed, step, index): changing the hash (and so every seeded run) fails here', () => {
    expect([dropoutDraw(0, 0, 0), dropoutDraw(1, 0, 0), dropoutDraw(0, 1, 0), dropoutDraw(0, 0, 1)]).toEqual([9719733, 12159585, 13007976, 11730160]);
  });

  it('refuses a rate outside [0, 1), a bad seed or step, and a noise shape that does not broadcast', () => {
    const x = gpu().zeros([2, 3]);
    expect(() => dropoutForward(gpu(), x, stepTensor(0), { rate: 1, seed: 0 })).toThrow(/dropoutForward: rate must be in \[0, 1\), found 1/);
    expect(() => dropoutForward(gpu(), x, stepTensor(0), { rate: 0.5, seed: -1 })).toThrow(/seed must be an integer in \[0, 2\*\*32\), found -1/);
    expect(() => dropoutForward(gpu(), x, gpu().zeros([1]), { rate: 0.5, seed: 0 })).toThrow(/step must be an i32 tensor of one element, found f32 \[1\]/);
    expect(() => dropoutLayout('op', [2, 3], { rate: 0.5, seed: 0, noiseShape: [2, 2] })).toThrow(/op: noise shape \[2, 2\] does not broadcast to the input's \[2, 3\]/);
    expect(() => dropoutLayout('op', [1, 2, 3, 4, 5], { rate: 0.5, seed: 0, noiseShape: [1, 1, 3, 4, 5] })).toThrow(/rank 4 at most/);
  });
});

// Past 65,535 workgroups linearWorkgroups makes the dispatch 2-D, and only then does the shader's index
// gid.x + gid.y * nwg.x * WORKGROUP_SIZE use gid.y: TWO_D_INVOCATIONS (~16.8 M) invocations, the fewest
// that get there (test/large-dispatch.test.ts has the elementwise kernels'), every element checked.
describe('dropout kernel past 65,535 workgroups (a 2-D dispatch)', () => {
  const gpu = useGpu();

  it('reaches every element, with and without a broadcast noise shape', async () => {
    const n = TWO_D_INVOCATIONS;
    expect(linearWorkgroups(n, 256)[1]).toBeGreaterThan(1);
    const xs = filled(new Float32Array(n), (i) => ((i % 251) + 1) / 25);
    const step = gpu().upload(Int32Array.of(3), [1]);
    const settings = { rate: 0.5, seed: 17 };
    const y = (await dropoutForward(gpu(), gpu().upload(xs), step, settings).read()) as Float32Array;
    const want = dropoutReference(xs, [n], 3, settings);
    expect(firstMismatch(y, (i) => want[i])).toBe(-1);
    // [n / 8, 8] with the mask shared along each row: the shader's coordinates path.
    const shape = [n / 8, 8];
    const shared = { ...settings, noiseShape: [n / 8, 1] };
    const y2 = (await dropoutForward(gpu(), gpu().upload(xs, shape), step, shared).read()) as Float32Array;
    const want2 = dropoutReference(xs, shape, 3, shared);
    expect(firstMismatch(y2, (i) => want2[i])).toBe(-1);
  });
});
