import { describe, expect, it } from 'vitest';
import { DEFAULT_FILTERS, encodeReview, textToWordSequence } from '../src/data/text.js';

// Expected lists are what keras.preprocessing.text.text_to_word_sequence returns (run in Python).
describe('textToWordSequence matches Keras', () => {
  it('lower-cases, turns punctuation into spaces and drops empty words', () => {
    expect(textToWordSequence('This film was BRILLIANT!  Really...')).toEqual(['this', 'film', 'was', 'brilliant', 'really']);
    expect(textToWordSequence('x--y')).toEqual(['x', 'y']);
    expect(textToWordSequence('   ')).toEqual([]);
    expect(textToWordSequence('')).toEqual([]);
  });

  it('keeps apostrophes: they are not in the default filters', () => {
    expect(DEFAULT_FILTERS).not.toContain("'");
    expect(textToWordSequence("Don't miss it -- it's great (10/10)")).toEqual(["don't", 'miss', 'it', "it's", 'great', '10', '10']);
  });

  it('filters every default character, tab and newline included, but no other whitespace', () => {
    // 'a' f1 'b' f2 'b' ... 'c': every filter character separates two words.
    expect(textToWordSequence(`a${DEFAULT_FILTERS.split('').join('b')}c`)).toEqual(['a', ...'b'.repeat(DEFAULT_FILTERS.length - 1), 'c']);
    expect(textToWordSequence('tab\there\nnewline')).toEqual(['tab', 'here', 'newline']);
    // Python's split(' ') splits on the space only: \r, no-break and em spaces stay inside words.
    expect(textToWordSequence('a\r\nb c\u00a0d\u2003e')).toEqual(['a\r', 'b', 'c\u00a0d\u2003e']);
  });

  it('lower-cases beyond ASCII as Python does', () => {
    expect(textToWordSequence('ÉCOLE Straße ΟΔΟΣ')).toEqual(['école', 'straße', 'οδος']);
  });

  it('takes filters, lower and split', () => {
    expect(textToWordSequence('a,b;;c', { filters: ',;', split: '|' })).toEqual(['a', 'b', 'c']);
    expect(textToWordSequence('A.B', { lower: false })).toEqual(['A', 'B']);
    expect(textToWordSequence('aXXbXXXXc', { filters: '', lower: false, split: 'XX' })).toEqual(['a', 'b', 'c']);
    // Regex syntax characters in the filters are literal characters.
    expect(textToWordSequence('a]b\\c^d-e', { filters: ']\\^-' })).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(() => textToWordSequence('a b', { split: '' })).toThrow(RangeError);
  });

  it('stays linear on a megabyte of text', () => {
    const text = 'What a film, really! '.repeat(50_000);
    const started = performance.now();
    expect(textToWordSequence(text)).toHaveLength(200_000);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('encodeReview builds a review as load_data gives it', () => {
  // Ranks from imdb_word_index.json.
  const index = new Map([
    ['the', 1],
    ['a', 3],
    ['this', 11],
    ['was', 13],
    ['film', 19],
    ["it's", 42],
    ['brilliant', 527],
    ['zzzz', 57438],
  ]);

  it('starts with the start char and adds indexFrom to each rank', () => {
    expect(Array.from(encodeReview('This film was brilliant.', index))).toEqual([1, 14, 22, 16, 530]);
    expect(encodeReview('x', index)).toBeInstanceOf(Int32Array);
  });

  it('drops words missing from the index, as the dataset was built', () => {
    expect(Array.from(encodeReview('the unknownword film', index))).toEqual([1, 4, 22]);
    expect(Array.from(encodeReview('', index))).toEqual([1]);
  });

  it('maps ids at or above numWords to the oov char', () => {
    expect(Array.from(encodeReview("zzzz it's", index))).toEqual([1, 2, 45]);
    // 527 + 3 = 530 is the first id cut when numWords is 530.
    expect(Array.from(encodeReview('brilliant the', index, { numWords: 530 }))).toEqual([1, 2, 4]);
    expect(Array.from(encodeReview('brilliant the', index, { numWords: 531 }))).toEqual([1, 530, 4]);
  });

  it('takes indexFrom, startChar and oovChar', () => {
    expect(Array.from(encodeReview('the film zzzz', index, { indexFrom: 0, startChar: 7, oovChar: 9 }))).toEqual([7, 1, 19, 9]);
    expect(() => encodeReview('the', index, { numWords: -1 })).toThrow(RangeError);
  });
});
