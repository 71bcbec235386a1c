// Edges of src/data/random-state.ts that the numpy fixtures leave open (StrykerJS survivors).
import { describe, expect, it } from 'vitest';
import { RandomState, shuffledIndices } from '../src/data/random-state';

/** An array-like of the given length whose first write throws STARTED: the shuffle's loop began. */
function hugeArrayLike(length: number): unknown[] {
  return new Proxy({ length } as unknown as unknown[], {
    set() {
      throw new Error('STARTED');
    },
  });
}

describe('RandomState edges', () => {
  it('randomInterval(0) returns 0 without drawing, as distributions.c random_interval does', () => {
    // `if (max == 0) return 0;` comes before any next_uint32 in numpy.
    const rng = new RandomState(113);
    const fresh = new RandomState(113);
    expect(rng.randomInterval(0)).toBe(0);
    expect(rng.randomInterval(0)).toBe(0);
    expect(rng.nextUint32()).toBe(fresh.nextUint32());
  });

  it('randomInterval(2**32 - 1) is the raw word: an all-ones mask rejects nothing', () => {
    const rng = new RandomState(7);
    const fresh = new RandomState(7);
    for (let i = 0; i < 5; i++) expect(rng.randomInterval(0xffffffff)).toBe(fresh.nextUint32());
  });

  it('names the problem in randomInterval and shuffledIndices errors', () => {
    const rng = new RandomState(0);
    expect(() => rng.randomInterval(-1)).toThrow('randomInterval max must be a non-negative integer, got -1');
    expect(() => rng.randomInterval(0.5)).toThrow('randomInterval max must be a non-negative integer, got 0.5');
    expect(() => rng.randomInterval(2 ** 32)).toThrow(`randomInterval max ${2 ** 32} > 2**32 - 1 needs numpy's 64-bit branch`);
    // Int32Array(1.5) or Int32Array(-1) would throw a RangeError of its own: check ours.
    expect(() => shuffledIndices(rng, 1.5)).toThrow('shuffledIndices n must be an integer in [0, 2**31), got 1.5');
    expect(() => shuffledIndices(rng, -1)).toThrow('shuffledIndices n must be an integer in [0, 2**31), got -1');
    expect(() => shuffledIndices(rng, 2 ** 31)).toThrow('shuffledIndices n must be an integer in [0, 2**31)');
  });

  it('shuffledIndices(rng, 0) is empty and draws nothing', () => {
    const rng = new RandomState(5);
    expect(shuffledIndices(rng, 0)).toEqual(new Int32Array(0));
    expect(shuffledIndices(rng, 1)).toEqual(Int32Array.of(0));
    expect(rng.nextUint32()).toBe(new RandomState(5).nextUint32());
  });

  it('shuffle refuses lengths past 2**32 (numpy would need random_interval`s 64-bit branch) and starts at 2**32', () => {
    const rng = new RandomState(0);
    expect(() => rng.shuffle(hugeArrayLike(2 ** 32 + 1))).toThrow(
      `shuffle of length ${2 ** 32 + 1} needs numpy's 64-bit random_interval branch, which is not ported`,
    );
    // n - 1 = 2**32 - 1 still fits the 32-bit branch: the loop starts (and the proxy stops it).
    expect(() => rng.shuffle(hugeArrayLike(2 ** 32))).toThrow('STARTED');
  });

  it('shuffle never writes x[0] on its own: the loop stops at i = 1, as numpy`s reversed(range(1, n))', () => {
    // A frozen array throws on any write (ES modules are strict), so a last x[0] <-> x[0] swap would show.
    const rng = new RandomState(3);
    expect(() => rng.shuffle(Object.freeze([7]) as unknown as number[])).not.toThrow();
    expect(() => rng.shuffle(Object.freeze([]) as unknown as number[])).not.toThrow();
    expect(rng.nextUint32()).toBe(new RandomState(3).nextUint32());
  });
});
