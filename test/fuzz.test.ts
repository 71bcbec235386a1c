/**
 * The fuzz run CI does: a few thousand inputs across the zip, .npy and pickle
 * readers, the whole imdbFromNpz path, weights files and checkpoints, and the word
 * index (test/fuzz/harness.ts), from a fixed seed (FUZZ_SEED overrides it).
 * `npm run bench:fuzz` runs 1,000,000 and more.
 */
import { describe, expect, it } from 'vitest';
import { DatasetError, ZipFormatError } from '../src/data/errors.js';
import { readNpy } from '../src/data/npy.js';
import { ZipArchive } from '../src/data/zip.js';
import { agree, fuzz, LIMITS, loadCorpus, READERS, runCase, Tally, type FuzzCase } from './fuzz/harness.js';
import { imdbMembers, objectNpy, zipBytes, type Dataset } from './fuzz/writers.js';
import { FIXTURES, fixtureBytes, fixtureJson } from './helpers.js';

const RUNS_PER_READER = 2500;
const SEED = Number(process.env.FUZZ_SEED ?? 6);
const corpus = loadCorpus(FIXTURES);

/** The mini dataset's reviews and labels, as its npz holds them. */
function miniDataset(): Dataset {
  const raw = fixtureJson('npz', 'expected.json').raw as Record<'x_train' | 'x_test', number[][]>;
  const zip = ZipArchive.open(fixtureBytes('npz', 'mini.npz'));
  const labels = (split: string) => Array.from(readNpy(zip.read(`y_${split}.npy`)).data as BigInt64Array, Number) as (0 | 1)[];
  const reviews = (split: 'train' | 'test') => raw[`x_${split}`].map((words, i) => ({ words, label: labels(split)[i] }));
  return { train: reviews('train'), test: reviews('test') };
}

describe('the fuzzer starts from files laid out as numpy writes them', () => {
  it("rebuilds mini.npz byte for byte from its values (numpy 2's np.savez: protocol 4, stored, ZIP64 local headers)", () => {
    const members = imdbMembers(miniDataset(), 4).map((m) => ({ ...m, method: 0 as const }));
    expect(Buffer.from(zipBytes(members)).equals(fixtureBytes('npz', 'mini.npz'))).toBe(true);
  });

  it("rebuilds mini_protocol2.npz's x_train.npy byte for byte (numpy 1's protocol 2, as in Keras' file)", () => {
    const want = ZipArchive.open(fixtureBytes('npz', 'mini_protocol2.npz')).read('x_train.npy');
    const built = objectNpy(miniDataset().train.map((r) => r.words), 2);
    expect(Buffer.from(built).equals(want)).toBe(true);
  });
});

describe('the property check', () => {
  const input: FuzzCase = { reader: 'npy', label: 'test input', ops: [], bytes: new Uint8Array(100) };

  it('passes a reader that loads or throws a DataError, and says which', () => {
    expect(runCase(input, LIMITS, () => 1).result).toBe('loaded');
    expect(runCase(input, LIMITS, () => { throw new DatasetError('bad'); }).result).toBe('DatasetError');
  });

  it('fails on any other exception', () => {
    expect(() => runCase(input, LIMITS, () => new Uint8Array(-1))).toThrow(/threw RangeError.*not a DataError/);
    const deep = (n: number): number => (n === 0 ? 0 : 1 + deep(n - 1));
    expect(() => runCase(input, LIMITS, () => deep(1e7))).toThrow(/Maximum call stack/);
  });

  it('fails past the time limit', () => {
    const slow = () => {
      const end = performance.now() + 30;
      while (performance.now() < end);
    };
    expect(() => runCase(input, { ...LIMITS, ms: 10 }, slow)).toThrow(/took \d+ ms of CPU \(limit 10\)/);
  });

  it('fails when an input makes the reader allocate past its bound', () => {
    const bound = LIMITS.baseBytes + LIMITS.bytesPerInputByte * 100;
    expect(() => runCase(input, LIMITS, () => new Uint8Array(2 * bound))).toThrow(/allocated \d+ bytes for a 100-byte input/);
  });

  it('fails when a valid input loads as something else, or an error message shows a failed computation', () => {
    expect(() => runCase({ ...input, verify: () => 'list 0 differs' }, LIMITS, () => 1)).toThrow(/loaded a valid input wrongly \(list 0 differs\)/);
    expect(() => runCase(input, LIMITS, () => { throw new ZipFormatError(`needs ${0 / 0} bytes`); })).toThrow(/shows 'NaN'/);
  });

  it('fails when two ways of reading the same bytes disagree', () => {
    const both = <T>(first: () => T, second: () => T) => () => agree(input, 'the two readers', first, second, (a, b) => a === b);
    expect(() => both(() => 1, () => { throw new DatasetError('bad'); })()).toThrow(/the two readers disagree on test input: loaded vs DatasetError: bad/);
    expect(() => both(() => 1, () => 2)()).toThrow(/disagree/);
    expect(() => both(() => { throw new ZipFormatError('a'); }, () => { throw new ZipFormatError('b'); })()).toThrow(ZipFormatError);
    expect(both(() => 3, () => 3)()).toBe(3);
  });
});

describe('fuzzing the readers', () => {
  const tally = new Tally();
  READERS.forEach((reader, i) => {
    it(`${reader}: ${RUNS_PER_READER} broken and intact inputs each load correctly or end in one typed error line, quickly and in bounded memory`, () => {
      fuzz(reader, RUNS_PER_READER, SEED + i, corpus, tally);
      const t = tally.readers[reader];
      expect(t.inputs).toBe(RUNS_PER_READER);
      // The generators reach both outcomes, and intact files were checked value for value.
      expect(t.outcomes.loaded).toBeGreaterThan(RUNS_PER_READER / 20);
      expect(t.inputs - t.outcomes.loaded).toBeGreaterThan(RUNS_PER_READER / 2);
      expect(t.verified).toBeGreaterThan(RUNS_PER_READER / 50);
    });
  });
});
