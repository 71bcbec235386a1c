import { describe, expect, it } from 'vitest';
import { linearWorkgroups } from '../src/gpu/gpu.js';
import {
  bceBackward,
  bceBackwardReference,
  bceForward,
  bceFromLogitsBackward,
  bceFromLogitsBackwardReference,
  bceFromLogitsForward,
  bceFromLogitsLosses,
  bceFromLogitsReference,
  bceLosses,
  bceReference,
} from '../src/kernels/binary-crossentropy.js';
import { expectClose, filled, firstMismatch, randomFloats, TWO_D_INVOCATIONS, useGpu } from './gpu-helpers.js';

const CLIP_MIN = Math.fround(1e-7);
const CLIP_MAX = Math.fround(1 - 1e-7);

function randomLabels(n: number, seed: number): Float32Array {
  return randomFloats(n, seed, 0, 1).map((u) => (u < 0.5 ? 0 : 1));
}

/** Central differences of `f` (a float64 mean loss) at each element of `x`, with per-element steps `h`. */
function finiteDifferences(x: Float32Array, f: (x: Float64Array) => number, h: (v: number) => number): Float64Array {
  return Float64Array.from(x, (v, i) => {
    const at = (d: number) => {
      const xs = Float64Array.from(x);
      xs[i] = v + d;
      return f(xs);
    };
    return (at(h(v)) - at(-h(v))) / (2 * h(v));
  });
}

describe('binary cross-entropy kernels', () => {
  const gpu = useGpu();

  for (const b of [1, 3, 37, 512, 513]) {
    it(`from logits matches the reference, forward and backward (B = ${b})`, async () => {
      const zs = randomFloats(b, b, -8, 8);
      const ys = randomLabels(b, b + 1);
      const z = gpu().upload(zs);
      const y = gpu().upload(ys);
      const ref = bceFromLogitsReference(zs, ys);
      const { mean, perSample } = bceFromLogitsLosses(gpu(), z, y);
      expectClose(await mean.read(), [ref.mean], { atol: 1e-6, rtol: 1e-5 });
      expectClose(await perSample.read(), ref.perSample, { atol: 1e-6, rtol: 1e-5 });
      expectClose(await bceFromLogitsForward(gpu(), z, y).read(), [ref.mean], { atol: 1e-6, rtol: 1e-5 });
      expectClose(await bceFromLogitsBackward(gpu(), z, y).read(), bceFromLogitsBackwardReference(zs, ys), { atol: 1e-9, rtol: 1e-5 });
      expectClose(await bceFromLogitsBackward(gpu(), z, y, 0.25).read(), bceFromLogitsBackwardReference(zs, ys, 0.25), { atol: 1e-9, rtol: 1e-5 });
    });

    it(`from probabilities matches the reference, forward and backward (B = ${b})`, async () => {
      const ps = randomFloats(b, 2 * b, 0.001, 0.999);
      const ys = randomLabels(b, 2 * b + 1);
      const p = gpu().upload(ps);
      const y = gpu().upload(ys);
      const ref = bceReference(ps, ys);
      const { mean, perSample } = bceLosses(gpu(), p, y);
      expectClose(await mean.read(), [ref.mean], { atol: 1e-6, rtol: 1e-5 });
      expectClose(await perSample.read(), ref.perSample, { atol: 1e-6, rtol: 1e-5 });
      expectClose(await bceForward(gpu(), p, y).read(), [ref.mean], { atol: 1e-6, rtol: 1e-5 });
      expectClose(await bceBackward(gpu(), p, y, 2).read(), bceBackwardReference(ps, ys, 2), { atol: 1e-9, rtol: 1e-5 });
    });
  }

  it('accepts [B, 1] predictions and labels and keeps the shape in the gradient', async () => {
    const zs = randomFloats(5, 3, -2, 2);
    const ys = randomLabels(5, 4);
    const z = gpu().upload(zs, [5, 1]);
    const dz = bceFromLogitsBackward(gpu(), z, gpu().upload(ys));
    expect(dz.shape).toEqual([5, 1]);
    expectClose(await dz.read(), bceFromLogitsBackwardReference(zs, ys), { atol: 1e-9, rtol: 1e-5 });
    expectClose(await bceFromLogitsForward(gpu(), z, gpu().upload(ys, [5, 1])).read(), [bceFromLogitsReference(zs, ys).mean]);
  });

  it('stays finite and exact at extreme logits, where the probability form saturates at the clip', async () => {
    const zs = new Float32Array([50, -50, 1e4, -1e4, 50, -50, 1e4, -1e4, 0, 0]);
    const ys = new Float32Array([1, 1, 1, 1, 0, 0, 0, 0, 1, 0]);
    const z = gpu().upload(zs);
    const y = gpu().upload(ys);
    const losses = await bceFromLogitsLosses(gpu(), z, y).perSample.read();
    const grads = await bceFromLogitsBackward(gpu(), z, y).read();
    for (const v of [...losses, ...grads]) expect(Number.isFinite(v)).toBe(true);
    // Wrong by a margin of |z|: the loss is |z| itself, not -log(1e-7) = 16.1.
    expectClose(losses, bceFromLogitsReference(zs, ys).perSample, { atol: 1e-6, rtol: 1e-6 });
    expect(losses[1]).toBeCloseTo(50, 5);
    expect(losses[3]).toBe(1e4);
    expect(losses[8]).toBeCloseTo(Math.LN2, 6);
    expectClose(grads, bceFromLogitsBackwardReference(zs, ys), { atol: 1e-9, rtol: 1e-6 });

    // The same predictions as probabilities: sigmoid(-50) ~ 2e-22 is clipped, so the loss saturates at -log(1e-7).
    const ps = zs.map((v) => 1 / (1 + Math.exp(-v)));
    const saturated = await bceLosses(gpu(), gpu().upload(ps), y).perSample.read();
    expect(saturated[1]).toBeCloseTo(-Math.log(CLIP_MIN), 4);
    expect(saturated[3]).toBeCloseTo(-Math.log(CLIP_MIN), 4);
  });

  // sigmoidMinusLabel takes TF's arrangement for z >= 0, (1 - y) - sigmoid(-z), at z = ±0 too, where
  // sigmoid(-0) = 0.5: with a label that is not 0 or 1 it rounds twice, and differs from 0.5 - y
  // (one rounding) in the last bit for these labels.
  it('from logits at z = ±0: the gradient is (1 - y) - 0.5 in float32, as TF arranges it for z >= 0', async () => {
    const labels = [0.1, 0.3, 0.7].map(Math.fround);
    const arranged = labels.map((y) => Math.fround(Math.fround(1 - y) - 0.5));
    expect(arranged.some((g, i) => g !== Math.fround(0.5 - labels[i]))).toBe(true);
    for (const z of [0, -0]) {
      // One sample: the gradient's scale 1 / B is 1, so the kernel's value is read unrounded further.
      const got = await Promise.all(labels.map((y) => bceFromLogitsBackward(gpu(), gpu().upload(Float32Array.of(z)), gpu().upload(Float32Array.of(y))).read()));
      expect(got.map((g) => g[0]), `z = ${Object.is(z, -0) ? '-0' : z}`).toEqual(arranged);
    }
  });

  it('clips probabilities at and beyond the bounds, with clip_by_value gradients', async () => {
    // Outside [CLIP_MIN, CLIP_MAX] (0, 1e-9, 1, 1.5, -0.5): clamped loss, zero gradient; on the bounds: gradient passes.
    const ps = new Float32Array([0, 0, 1e-9, 1e-9, 1, 1, CLIP_MIN, CLIP_MIN, CLIP_MAX, CLIP_MAX, 1.5, -0.5, 0.5]);
    const ys = new Float32Array([0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 1]);
    const p = gpu().upload(ps);
    const y = gpu().upload(ys);
    const losses = await bceLosses(gpu(), p, y).perSample.read();
    const grads = await bceBackward(gpu(), p, y).read();
    expectClose(losses, bceReference(ps, ys).perSample, { atol: 2e-6, rtol: 1e-5 });
    expectClose(grads, bceBackwardReference(ps, ys), { atol: 1e-9, rtol: 1e-5 });
    expect([0, 1, 2, 3, 4, 5, 10, 11].map((i) => grads[i])).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    for (const i of [6, 7, 8, 9, 12]) expect(grads[i]).not.toBe(0);
    expect(losses[1]).toBeCloseTo(-Math.log(CLIP_MIN), 4); // p = 0, y = 1
    expect(losses[4]).toBeCloseTo(-Math.log(1 - CLIP_MAX), 4); // p = 1, y = 0
  });

  it('backward forms agree with finite differences of the float64 references', async () => {
    const b = 9;
    const ys = randomLabels(b, 11);
    const y = gpu().upload(ys);

    const zs = randomFloats(b, 12, -4, 4);
    const zNumeric = finiteDifferences(zs, (x) => bceFromLogitsReference(x, ys).mean, () => 1e-5);
    expectClose(bceFromLogitsBackwardReference(zs, ys), zNumeric, { atol: 1e-9, rtol: 1e-6 });
    expectClose(await bceFromLogitsBackward(gpu(), gpu().upload(zs), y).read(), zNumeric, { atol: 1e-8, rtol: 1e-5 });

    // Two points sit in the clipped regions, with steps small enough to stay there.
    const ps = randomFloats(b, 13, 0.05, 0.95);
    ps[0] = 1e-9;
    ps[1] = 0.99999999;
    const pNumeric = finiteDifferences(ps, (x) => bceReference(x, ys).mean, (v) => (v < 0.01 || v > 0.99 ? 1e-12 : 1e-7));
    expect([pNumeric[0], pNumeric[1]]).toEqual([0, 0]);
    expectClose(bceBackwardReference(ps, ys), pNumeric, { atol: 1e-8, rtol: 1e-6 });
    expectClose(await bceBackward(gpu(), gpu().upload(ps), y).read(), pNumeric, { atol: 1e-8, rtol: 1e-5 });
  });

  it('rejects mismatched shapes with a RangeError naming the op', () => {
    const z = gpu().upload(new Float32Array(4));
    expect(() => bceFromLogitsForward(gpu(), z, gpu().upload(new Float32Array(3)))).toThrow(/bceFromLogits: labels must have shape \[4\] or \[4, 1\].*found \[3\]/);
    expect(() => bceBackward(gpu(), gpu().upload(new Float32Array(6), [2, 3]), z)).toThrow(RangeError);
    expect(() => bceBackward(gpu(), gpu().upload(new Float32Array(6), [2, 3]), z)).toThrow(/bceBackward: probs must have shape \[B\] or \[B, 1\]/);
  });
});

// Past 65,535 workgroups linearWorkgroups makes the dispatch 2-D, and only then does the shader's index
// gid.x + gid.y * nwg.x * WORKGROUP_SIZE use gid.y: TWO_D_INVOCATIONS (~16.8 M) invocations, the fewest
// that get there (test/large-dispatch.test.ts has the elementwise kernels'), every element checked.
describe('binary cross-entropy backward past 65,535 workgroups (a 2-D dispatch)', () => {
  const gpu = useGpu();

  it('reaches every sample, from logits and from probabilities', async () => {
    const n = TWO_D_INVOCATIONS;
    expect(linearWorkgroups(n, 256)[1]).toBeGreaterThan(1);
    const logits = filled(new Float32Array(n), (i) => ((i % 251) - 125) / 25);
    // Probabilities 0 to 1 in steps of 1/252: the clipped ends (gradient 0) included.
    const probs = filled(new Float32Array(n), (i) => (i % 253) / 252);
    const labels = filled(new Float32Array(n), (i) => (i % 3 === 0 ? 1 : 0));
    const y = gpu().upload(labels);
    // Scale n: the shader's gradScale is n / n = 1, so each gradient is of order 1 (and never 0 from logits).
    const dz = (await bceFromLogitsBackward(gpu(), gpu().upload(logits), y, n).read()) as Float32Array;
    const wantZ = bceFromLogitsBackwardReference(logits, labels, n);
    expect(firstMismatch(dz, (i) => wantZ[i], { atol: 1e-6, rtol: 1e-5 })).toBe(-1);
    const dp = (await bceBackward(gpu(), gpu().upload(probs), y, n).read()) as Float32Array;
    const wantP = bceBackwardReference(probs, labels, n);
    expect(firstMismatch(dp, (i) => wantP[i], { atol: 1e-6, rtol: 1e-5 })).toBe(-1);
  });
});
