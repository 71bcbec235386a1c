import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RandomState, shuffledIndices } from '../src/data/random-state';

// Written by test/fixtures/random-state/make_expected.py from numpy's legacy RandomState.
interface Summary {
  n: number;
  first: number[];
  last: number[];
  weightedSum: number;
  polyHash: number;
}
interface Expected {
  numpy: string;
  seeds: {
    seed: number;
    raw: Record<string, number[]>;
    shuffles: Record<string, number[]>;
    big: Summary;
  }[];
  keras: { seed: number; train: Summary; test: Summary };
  intervals113: Record<string, number[]>;
}

const expected = JSON.parse(
  readFileSync(new URL('./fixtures/random-state/expected.json', import.meta.url), 'utf8'),
) as Expected;

/** Same summary as make_expected.py `summarize`. */
function summarize(a: ArrayLike<number>): Summary {
  let w = 0;
  let h = 0;
  for (let i = 0; i < a.length; i++) {
    w = (w + Math.imul(i, a[i])) >>> 0;
    h = (Math.imul(h, 31) + a[i]) >>> 0;
  }
  const all = Array.from(a);
  return {
    n: a.length,
    first: all.slice(0, 50),
    last: all.slice(-50),
    weightedSum: w,
    polyHash: h,
  };
}

function isPermutation(a: ArrayLike<number>): boolean {
  const seen = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (!(v >= 0 && v < a.length) || seen[v]) return false;
    seen[v] = 1;
  }
  return true;
}

describe('RandomState (numpy legacy MT19937)', () => {
  it('fixture covers the expected seeds', () => {
    expect(expected.seeds.map((s) => s.seed)).toEqual([0, 1, 113, 2 ** 32 - 1, 12345]);
  });

  for (const entry of expected.seeds) {
    describe(`seed ${entry.seed}`, () => {
      it('nextUint32 matches MT19937 random_raw, across block regenerations', () => {
        const rng = new RandomState(entry.seed);
        const draws: number[] = [];
        for (let i = 0; i < 1250; i++) draws.push(rng.nextUint32());
        for (const [start, want] of Object.entries(entry.raw)) {
          const s = Number(start);
          expect(draws.slice(s, s + want.length)).toEqual(want);
        }
      });

      for (const [n, want] of Object.entries(entry.shuffles)) {
        it(`shuffle(arange(${n})) matches numpy for JS arrays and typed arrays`, () => {
          const arr = Array.from({ length: Number(n) }, (_, i) => i);
          new RandomState(entry.seed).shuffle(arr);
          expect(arr).toEqual(want);
          const typed = shuffledIndices(new RandomState(entry.seed), Number(n));
          expect(Array.from(typed)).toEqual(want);
        });
      }

      it('shuffle(arange(25000)) matches numpy summary', () => {
        const got = shuffledIndices(new RandomState(entry.seed), entry.big.n);
        expect(isPermutation(got)).toBe(true);
        expect(summarize(got)).toEqual(entry.big);
      });
    });
  }

  it('reproduces keras imdb.load_data: train then test shuffle on one rng', () => {
    const { keras } = expected;
    const rng = new RandomState(keras.seed);
    const train = shuffledIndices(rng, keras.train.n);
    const test = shuffledIndices(rng, keras.test.n);
    expect(summarize(train)).toEqual(keras.train);
    expect(summarize(test)).toEqual(keras.test);
    // The second shuffle must continue the stream, not restart it.
    expect(summarize(test)).not.toEqual(keras.train);
  });

  it('shuffles arrays of any element type identically', () => {
    const idx = shuffledIndices(new RandomState(113), 100);
    const words = Array.from({ length: 100 }, (_, i) => `w${i}`);
    new RandomState(113).shuffle(words);
    expect(words).toEqual(Array.from(idx, (i) => `w${i}`));
    const floats = Float64Array.from({ length: 100 }, (_, i) => i + 0.5);
    new RandomState(113).shuffle(floats);
    expect(Array.from(floats)).toEqual(Array.from(idx, (i) => i + 0.5));
  });

  for (const [max, want] of Object.entries(expected.intervals113)) {
    it(`randomInterval(${max}) matches numpy`, () => {
      const rng = new RandomState(113);
      const got = Array.from({ length: want.length }, () => rng.randomInterval(Number(max)));
      expect(got).toEqual(want);
    });
  }

  it('rejects bad seeds with a RangeError naming the value', () => {
    for (const bad of [-1, 2 ** 32, 1.5, Number.NaN, Infinity]) {
      expect(() => new RandomState(bad)).toThrow(RangeError);
      expect(() => new RandomState(bad)).toThrow(String(bad));
    }
  });

  it('rejects unported or invalid randomInterval / shuffledIndices arguments', () => {
    const rng = new RandomState(0);
    expect(() => rng.randomInterval(2 ** 32)).toThrow(RangeError);
    expect(() => rng.randomInterval(-1)).toThrow(RangeError);
    expect(() => rng.randomInterval(0.5)).toThrow(RangeError);
    expect(() => shuffledIndices(rng, 2 ** 31)).toThrow(RangeError);
    expect(() => shuffledIndices(rng, -1)).toThrow(RangeError);
  });

  it("randomSample() is numpy's random_sample()", () => {
    // python3 -c "import numpy as np; print(np.random.RandomState(113).random_sample(3).tolist())"
    const rng = new RandomState(113);
    expect([rng.randomSample(), rng.randomSample(), rng.randomSample()]).toEqual([0.8519854927300882, 0.07390359884225994, 0.8949317626986235]);
  });
});
