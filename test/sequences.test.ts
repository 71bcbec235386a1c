import { describe, expect, it } from 'vitest';
import { DatasetError } from '../src/data/errors.js';
import { padSequences, Sequences, sequencesFromPyLists, type PadOptions } from '../src/data/sequences.js';
import { expectDataError, fixtureJson } from './helpers.js';

const pads = fixtureJson('npz', 'expected.json').pad_sequences as {
  input: number[][];
  cases: Record<string, { kwargs: Record<string, number | string>; output: number[][] }>;
};

describe('padSequences matches keras.utils.pad_sequences', () => {
  for (const [name, { kwargs, output }] of Object.entries(pads.cases)) {
    it(name, () => {
      const padded = padSequences(Sequences.fromArrays(pads.input), kwargs as PadOptions);
      expect(padded.shape).toEqual([output.length, output[0].length]);
      expect(Array.from(padded.data)).toEqual(output.flat());
      // Plain arrays give the same result.
      expect(padSequences(pads.input, kwargs as PadOptions).data).toEqual(padded.data);
    });
  }

  it('handles no sequences and refuses bad options', () => {
    expect(padSequences([], {})).toEqual({ data: new Int32Array(0), shape: [0, 0] });
    expect(() => padSequences([[1]], { padding: 'middle' as 'pre' })).toThrow(/Padding type "middle"/);
    expect(() => padSequences([[1]], { truncating: 'both' as 'pre' })).toThrow(/Truncating type "both"/);
    expect(() => padSequences([[1]], { maxlen: -1 })).toThrow(/maxlen/);
    expect(() => padSequences([[1]], { value: 0.5 })).toThrow(/int32/);
  });
});

describe('Sequences', () => {
  it('keeps values and offsets compact and gives views', () => {
    const s = Sequences.fromArrays([[1, 2], [], [3]]);
    expect(s.values).toEqual(new Int32Array([1, 2, 3]));
    expect(s.offsets).toEqual(new Int32Array([0, 2, 2, 3]));
    expect(s.length).toBe(3);
    expect(s.get(1).length).toBe(0);
    expect(s.maxLength()).toBe(2);
    expect(() => s.get(3)).toThrow(RangeError);
    expect(() => new Sequences(new Int32Array(2), new Int32Array([0, 1]))).toThrow(/offsets/);
  });

  it('packs unpickled lists and refuses anything but int32 lists', () => {
    expect(sequencesFromPyLists([[1, 2], []]).toArrays()).toEqual([[1, 2], []]);
    expectDataError(() => sequencesFromPyLists([[1], 'oops'], { member: 'x.npy' }), DatasetError, { member: 'x.npy', message: /element 1/, found: 'string oops' });
    expectDataError(() => sequencesFromPyLists([[1, 2 ** 31]]), DatasetError, { message: /position 1/ });
    expectDataError(() => sequencesFromPyLists([[1.5]]), DatasetError, { message: /position 0/ });
    expectDataError(() => sequencesFromPyLists([[2n ** 70n]]), DatasetError, { found: /too large/ });
  });
});
