// Edges of src/data/text.ts that test/text.test.ts leaves open (StrykerJS survivors).
import { describe, expect, it } from 'vitest';
import { encodeReview, textToWordSequence } from '../src/data/text.js';

describe('textToWordSequence filter characters', () => {
  it("a filter set that starts with '^' is not a negated class", () => {
    expect(textToWordSequence('a^b c', { filters: '^!' })).toEqual(['a', 'b', 'c']);
  });

  it("'-' between two filters is not a range", () => {
    // An unescaped [a-c] would filter 'b' too.
    expect(textToWordSequence('abc', { filters: 'a-c' })).toEqual(['b']);
  });

  it('works by code point: an astral filter leaves other astral characters whole', () => {
    // Without the `u` flag the class would hold the surrogate halves of 😀 and cut 😁 (same high half).
    expect(textToWordSequence('x😀y😁z', { filters: '😀' })).toEqual(['x', 'y😁z']);
  });

  it('replaces every filter occurrence, each by the split string', () => {
    expect(textToWordSequence('a.b.c', { filters: '.', split: '--' })).toEqual(['a', 'b', 'c']);
    // Reused filters (the pattern cache) give the same answer.
    expect(textToWordSequence('a.b.c', { filters: '.', split: '--' })).toEqual(['a', 'b', 'c']);
  });

  it('names the empty split', () => {
    expect(() => textToWordSequence('a b', { split: '' })).toThrow('textToWordSequence: split must not be empty');
  });
});

describe('encodeReview option checks', () => {
  const index = new Map([['the', 1]]);
  it('names the bad option and its value', () => {
    expect(() => encodeReview('the', index, { numWords: -1 })).toThrow('encodeReview: numWords must be a non-negative integer, got -1');
    expect(() => encodeReview('the', index, { indexFrom: 1.5 })).toThrow('encodeReview: indexFrom must be a non-negative integer, got 1.5');
    expect(() => encodeReview('the', index, { startChar: -2 })).toThrow('encodeReview: startChar must be a non-negative integer, got -2');
    expect(() => encodeReview('the', index, { oovChar: 2 ** 53 })).toThrow('encodeReview: oovChar must be a non-negative integer');
  });

  it('accepts zeros', () => {
    expect(Array.from(encodeReview('the the', index, { numWords: 0, indexFrom: 0, startChar: 0, oovChar: 0 }))).toEqual([0, 0, 0]);
  });
});
