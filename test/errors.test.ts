/**
 * src/data/errors.ts on its own: how a DataError's one line is put together from its parts, how an
 * untrusted value is cut and escaped (`excerpt`), and how a value is quoted (`quoteValue`). The
 * readers' tests check the same through real files; these pin the boundaries.
 */
import { describe, expect, it } from 'vitest';
import { DataError, DatasetError, excerpt, MAX_EXCERPT, MAX_MESSAGE, NpyFormatError, quoteValue } from '../src/data/errors.js';

describe('DataError', () => {
  it('is one line: file, member, offset, problem, expected and found', () => {
    const error = new NpyFormatError('bad thing', { file: 'a.npz', member: 'x.npy', offset: 12, expected: 'one', found: 'two' });
    expect(error.message).toBe('a.npz: x.npy at byte 12: bad thing (expected one, found two)');
    expect(error.name).toBe('NpyFormatError');
    expect(error).toBeInstanceOf(DataError);
    expect([error.problem, error.file, error.member, error.offset, error.expected, error.found]).toEqual(['bad thing', 'a.npz', 'x.npy', 12, 'one', 'two']);
  });

  it('leaves out the parts it is not given', () => {
    expect(new DatasetError('bad').message).toBe('bad');
    expect(new DatasetError('bad', { file: 'f' }).message).toBe('f: bad');
    expect(new DatasetError('bad', { member: 'm', offset: 0 }).message).toBe('m at byte 0: bad');
    // An offset with nothing to name (a buffer read without a file) starts the line.
    expect(new DatasetError('bad', { offset: 7 }).message).toBe('at byte 7: bad');
    expect(new DatasetError('bad', { expected: 'e' }).message).toBe('bad (expected e, found ?)');
    expect(new DatasetError('bad', { found: 'f' }).message).toBe('bad (expected ?, found f)');
  });

  it('cuts every part so that the whole stays within MAX_MESSAGE characters', () => {
    const long = 'x'.repeat(5000);
    const error = new DatasetError(long, { file: long, member: long, offset: 1, expected: long, found: long });
    expect(error.message.length).toBeLessThanOrEqual(MAX_MESSAGE);
    expect(error.message.startsWith(`${'x'.repeat(150)}... (5000 characters in all): ${'x'.repeat(150)}...`)).toBe(true);
    expect(error.message).toContain(`(expected ${'x'.repeat(150)}... (5000 characters in all), found ${'x'.repeat(150)}...`);
    // The problem gets what the other parts leave, and never less than they each get.
    const problem = error.message.match(/at byte 1: (x+)\.\.\. /)![1];
    expect(problem.length).toBeGreaterThanOrEqual(150);
    expect(new DatasetError(long).message).toBe(`${'x'.repeat(MAX_MESSAGE - 40)}... (5000 characters in all)`);
  });
});

describe('excerpt', () => {
  it('keeps text up to its limit whole, and cuts longer text saying how long it was', () => {
    expect(excerpt('abc', 3)).toBe('abc');
    expect(excerpt('abcd', 3)).toBe('abc... (4 characters in all)');
    expect(excerpt('y'.repeat(MAX_EXCERPT))).toBe('y'.repeat(MAX_EXCERPT));
    expect(excerpt('y'.repeat(MAX_EXCERPT + 1))).toBe(`${'y'.repeat(MAX_EXCERPT)}... (${MAX_EXCERPT + 1} characters in all)`);
  });

  it('escapes control characters as \\xNN, cutting the escaped text to the limit', () => {
    expect(excerpt('a\nb\u001f\u007f\u0000')).toBe('a\\x0ab\\x1f\\x7f\\x00');
    expect(excerpt(' ~\u0080')).toBe(' ~\u0080');
    expect(excerpt('\n\n', 5)).toBe('\\x0a\\... (2 characters in all)');
  });
});

describe('quoteValue', () => {
  it('quotes primitives and short lists of primitives as JSON', () => {
    expect(quoteValue('abc')).toBe('"abc"');
    expect(quoteValue(5)).toBe('5');
    expect(quoteValue(null)).toBe('null');
    expect(quoteValue(undefined)).toBe('undefined');
    expect(quoteValue([1, 'a', null, true, 5, 6, 7, 8])).toBe('[1,"a",null,true,5,6,7,8]');
  });

  it('names long lists, nested lists and objects by their kind', () => {
    expect(quoteValue([1, 2, 3, 4, 5, 6, 7, 8, 9])).toBe('a list of 9');
    expect(quoteValue([[1]])).toBe('a list of 1');
    expect(quoteValue([{}])).toBe('a list of 1');
    expect(quoteValue([1, [2]])).toBe('a list of 2');
    expect(quoteValue({ a: 1 })).toBe('an object');
  });

  it('cuts a long string', () => {
    expect(quoteValue('z'.repeat(300))).toBe(`"${'z'.repeat(MAX_EXCERPT - 1)}... (302 characters in all)`);
  });
});
