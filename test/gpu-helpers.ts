/** Shared pieces of the GPU tests: one device per test file, and closeness checks. */
import { afterAll, beforeAll, expect } from 'vitest';
import { Gpu } from '../src/gpu/gpu.js';

/** A Gpu for the calling test file, created before its tests and destroyed after. */
export function useGpu(): () => Gpu {
  let gpu: Gpu | undefined;
  beforeAll(async () => {
    gpu = await Gpu.create();
  });
  afterAll(() => gpu?.close());
  return () => gpu!;
}

/** Every element within `atol + rtol * |expected|`; reports the first that is not. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, { atol = 1e-5, rtol = 1e-4 } = {}): void {
  expect(actual.length, 'length').toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    // An infinite or NaN expectation is met only by itself: its tolerance would be infinite or NaN.
    if (!Number.isFinite(expected[i])) {
      if (!Object.is(actual[i], expected[i])) expect.fail(`element ${i}: ${actual[i]} where ${expected[i]} was expected`);
      continue;
    }
    const tolerance = atol + rtol * Math.abs(expected[i]);
    if (!(Math.abs(actual[i] - expected[i]) <= tolerance)) {
      expect.fail(`element ${i}: ${actual[i]} is not within ${tolerance} of ${expected[i]}`);
    }
  }
}

/** Deterministic pseudo-random floats in [lo, hi) (a small LCG; tests only). */
export function randomFloats(n: number, seed = 1, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((s >>> 8) / 2 ** 24) * (hi - lo);
  });
}

/** Deterministic pseudo-random ids in [0, range). */
export function randomIds(n: number, seed: number, range: number): Int32Array {
  return Int32Array.from(randomFloats(n, seed, 0, range), (v) => Math.min(range - 1, Math.floor(v)));
}

/**
 * Reviews of `steps` token ids (zero padding after a length of at least `minLength`), labelled by
 * whether ids of at least `highFrom` dominate; `skewed` draws small ids more often, as word
 * frequencies are (many repeats within a review).
 */
export function syntheticReviews(
  samples: number,
  seed: number,
  o: { vocab: number; steps: number; minLength: number; highFrom: number; skewed: boolean },
): { x: { data: Int32Array; shape: [number, number] }; y: Uint8Array } {
  let s = seed;
  const next = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 8) / 2 ** 24;
  const data = new Int32Array(samples * o.steps);
  const y = new Uint8Array(samples);
  for (let r = 0; r < samples; r++) {
    const length = o.minLength + Math.floor(next() * (o.steps - o.minLength));
    let high = 0;
    for (let t = 0; t < length; t++) {
      const u = next();
      const id = 1 + Math.floor((o.skewed ? u * u : u) * (o.vocab - 1));
      data[r * o.steps + t] = id;
      high += id >= o.highFrom ? 1 : -1;
    }
    y[r] = high > 0 ? 1 : 0;
  }
  return { x: { data, shape: [samples, o.steps] }, y };
}

/**
 * d loss / d values[i] for every i by central differences (values[i] ± h, put back after): the
 * finite-difference side of the kernels' gradient checks. `loss` reads `values` in place.
 */
export function centralDifferences(values: Float64Array, loss: () => number, h: number): Float64Array {
  return values.map((v, i) => {
    values[i] = v + h;
    const up = loss();
    values[i] = v - h;
    const down = loss();
    values[i] = v;
    return (up - down) / (2 * h);
  });
}

/**
 * Invocations that take a dispatch of 256-invocation workgroups past 65,535 workgroups, where
 * `linearWorkgroups` makes it 2-D: only then does a shader's `gid.y * nwg.x * WORKGROUP_SIZE`
 * term reach an element (see test/large-dispatch.test.ts).
 */
export const TWO_D_INVOCATIONS = 65_535 * 256 + 1_000;

/** The first index where `got` differs from `want(i)` by more than `atol + rtol · |want(i)|`, or -1. */
export function firstMismatch(got: ArrayLike<number>, want: (i: number) => number, { atol = 0, rtol = 0 } = {}): number {
  for (let i = 0; i < got.length; i++) {
    const w = want(i);
    if (!(Math.abs(got[i] - w) <= atol + rtol * Math.abs(w))) return i;
  }
  return -1;
}

/** `array` with element i set to f(i): a plain loop, several times faster than `Float32Array.from({ length })` at millions of elements. */
export function filled<T extends Float32Array | Int32Array>(array: T, f: (i: number) => number): T {
  for (let i = 0; i < array.length; i++) array[i] = f(i);
  return array;
}
