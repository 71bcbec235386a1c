/**
 * Edges of src/data/sequences.ts that StrykerJS found untested (bench/results/stryker-mutation.json):
 * the offsets check, get()'s range, the int32 bounds (inclusive at both ends), a shared empty list,
 * the zero-copy path for compact lists, and the messages' expected/found fields. Mutants left alive
 * there are equivalent: filling the padding with 0 when it is 0 already (`value !== 0`), a sequence
 * exactly maxlen long taken through the truncation branch (`s.subarray(0)` is the whole of it), an
 * empty `offsets` (the next check fails it anyway), and compact ints copied one by one instead of
 * with `set`.
 */
import { describe, expect, it } from 'vitest';
import { DatasetError } from '../src/data/errors.js';
import { IntList, unpickle, type PyValue } from '../src/data/pickle.js';
import { padSequences, Sequences, sequencesFromPyLists } from '../src/data/sequences.js';
import { expectDataError } from './helpers.js';

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

describe('Sequences', () => {
  it('refuses offsets that do not run from 0 to the number of values', () => {
    const values = Int32Array.of(1, 2, 3);
    for (const offsets of [Int32Array.of(), Int32Array.of(1, 3), Int32Array.of(0, 2), Int32Array.of(0, 4)]) {
      expect(() => new Sequences(values, offsets), `[${offsets.join(', ')}]`).toThrow(/^Sequences: offsets must run from 0 to 3$/);
    }
    expect(new Sequences(values, Int32Array.of(0, 1, 3)).toArrays()).toEqual([[1], [2, 3]]);
  });

  it('get(i) is a view of sequence i, and a RangeError naming i outside [0, length)', () => {
    const seqs = Sequences.fromArrays([[4, 5], [6]]);
    expect(Array.from(seqs.get(1))).toEqual([6]);
    expect(seqs.get(0).buffer).toBe(seqs.values.buffer);
    for (const i of [-1, 2, Number.NaN]) expect(() => seqs.get(i)).toThrow(new RangeError(`sequence ${i} out of range [0, 2)`));
  });
});

describe('sequencesFromPyLists', () => {
  it('takes int32 indices up to both bounds, inclusive', () => {
    expect(sequencesFromPyLists([[INT32_MIN, 0, INT32_MAX]]).toArrays()).toEqual([[INT32_MIN, 0, INT32_MAX]]);
  });

  it('refuses one past either bound, a non-integer and a big int, naming element and position', () => {
    for (const [bad, found] of [[INT32_MAX + 1, `number ${INT32_MAX + 1}`], [INT32_MIN - 1, `number ${INT32_MIN - 1}`], [1.5, 'number 1.5'], [2n ** 40n, `${2n ** 40n} (too large)`]] as [PyValue, string][]) {
      expectDataError(() => sequencesFromPyLists([[1], [2, bad]]), DatasetError, {
        message: /element 1, position 1 is not an int32 word index/,
        expected: 'an integer in [-2^31, 2^31)',
        found,
      });
    }
  });

  it('names what it found instead of a list or an index: None, nothing, a list', () => {
    expectDataError(() => sequencesFromPyLists([[1], null]), DatasetError, { message: /element 1 is not a list of word indices/, expected: 'list', found: 'None' });
    expectDataError(() => sequencesFromPyLists([[1, null]]), DatasetError, { found: 'None' });
    // eslint-disable-next-line no-sparse-arrays
    expectDataError(() => sequencesFromPyLists([[1, , 2] as PyValue[]]), DatasetError, { found: 'nothing' });
    expectDataError(() => sequencesFromPyLists([[1, [2]]]), DatasetError, { found: 'list' });
  });

  it('a list named twice through the memo is refused, but one empty list twice is harmless', () => {
    const shared: PyValue[] = [7, 8];
    expectDataError(() => sequencesFromPyLists([shared, [1], shared]), DatasetError, {
      message: /element 2 is the same list as element 0 \(shared through the pickle memo\)/,
      expected: 'a distinct list per review',
      found: 'one list of 2 indices at elements 0 and 2',
    });
    const empty: PyValue[] = [];
    expect(sequencesFromPyLists([empty, [3], empty]).toArrays()).toEqual([[], [3], []]);
  });
});

/** Protocol-2 pickle opcodes, enough to build lists of small ints by hand. */
const OP = { proto2: [0x80, 2], list: [0x5d], mark: [0x28], int: (v: number) => [0x4b, v], appends: [0x65], put: (i: number) => [0x71, i], get: (i: number) => [0x68, i], pop: [0x30], stop: [0x2e] };
const compact = (bytes: number[]) => (unpickle(Uint8Array.from(bytes), {}, { compactIntLists: true }) as IntList).toArray() as IntList[];

describe('sequencesFromPyLists on compact lists from the unpickler', () => {
  it('lists lying back to back in the arena are taken as a view, without a copy', () => {
    // [[1, 2], [3]] as numpy pickles an object array's lists: one after the other.
    const items = compact([...OP.proto2, ...OP.list, ...OP.mark, ...OP.list, ...OP.mark, ...OP.int(1), ...OP.int(2), ...OP.appends, ...OP.list, ...OP.mark, ...OP.int(3), ...OP.appends, ...OP.appends, ...OP.stop]);
    expect(items.every((item) => item instanceof IntList)).toBe(true);
    const seqs = sequencesFromPyLists(items);
    expect(seqs.toArrays()).toEqual([[1, 2], [3]]);
    expect(seqs.values.buffer).toBe(items[0].ints!.buffer);
  });

  it('lists out of arena order (named through the memo) are copied in the order they are listed', () => {
    // A = [1, 2] and B = [3] are built first, then the outer list holds [B, A].
    const items = compact([
      ...OP.proto2,
      ...OP.list, ...OP.put(0), ...OP.mark, ...OP.int(1), ...OP.int(2), ...OP.appends, ...OP.pop,
      ...OP.list, ...OP.put(1), ...OP.mark, ...OP.int(3), ...OP.appends, ...OP.pop,
      ...OP.list, ...OP.mark, ...OP.get(1), ...OP.get(0), ...OP.appends, ...OP.stop,
    ]);
    const seqs = sequencesFromPyLists(items);
    expect(seqs.toArrays()).toEqual([[3], [1, 2]]);
    expect(seqs.values.buffer).not.toBe(items[0].ints!.buffer);
  });
});

describe('padSequences at the edges', () => {
  it('a sequence exactly maxlen long is kept whole, whatever the truncating side', () => {
    for (const truncating of ['pre', 'post'] as const) {
      expect(Array.from(padSequences([[1, 2, 3], [4]], { maxlen: 3, truncating }).data)).toEqual([1, 2, 3, 0, 0, 4]);
    }
  });

  it('pads with int32 values up to both bounds, and refuses one past them', () => {
    expect(Array.from(padSequences([[1]], { maxlen: 2, value: INT32_MIN }).data)).toEqual([INT32_MIN, 1]);
    expect(Array.from(padSequences([[1]], { maxlen: 2, value: INT32_MAX, padding: 'post' }).data)).toEqual([1, INT32_MAX]);
    for (const value of [INT32_MAX + 1, INT32_MIN - 1, 0.5]) expect(() => padSequences([[1]], { value })).toThrow(new RangeError(`padding value must be an int32, got ${value}`));
  });
});
