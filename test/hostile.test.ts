/**
 * Hostile files: each resource guard of the readers (sizes that cannot be true,
 * nesting, self-reference, memo abuse, lengths past the end, shared-list bombs),
 * refused with a typed error in bounded time and memory; and the malicious pickle
 * corpus (test/fixtures/malicious, made by make_malicious.py), none of which runs.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DatasetError, NpyFormatError, PickleError, ZipFormatError, type DataError } from '../src/data/errors.js';
import { imdbFromNpz } from '../src/data/imdb.js';
import { readNpy } from '../src/data/npy.js';
import { IntList, PyDict, PyTuple, unpickle, type PyValue } from '../src/data/pickle.js';
import { ZipArchive } from '../src/data/zip.js';
import { imdbMembers, int64Npy, npyBytes, npyDict, npyHeader, pickleObjectArray, zipBytes } from './fuzz/writers.js';
import { expectDataError, FIXTURES, fixtureBytes, fixtureJson } from './helpers.js';

const INFLATERS = ['native', 'fflate'] as const;
const MiB = 1 << 20;

/**
 * Expects `fn` to throw `type` with `details` (see expectDataError), within `ms`
 * and allocating under `bytes` of ArrayBuffers on the way.
 */
function refused<E extends DataError>(fn: () => unknown, type: new (...args: any[]) => E, details: Parameters<typeof expectDataError>[2], { ms = 1000, bytes = MiB } = {}): E {
  const before = process.memoryUsage().arrayBuffers;
  const started = performance.now();
  const error = expectDataError(fn, type, details);
  expect(performance.now() - started, 'milliseconds').toBeLessThan(ms);
  expect(process.memoryUsage().arrayBuffers - before, 'bytes allocated').toBeLessThan(bytes);
  return error;
}

const bytesOf = (...parts: (number | string | number[])[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'number' ? [p] : typeof p === 'string' ? Array.from(p, (c) => c.charCodeAt(0)) : p)));
const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
const u64 = (v: number): number[] => [...u32(v >>> 0), ...u32(Math.floor(v / 2 ** 32))];

/** A one-member archive whose headers (central, and local ZIP64 field, agreeing) declare `size` as the uncompressed size. */
function zipDeclaring(data: Uint8Array, method: 0 | 8, size: number, compressed?: Uint8Array): { bytes: Uint8Array; dataStart: number } {
  const bytes = zipBytes([{ name: 'a.npy', data, method, compressed }]);
  const view = new DataView(bytes.buffer);
  let central = bytes.length - 22;
  while (view.getUint32(central, true) !== 0x02014b50) central--;
  view.setUint32(central + 24, size, true);
  view.setUint32(30 + 'a.npy'.length + 4, size, true);
  return { bytes, dataStart: 30 + 'a.npy'.length + 20 };
}

describe('zip: sizes a member cannot have are refused before anything is allocated for them', () => {
  it.each(INFLATERS)('a member that inflates past its declared size stops at the declared size (%s)', (inflater) => {
    // 8 MiB of zeros deflate to about 8 KB; the header claims 1,000 bytes.
    const stream = new Uint8Array(deflateRawSync(new Uint8Array(8 * MiB)));
    const { bytes, dataStart } = zipDeclaring(new Uint8Array(1000), 8, 1000, stream);
    refused(() => ZipArchive.open(bytes, 'bomb.npz', inflater).read('a.npy'), ZipFormatError, {
      member: 'a.npy',
      offset: dataStart,
      message: /inflates to a size other than the one declared/,
      expected: '1000 bytes',
      found: 'more',
    });
  });

  it.each(INFLATERS)("a declared size beyond deflate's 1,032:1 ceiling (%s)", (inflater) => {
    const data = new Uint8Array(100).fill(1);
    const stream = new Uint8Array(deflateRawSync(data));
    const { bytes, dataStart } = zipDeclaring(data, 8, 0xfffffff0, stream);
    refused(() => ZipArchive.open(bytes, 'huge.npz', inflater).read('a.npy'), ZipFormatError, {
      file: 'huge.npz',
      member: 'a.npy',
      offset: dataStart,
      message: /declared uncompressed size is beyond what the deflate stream can hold/,
      expected: `at most ${stream.length * 1032} bytes from ${stream.length} bytes of deflate stream`,
      found: '4294967280 bytes',
    });
  });

  it.each(INFLATERS)('the ceiling is a real bound: a maximally compressed member still reads (%s)', (inflater) => {
    const data = new Uint8Array(4 * MiB);
    const { bytes } = zipDeclaring(data, 8, data.length, new Uint8Array(deflateRawSync(data, { level: 9 })));
    expect(ZipArchive.open(bytes, 'zeros.npz', inflater).read('a.npy').length).toBe(data.length);
  });

  it('a 65,535-byte member name, read by a caller already deep in the stack', () => {
    const bytes = zipBytes([{ name: 'x'.repeat(0xffff), data: new Uint8Array(3), method: 0 }]);
    const deep = (n: number): number => (n === 0 ? ZipArchive.open(bytes).names[0].length : deep(n - 1) + 0);
    expect(deep(5000)).toBe(0xffff);
  });

  it('a stream zlib refuses only for its Huffman table (unused codes) reads the same in Node and a browser', () => {
    // Found by the fuzzer: one bit flipped in x_train's distance code lengths. zlib (Node, and
    // Python's zipfile) says 'invalid distances set'; fflate decodes it to the exact bytes (CRC-checked).
    const bytes = fixtureBytes('npz', 'mini_compressed.npz').slice();
    bytes[118] ^= 1;
    const original = ZipArchive.open(fixtureBytes('npz', 'mini_compressed.npz')).read('x_train.npy');
    for (const inflater of INFLATERS) expect(ZipArchive.open(bytes, 'flip.npz', inflater).read('x_train.npy')).toEqual(original);
  });

  it('a stored member whose declared size is not its stored size', () => {
    const { bytes, dataStart } = zipDeclaring(new Uint8Array(10), 0, 2_000_000_000);
    refused(() => ZipArchive.open(bytes, 's.npz').read('a.npy'), ZipFormatError, {
      offset: dataStart,
      message: /stored member declares an uncompressed size other than its stored size/,
      expected: '10 bytes (its stored size)',
      found: '2000000000 bytes',
    });
  });
});

describe('.npy: a header is checked against the bytes present before any allocation', () => {
  const npy = (dict: string, body: Uint8Array) => {
    const header = npyHeader(dict);
    const out = new Uint8Array(header.length + body.length);
    out.set(header);
    out.set(body, header.length);
    return out;
  };

  it('a shape of billions of elements over a few bytes of data', () => {
    refused(() => readNpy(npy(npyDict('<i8', false, '(4000000000,)'), new Uint8Array(16)), { file: 'big.npy' }), NpyFormatError, {
      file: 'big.npy',
      offset: 128,
      message: /array data is truncated/,
      expected: '32000000000 bytes for shape (4000000000)',
      found: '16 bytes',
    });
    refused(() => readNpy(npy(npyDict('<f4', true, '(100000, 100000, 100000)'), new Uint8Array(8))), NpyFormatError, {
      expected: '4000000000000000 bytes for shape (100000, 100000, 100000)',
    });
  });

  it('an object array claiming more elements than its pickle could hold, refused before unpickling it', () => {
    // The pickle names a forbidden global: reading it would give a PickleError, not this.
    const evil = fixtureBytes('malicious', 'posix_system_p2.pkl');
    refused(() => readNpy(npy(npyDict('|O', false, '(3000000000,)'), evil), { file: 'x.npy' }), NpyFormatError, {
      offset: 128,
      message: /header declares more elements than the pickle after it can hold/,
      expected: 'at least 3000000000 bytes of pickle for shape (3000000000)',
      found: `${evil.length} bytes`,
    });
  });

  it('a dimension past 2^53, even beside a zero one, and a dtype named after an Object member', () => {
    refused(() => readNpy(npy(npyDict('<i8', false, '(0, 99999999999999999999)'), new Uint8Array(0))), NpyFormatError, {
      message: /malformed header: shape entry 99999999999999999999 is negative or too large/,
    });
    for (const descr of ['<constructor', '<__proto__', '|toString']) {
      refused(() => readNpy(npy(npyDict(descr, false, '(1,)'), new Uint8Array(8))), NpyFormatError, { message: /unsupported dtype/, found: `descr '${descr}'` });
    }
  });

  it('a file cut inside its preamble', () => {
    refused(() => readNpy(bytesOf(0x93, 'NUMPY', 1), { file: 'cut.npy' }), NpyFormatError, {
      message: /file ends inside the preamble/,
      expected: 'at least 10 bytes',
      found: '7 bytes',
    });
  });
});

/** Nesting depth of a value, walked with an explicit stack. */
function depth(value: PyValue): number {
  let max = 0;
  const todo: [PyValue, number][] = [[value, 1]];
  const seen = new Set<object>();
  while (todo.length) {
    const [v, d] = todo.pop()!;
    if (v === null || typeof v !== 'object' || seen.has(v)) continue;
    seen.add(v);
    max = Math.max(max, d);
    const items = Array.isArray(v) ? v : v instanceof IntList ? v.toArray() : v instanceof PyTuple ? v.items : v instanceof PyDict ? [...v.entries.values()] : [];
    for (const item of items) todo.push([item, d + 1]);
  }
  return max;
}

/**
 * An imdb.npz whose x_train holds one element written by `element` (opcodes that
 * leave one value), the rest as Keras' file has it. Built from the pickle of [[]],
 * which ends `] q k  a t q k b .`: the inner list's `] q k` is replaced.
 */
function npzWithElement(element: Uint8Array): Uint8Array {
  const base = pickleObjectArray([[]], 2);
  const inner = base.length - 9;
  expect(Array.from(base.subarray(inner), (b) => String.fromCharCode(b)).join('')).toMatch(/^\]q.at.*b\.$/s);
  const pickle = new Uint8Array([...base.subarray(0, inner), ...element, ...base.subarray(inner + 3)]);
  const members = imdbMembers({ train: [{ words: [], label: 1 }], test: [{ words: [4], label: 0 }] }, 2);
  members[0].data = npyBytes('|O', [1], pickle);
  return zipBytes(members.map((m) => ({ ...m, method: 0 })));
}

describe('pickle: deep nesting and self-reference neither overflow the stack nor loop', () => {
  const N = 100_000;

  it('100,000 nested lists, tuples (MARK ... TUPLE) and dicts, in both list forms', () => {
    const lists = bytesOf(0x80, 2, ']'.repeat(N), 'a'.repeat(N - 1), '.');
    const tuples = bytesOf(0x80, 2, '('.repeat(N), 'N', 't'.repeat(N), '.');
    const dicts = bytesOf(0x80, 2, '}', 'K\x00}'.repeat(N - 1), 's'.repeat(N - 1), '.');
    for (const compactIntLists of [false, true]) {
      expect(depth(unpickle(lists, {}, { compactIntLists }))).toBe(N);
      expect(depth(unpickle(tuples, {}, { compactIntLists }))).toBe(N);
      expect(depth(unpickle(dicts, {}, { compactIntLists }))).toBe(N);
    }
  });

  it('100,000 MARKs left open', () => {
    expect(unpickle(bytesOf(0x80, 2, '('.repeat(N), 'K', 7, '.'))).toBe(7);
  });

  it('a review nested 100,000 lists deep is refused at the first list an object array of int lists cannot hold', () => {
    const nested = bytesOf(']'.repeat(N), 'a'.repeat(N - 1));
    refused(() => imdbFromNpz(npzWithElement(nested), {}, 'deep.npz'), PickleError, {
      member: 'x_train.npy',
      message: /EMPTY_LIST: more lists than a numpy object array of 1 int lists holds/,
      expected: 'at most 2 lists',
      found: 'list 3',
    });
  });

  it('a list that holds itself and a dict that holds itself (key and value) come back as such', () => {
    for (const compactIntLists of [false, true]) {
      const list = unpickle(bytesOf(0x80, 2, ']q', 0, 'h', 0, 'a.'), {}, { compactIntLists });
      const items = list instanceof IntList ? list.toArray() : (list as PyValue[]);
      expect(items).toHaveLength(1);
      expect(items[0]).toBe(list);
      const dict = unpickle(bytesOf(0x80, 2, '}q', 0, 'h', 0, 'h', 0, 's.'), {}, { compactIntLists }) as PyDict;
      expect(dict.entries.get(dict)).toBe(dict);
    }
  });

  it('a review that holds itself is refused, not walked forever', () => {
    refused(() => imdbFromNpz(npzWithElement(bytesOf(']q', 200, 'h', 200, 'a')), {}, 'self.npz'), DatasetError, {
      message: /element 0, position 0 is not an int32 word index/,
    });
  });
});

describe('pickle: memo abuse and lengths past the end', () => {
  it('GET of a memo index never stored names the index, the opcode and its offset', () => {
    refused(() => unpickle(bytesOf(0x80, 2, 'N', 'q', 3, 'h', 9, '.'), { baseOffset: 100 }), PickleError, {
      offset: 105,
      message: /memo key 9 not defined: BINGET of an index nothing was stored at/,
      expected: 'one of the 1 keys stored by BINPUT/MEMOIZE',
      found: '9',
    });
    refused(() => unpickle(bytesOf(0x80, 2, 'j', u32(0xfffffff0), '.')), PickleError, { offset: 2, message: /memo key 4294967280 not defined: LONG_BINGET/ });
    // The text form GET is outside the safe subset altogether.
    refused(() => unpickle(bytesOf(0x80, 2, 'g0\n.')), PickleError, { offset: 2, message: /unsupported pickle opcode 0x67 \('GET'\)/ });
  });

  it('a huge memo PUT index is stored sparsely, as CPython stores it', () => {
    const value = unpickle(bytesOf(0x80, 4, 'K', 5, 'r', u32(0xffffffff), '0', 'j', u32(0xffffffff), 'K', 6, 0x94, '0', 'h', 1, 0x86, '.'));
    expect((value as PyTuple).items).toEqual([5, 6]);
  });

  it.each([
    ['BINUNICODE', [0x58, ...u32(0x7fffffff)], 2147483647],
    ['BINUNICODE8', [0x8d, ...u64(2 ** 40)], 2 ** 40],
    ['BINBYTES', [0x42, ...u32(0xffffffff)], 4294967295],
    ['BINBYTES8', [0x8e, ...u64(2 ** 50)], 2 ** 50],
    ['BYTEARRAY8', [0x96, ...u64(2 ** 33)], 2 ** 33],
    ['LONG4', [0x8b, ...u32(0x7fffffff)], 2147483647],
    ['FRAME', [0x95, ...u64(2 ** 40)], 2 ** 40],
  ] as const)('%s declaring more bytes than the stream holds', (name, op, length) => {
    refused(() => unpickle(bytesOf(0x80, 4, [...op], 'abc.'), { file: 'f.pkl' }), PickleError, {
      file: 'f.pkl',
      offset: 2,
      message: new RegExp(`${name} declares ${length} bytes, past the end of the pickle`),
      expected: `${length} bytes`,
      found: '4 bytes',
    });
  });

  it('one long review named 50,000 times through the memo is refused, not expanded to 100 million indices', () => {
    const review = Array.from({ length: 2000 }, (_, i) => i % 250);
    const members = imdbMembers({ train: Array.from({ length: 50_000 }, () => ({ words: review, label: 1 as const })), test: [{ words: [4], label: 0 }] }, 2);
    const bytes = zipBytes(members.map((m) => ({ ...m, method: 8 })));
    expect(bytes.length).toBeLessThan(4096);
    refused(() => imdbFromNpz(bytes, {}, 'shared.npz'), DatasetError, {
      member: 'x_train.npy',
      message: /element 1 is the same list as element 0 \(shared through the pickle memo\)/,
      found: 'one list of 2000 indices at elements 0 and 1',
    }, { bytes: 64 * MiB });
  });
});

describe('imdb: indices and counts Keras handles with Python ints', () => {
  const npz = (train: number[][], test: number[][]) =>
    zipBytes(imdbMembers({ train: train.map((words) => ({ words, label: 1 })), test: test.map((words) => ({ words, label: 0 })) }, 2).map((m) => ({ ...m, method: 0 })));

  it('a word index that no longer fits in int32 once indexFrom is added is refused, not wrapped', () => {
    const bytes = npz([[2147483646, 2147483647]], [[5]]);
    expectDataError(() => imdbFromNpz(bytes, {}, 'big.npz'), DatasetError, {
      file: 'big.npz',
      member: 'x_train.npy',
      message: /word index 2147483646 plus indexFrom 3 does not fit in int32/,
      found: '2147483649',
    });
    // With numWords in int32 range the same indices are cut to oovChar, as in Keras.
    const [[x]] = imdbFromNpz(bytes, { numWords: 100 });
    expect(Array.from(x.values)).toEqual([1, 2, 2]);
  });

  it('no reviews at all and no numWords: nothing to infer it from (Keras fails too)', () => {
    expectDataError(() => imdbFromNpz(npz([], []), {}, 'empty.npz'), DatasetError, { message: /no reviews in either split/ });
    const [[xTrain, yTrain]] = imdbFromNpz(npz([], []), { numWords: 10 });
    expect([xTrain.length, yTrain.length]).toEqual([0, 0]);
  });

  it('labels are read from the y member as int64', () => {
    expect(Array.from(readNpy(int64Npy([1, 0, 1])).data as BigInt64Array)).toEqual([1n, 0n, 1n]);
  });
});

describe('the malicious pickle corpus: each refused, naming the global and its offset, and nothing runs', () => {
  const dir = join(FIXTURES, 'malicious');
  const expected = fixtureJson('malicious', 'expected.json') as {
    marker: string;
    files: Record<string, { global: string; offset: number; kind: 'pkl' | 'npy' | 'npz'; member?: string }>;
  };
  const load = (name: string, kind: 'pkl' | 'npy' | 'npz', compactIntLists: boolean): unknown => {
    const bytes = new Uint8Array(readFileSync(join(dir, name)));
    if (kind === 'pkl') return unpickle(bytes, { file: name }, { compactIntLists });
    if (kind === 'npy') return readNpy(bytes, { file: name });
    return imdbFromNpz(bytes, {}, name);
  };

  it('has every kind of payload make_malicious.py writes', () => {
    expect(Object.keys(expected.files).length).toBeGreaterThanOrEqual(15);
    expect(new Set(Object.values(expected.files).map((f) => f.global))).toEqual(
      new Set(['os.system', 'posix.system', 'builtins.eval', 'builtins.exec', 'builtins.__import__', 'subprocess.Popen', 'numpy.testing._private.utils.runstring']),
    );
  });

  it.each(Object.entries(expected.files))('%s', (name, want) => {
    rmSync(expected.marker, { force: true });
    for (const compactIntLists of [false, true]) {
      const error = refused(() => load(name, want.kind, compactIntLists), PickleError, { file: name, offset: want.offset, member: want.member });
      expect(error.message).toContain(`'${want.global}'`);
      expect(error.message).toMatch(/forbidden global|INST/);
    }
    expect(existsSync(expected.marker), `${expected.marker} was created: a payload ran`).toBe(false);
  });
});
