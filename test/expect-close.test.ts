/** The tests' float comparison itself: a tolerance must not let a wrong value through. */
import { describe, expect, it } from 'vitest';
import { expectClose } from './gpu-helpers.js';

describe('expectClose', () => {
  it('accepts values within atol + rtol·|expected| and names the first that is not', () => {
    expectClose([1, 2.0001], [1, 2], { atol: 0, rtol: 1e-4 });
    expect(() => expectClose([1, 2.001], [1, 2], { atol: 0, rtol: 1e-4 })).toThrow('element 1: 2.001 is not within 0.0002 of 2');
    expect(() => expectClose([1], [1, 2])).toThrow('length');
  });

  it('meets an infinite or NaN expectation only with the same value (its tolerance would be infinite or NaN)', () => {
    expectClose([Infinity, -Infinity, NaN], [Infinity, -Infinity, NaN]);
    expect(() => expectClose([5], [Infinity])).toThrow('element 0: 5 where Infinity was expected');
    expect(() => expectClose([Infinity], [-Infinity])).toThrow('element 0: Infinity where -Infinity was expected');
    expect(() => expectClose([1], [NaN])).toThrow('element 0: 1 where NaN was expected');
    expect(() => expectClose([NaN], [1])).toThrow('element 0: NaN is not within');
  });
});
