import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { PickleError } from '../src/data/errors.js';
import { IntList, NumpyArray, NumpyDtype, PyDict, PyTuple, unpickle, type PyValue } from '../src/data/pickle.js';

// Fixtures and expected.json are written by test/fixtures/pickle/make_pickles.py (real Python + numpy).
const FIXTURES = new URL('./fixtures/pickle/', import.meta.url);
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, FIXTURES)));

type JsonInt = number | string;
interface Expected {
  objectLists: JsonInt[][];
  longList: number[];
  int64: { shape: number[]; values: JsonInt[]; hex: string };
  float32Fortran: { shape: number[]; hex: string };
  refused: Record<string, { global: string; offset: number }>;
}
const expected = JSON.parse(readFileSync(new URL('expected.json', FIXTURES), 'utf8')) as Expected;

/** expected.json writes ints beyond 2^53 as strings; the reader returns those as bigint. */
const toInt = (v: JsonInt): number | bigint => (typeof v === 'string' ? BigInt(v) : v);

/** Builds a stream from byte values and ASCII/latin1 strings. */
function stream(...parts: (number | string)[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') out.push(p);
    else for (const c of p) out.push(c.charCodeAt(0));
  }
  return Uint8Array.from(out);
}

/** Runs `fn`, which must throw a PickleError, and returns it. */
function pickleError(fn: () => unknown): PickleError {
  let result: unknown;
  try {
    result = fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PickleError);
    return e as PickleError;
  }
  throw new Error(`expected a PickleError, got a result: ${String(result)}`);
}

function asArray(v: PyValue): NumpyArray {
  expect(v).toBeInstanceOf(NumpyArray);
  return v as NumpyArray;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Checks every element's value and JS type (number vs bigint) exactly. */
function expectInts(actual: PyValue, want: (number | bigint)[]): void {
  expect(Array.isArray(actual)).toBe(true);
  const list = actual as PyValue[];
  expect(list.length).toBe(want.length);
  list.forEach((v, i) => {
    expect(typeof v, `element ${i}`).toBe(typeof want[i]);
    expect(v, `element ${i}`).toBe(want[i]);
  });
}

describe('unpickle: numpy object arrays of int lists', () => {
  const files = ['object_lists_p2.pkl', 'object_lists_p3.pkl', 'object_lists_p4.pkl', 'object_lists_p5.pkl', 'object_lists_p2_numpy1.pkl'];
  for (const file of files) {
    it(`rebuilds ${file} exactly`, () => {
      const arr = asArray(unpickle(fixture(file)));
      expect(arr.shape).toEqual([expected.objectLists.length]);
      expect(arr.dtype.descr).toBe('O8');
      expect(arr.dtype.byteOrder).toBe('|');
      expect(arr.fortranOrder).toBe(false);
      const data = arr.data as PyValue[];
      expect(data.length).toBe(expected.objectLists.length);
      expected.objectLists.forEach((want, i) => expectInts(data[i], want.map(toInt)));
    });
  }

  it('returns ints beyond 2^53 as bigint and safe ones as number', () => {
    const data = asArray(unpickle(fixture('object_lists_p2.pkl'))).data as PyValue[];
    expect(data[4]).toContain(9007199254740991);
    expect(data[4]).toContain(9007199254740992n);
    expect(data[5]).toEqual([18446744073709551617n, -1180591620717411303424n, 3]);
  });

  it('joins a list batched over several APPENDS', () => {
    const arr = asArray(unpickle(fixture('object_long_list_p2.pkl')));
    expect(arr.shape).toEqual([1]);
    expect(expected.longList.length).toBeGreaterThan(1000);
    expectInts((arr.data as PyValue[])[0], expected.longList);
  });
});

describe('unpickle with compactIntLists', () => {
  const compact = (bytes: Uint8Array) => unpickle(bytes, {}, { compactIntLists: true });


  for (const file of ['object_lists_p2.pkl', 'object_lists_p4.pkl', 'object_long_list_p2.pkl']) {
    it(`gives the same values as plain lists: ${file}`, () => {
      const want = asArray(unpickle(fixture(file))).data as PyValue[];
      const got = asArray(compact(fixture(file))).data as PyValue[];
      expect(got.every((l) => l instanceof IntList)).toBe(true);
      got.forEach((l, i) => {
        const list = (l as IntList).toArray();
        expect(list.length, `list ${i}`).toBe((want[i] as PyValue[]).length);
        list.forEach((v, j) => expect(v, `list ${i} item ${j}`).toBe((want[i] as PyValue[])[j]));
      });
    });
  }

  it('keeps int32-only lists in one arena, back to back, and the others as plain lists', () => {
    const data = asArray(compact(fixture('object_lists_p2.pkl'))).data as IntList[];
    const int32Only = (i: number) => expected.objectLists[i].every((v) => typeof v === 'number' && (v | 0) === v);
    data.forEach((l, i) => expect(l.ints !== null, `list ${i}`).toBe(int32Only(i)));
    const compactOnes = data.filter((l) => l.ints !== null);
    expect(new Set(compactOnes.map((l) => l.ints!.buffer)).size).toBe(1);
  });

  it('a list filled after a newer one, or given a non-int, stops being compact but keeps every item', () => {
    // a = [], b = [], b += [1, 2], a += [3, 4], b += [5], a.append('x'); result (a, b)
    const bytes = stream(0x80, 2, ']q', 0, ']q', 1, '(K', 1, 'K', 2, 'e', 'h', 0, '(K', 3, 'K', 4, 'e0', 'h', 1, 'K', 5, 'a0', 'h', 0, 'X', 1, 0, 0, 0, 'xa0', 'h', 0, 'h', 1, 0x86, '.');
    const result = compact(bytes) as PyTuple;
    const [a, b] = result.items as IntList[];
    expect(a.toArray()).toEqual([3, 4, 'x']);
    expect(b.toArray()).toEqual([1, 2, 5]);
    expect(a.ints).toBeNull();
    expect((unpickle(bytes) as PyTuple).items).toEqual([[3, 4, 'x'], [1, 2, 5]]);
  });

  it('a MARK run of ints that does not end in APPENDS is read again the ordinary way', () => {
    // l = [], l += [1, 2], l.append([3, 4]) where [3, 4] is built by MARK ints LIST.
    const list = compact(stream(0x80, 2, ']', '(K', 1, 'K', 2, 'e', '(K', 3, 'K', 4, 'l', 'a.')) as IntList;
    expect(list.toArray()).toEqual([1, 2, [3, 4]]);
  });

  it('throws PickleError for every truncation, as the plain mode does', () => {
    const bytes = fixture('object_lists_p2.pkl');
    for (let cut = 0; cut < bytes.length; cut++) {
      const error = pickleError(() => compact(bytes.subarray(0, cut)));
      expect(error.offset).toBeLessThanOrEqual(cut);
    }
  });

  it('never writes past the arena: DUPs that outrun it fall back to a plain list', () => {
    // [] then MARK K 7, then 40 DUPs (one byte each), APPENDS: 41 ints in a 60-odd byte stream.
    const bytes = stream(0x80, 2, ']', '(K', 7, ...Array(40).fill('2'), 'e.');
    const list = compact(bytes) as IntList;
    expect(list.toArray()).toEqual(Array(41).fill(7));
  });
});

describe('unpickle: numeric ndarrays keep their raw bytes', () => {
  for (const file of ['int64_2x3_p2.pkl', 'int64_2x3_p4.pkl']) {
    it(`reads ${file}`, () => {
      const arr = asArray(unpickle(fixture(file)));
      expect(arr.shape).toEqual(expected.int64.shape);
      expect(arr.dtype.descr).toBe('i8');
      expect(arr.dtype.byteOrder).toBe('<');
      expect(arr.fortranOrder).toBe(false);
      expect(arr.data).toBeInstanceOf(Uint8Array);
      const bytes = arr.data as Uint8Array;
      expect(hex(bytes)).toBe(expected.int64.hex);
      const values = new BigInt64Array(bytes.slice().buffer);
      expect([...values]).toEqual(expected.int64.values.map((v) => BigInt(v)));
    });
  }

  it('reads a big-endian Fortran-ordered float32 array (protocol 3)', () => {
    const arr = asArray(unpickle(fixture('float32_fortran_p3.pkl')));
    expect(arr.shape).toEqual(expected.float32Fortran.shape);
    expect(arr.dtype.descr).toBe('f4');
    expect(arr.dtype.byteOrder).toBe('>');
    expect(arr.fortranOrder).toBe(true);
    expect(hex(arr.data as Uint8Array)).toBe(expected.float32Fortran.hex);
  });

  it('accepts the version-0 array state (no leading version number)', () => {
    const arr = asArray(unpickle(fixture('version0_state_p2.pkl')));
    expect(arr.shape).toEqual([2]);
    expect(arr.dtype.descr).toBe('i4');
    expect(arr.dtype.byteOrder).toBe('<');
    expect([...new Int32Array((arr.data as Uint8Array).slice().buffer)]).toEqual([1, -2]);
  });
});

describe('unpickle: plain Python values', () => {
  for (const file of ['misc_p2.pkl', 'misc_p4.pkl']) {
    it(`reads ${file}`, () => {
      const v = unpickle(fixture(file));
      expect(v).toBeInstanceOf(PyDict);
      const d = (v as PyDict).entries;
      expect(d.get('int')).toBe(42);
      expect(d.get('neg')).toBe(-5);
      expect(d.get('big')).toBe(2n ** 100n);
      expect(d.get('float')).toBe(1.5);
      expect(d.get('tiny')).toBe(-2.5e-300);
      expect(d.get('none')).toBeNull();
      expect(d.get('bools')).toEqual([true, false]);
      expect(d.get('str')).toBe('héllo ☃ 𝄞');
      expect(d.get('long_str')).toBe('x'.repeat(300));
      expect(d.get('bytes')).toEqual(Uint8Array.of(0x00, 0xff, 0x80, 0x61));
      expect(d.get('tuple')).toEqual(new PyTuple([1, 'two', null]));
      expect(d.get('empty_tuple')).toEqual(new PyTuple([]));
      expect(d.get('nested')).toEqual([[1, [2, [3]]]]);
      const shared = d.get('shared') as PyValue[][];
      expect(shared[0]).toEqual([7, 8]);
      expect(shared[1]).toBe(shared[0]); // one object, through the memo
      expect(d.get(1)).toBe('int key');
      expect(d.size).toBe(15);
    });
  }

  it('decodes Python 2 byte strings (SHORT_BINSTRING/BINSTRING) as latin1', () => {
    const v = unpickle(stream(0x80, 2, 'U', 2, 'h\xe9', 'T', 1, 0, 0, 0, '\xff', 0x86, '.'));
    expect(v).toEqual(new PyTuple(['h\u00e9', '\u00ff']));
  });

  it('ignores bytes after STOP', () => {
    expect(unpickle(stream(0x80, 2, 'K', 7, '.', 'garbage'))).toBe(7);
  });
});

describe('unpickle: refuses globals outside the allow-list', () => {
  for (const [file, want] of Object.entries(expected.refused)) {
    it(`refuses ${file} (${want.global})`, () => {
      const err = pickleError(() => unpickle(fixture(file)));
      expect(err.message).toContain(`forbidden global '${want.global}'`);
      expect(err.found).toBe(want.global);
      expect(err.offset).toBe(want.offset);
    });
  }

  it('covers os.system, builtins.eval and subprocess.Popen in the corpus', () => {
    const globals = Object.values(expected.refused).map((r) => r.global);
    expect(globals).toEqual(expect.arrayContaining(['posix.system', 'builtins.eval', 'subprocess.Popen']));
  });

  it('reports file, member and offsets shifted by baseOffset', () => {
    const ctx = { file: 'imdb.npz', member: 'x_train.npy', baseOffset: 128 };
    const err = pickleError(() => unpickle(fixture('evil_os_system_p2.pkl'), ctx));
    expect(err.offset).toBe(128 + expected.refused['evil_os_system_p2.pkl'].offset);
    expect(err.file).toBe('imdb.npz');
    expect(err.member).toBe('x_train.npy');
    expect(err.message).toMatch(/^imdb\.npz: x_train\.npy at byte 130: forbidden global 'posix\.system'/);
  });

  it('refuses a STACK_GLOBAL built from strings in the stream', () => {
    const err = pickleError(() => unpickle(stream(0x80, 4, 0x8c, 2, 'os', 0x8c, 6, 'system', 0x93, '.')));
    expect(err.message).toContain("forbidden global 'os.system'");
    expect(err.offset).toBe(14);
  });

  it('does not accept a prefix or suffix of an allowed name', () => {
    const err = pickleError(() => unpickle(stream(0x80, 2, 'c', 'numpy\ndtype2\n', '.')));
    expect(err.message).toContain("forbidden global 'numpy.dtype2'");
  });
});

describe('unpickle: malformed streams', () => {
  for (const file of ['object_lists_p2.pkl', 'object_lists_p4.pkl', 'misc_p4.pkl', 'int64_2x3_p2.pkl']) {
    it(`throws PickleError for every truncation of ${file}`, () => {
      const full = fixture(file);
      expect(() => unpickle(full)).not.toThrow();
      for (let len = 0; len < full.length; len++) {
        const err = pickleError(() => unpickle(full.subarray(0, len)));
        expect(err.offset, `prefix of ${len} bytes`).toBeLessThanOrEqual(len);
        expect(err.message, `prefix of ${len} bytes`).toMatch(/truncated pickle|past the end/);
      }
    });
  }

  it('says how many bytes a truncated argument needed', () => {
    const err = pickleError(() => unpickle(stream(0x80, 2, 'J', 1, 2)));
    expect(err.offset).toBe(2);
    expect(err.message).toContain('BININT needs 4 more bytes');
    expect(err.expected).toBe('4 bytes');
    expect(err.found).toBe('2 bytes');
  });

  it('refuses text-protocol and other unsupported opcodes by name', () => {
    const cases: [number, string][] = [
      [0x49, "0x49 ('INT')"],
      [0x4c, "0x4c ('LONG')"],
      [0x53, "0x53 ('STRING')"],
      [0x67, "0x67 ('GET')"],
      [0x70, "0x70 ('PUT')"],
      [0x50, "0x50 ('PERSID')"],
      [0x82, "0x82 ('EXT1')"],
      [0x69, "0x69 ('INST')"],
      [0x6f, "0x6f ('OBJ')"],
      [0x97, "0x97 ('NEXT_BUFFER')"],
      [0x98, "0x98 ('READONLY_BUFFER')"],
      [0xff, '0xff (unknown)'],
    ];
    for (const [op, found] of cases) {
      const err = pickleError(() => unpickle(stream(0x80, 2, 'K', 1, op, '.'), { baseOffset: 10 }));
      expect(err.message).toContain(`unsupported pickle opcode ${found}`);
      expect(err.offset).toBe(14);
    }
  });

  it('refuses protocols other than 2 to 5', () => {
    for (const version of [0, 1, 6]) {
      const err = pickleError(() => unpickle(stream(0x80, version, 'N', '.')));
      expect(err.message).toContain(`unsupported pickle protocol ${version}`);
      expect(err.offset).toBe(0);
    }
  });

  it('refuses BINGET of a memo key that was never stored', () => {
    const err = pickleError(() => unpickle(stream(0x80, 2, ']', 'q', 0, 'h', 5, '.')));
    expect(err.message).toContain('memo key 5 not defined');
    expect(err.offset).toBe(5);
    const long = pickleError(() => unpickle(stream(0x80, 2, 'j', 0, 1, 0, 0, '.')));
    expect(long.message).toContain('memo key 256 not defined');
  });

  it('refuses APPENDS, TUPLE and SETITEMS without a MARK', () => {
    for (const op of ['e', 't', 'u', 'l', 'd', '1']) {
      const err = pickleError(() => unpickle(stream(0x80, 2, ']', 'K', 1, op, '.')));
      expect(err.message).toMatch(/without a MARK/);
      expect(err.offset).toBe(5);
      expect(err.expected).toBe('an open MARK');
    }
  });

  it('refuses declared lengths past the end before allocating', () => {
    const cases: [Uint8Array, string][] = [
      [stream(0x80, 2, 'X', 0xff, 0xff, 0xff, 0x7f, 'ab', '.'), 'BINUNICODE declares 2147483647 bytes'],
      [stream(0x80, 2, 'B', 0xff, 0xff, 0xff, 0xff, '.'), 'BINBYTES declares 4294967295 bytes'],
      [stream(0x80, 4, 0x8d, 0, 0, 0, 0, 0, 0, 0, 0x10, '.'), 'BINUNICODE8 declares'],
      [stream(0x80, 4, 0x8e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, '.'), 'BINBYTES8 declares'],
      [stream(0x80, 5, 0x96, 0, 0, 0, 0, 1, 0, 0, 0, '.'), 'BYTEARRAY8 declares 4294967296 bytes'],
      [stream(0x80, 2, 0x8b, 0xff, 0xff, 0xff, 0xff, '.'), 'LONG4 declares 4294967295 bytes'],
      [stream(0x80, 2, 'U', 9, 'abc'), 'SHORT_BINSTRING declares 9 bytes'],
      [stream(0x80, 4, 0x95, 100, 0, 0, 0, 0, 0, 0, 0, 'N', '.'), 'FRAME declares 100 bytes'],
    ];
    for (const [bytes, message] of cases) {
      const err = pickleError(() => unpickle(bytes));
      expect(err.message).toContain(message);
      expect(err.message).toContain('past the end');
      expect(err.offset).toBe(2);
    }
  });

  it('refuses stack underflow, including reaching below the innermost MARK', () => {
    const cases: [Uint8Array, number][] = [
      [stream(0x80, 2, '.'), 2],
      [stream(0x80, 2, 'K', 1, 0x86, '.'), 4],
      [stream(0x80, 2, 'K', 1, '(', 0x85, '.'), 5],
      [stream(0x80, 2, '(', 'K', 1, 'e', '.'), 5],
      [stream(0x80, 2, 'a', '.'), 2],
      [stream(0x80, 2, '0', '.'), 2],
      [stream(0x80, 2, 'q', 0, '.'), 2],
    ];
    for (const [bytes, offset] of cases) {
      const err = pickleError(() => unpickle(bytes));
      expect(err.message).toContain('stack underflow');
      expect(err.offset).toBe(offset);
    }
  });

  it('refuses invalid UTF-8 in BINUNICODE', () => {
    const err = pickleError(() => unpickle(stream(0x80, 2, 'X', 2, 0, 0, 0, 0xc3, 0x28, '.')));
    expect(err.message).toContain('invalid UTF-8 in BINUNICODE');
    expect(err.offset).toBe(2);
  });

  it('refuses APPENDS/APPEND onto a non-list and SETITEMS onto a non-dict', () => {
    const appends = pickleError(() => unpickle(stream(0x80, 2, 'K', 1, '(', 'K', 2, 'e', '.')));
    expect(appends.message).toContain('APPENDS onto a non-list');
    expect(appends.found).toBe('int 1');
    expect(appends.offset).toBe(7);
    const append = pickleError(() => unpickle(stream(0x80, 2, ')', 'K', 2, 'a', '.')));
    expect(append.message).toContain('APPEND onto a non-list');
    const setitems = pickleError(() => unpickle(stream(0x80, 2, ']', '(', 'K', 1, 'K', 2, 'u', '.')));
    expect(setitems.message).toContain('SETITEMS onto a non-dict');
    const odd = pickleError(() => unpickle(stream(0x80, 2, '}', '(', 'K', 1, 'u', '.')));
    expect(odd.message).toContain('odd number of items for SETITEMS');
  });

  it('refuses REDUCE, BUILD and NEWOBJ on anything it does not model', () => {
    const reduceInt = pickleError(() => unpickle(stream(0x80, 2, 'K', 1, ')', 'R', '.')));
    expect(reduceInt.message).toContain('REDUCE of something other than an allowed global');
    expect(reduceInt.offset).toBe(5);
    const reduceNdarray = pickleError(() => unpickle(stream(0x80, 2, 'c', 'numpy\nndarray\n', ')', 'R', '.')));
    expect(reduceNdarray.message).toContain('cannot call numpy.ndarray');
    const buildList = pickleError(() => unpickle(stream(0x80, 2, ']', '}', 'b', '.')));
    expect(buildList.message).toContain('BUILD of unsupported object list');
    expect(buildList.offset).toBe(4);
    const newobj = pickleError(() => unpickle(stream(0x80, 2, 'c', 'numpy\nndarray\n', ')', 0x81, '.')));
    expect(newobj.message).toContain('NEWOBJ of unsupported class numpy.ndarray');
    expect(newobj.offset).toBe(18);
  });

  it('refuses _codecs.encode outside latin1', () => {
    // BINUNICODE holds UTF-8: 'a\u00ff' is 61 c3 bf.
    const encode = (enc: string): Uint8Array =>
      stream(0x80, 2, 'c', '_codecs\nencode\n', 'X', 3, 0, 0, 0, 'a', 0xc3, 0xbf, 0x8c, enc.length, enc, 0x86, 'R', '.');
    expect(unpickle(encode('latin1'))).toEqual(Uint8Array.of(0x61, 0xff));
    const wrongCodec = pickleError(() => unpickle(encode('utf-8')));
    expect(wrongCodec.message).toContain("cannot call _codecs.encode: expected (str, 'latin1')");
    // U+0100 is two UTF-8 bytes, so the declared length is 2.
    const wide = pickleError(() => unpickle(stream(0x80, 2, 'c', '_codecs\nencode\n', 'X', 2, 0, 0, 0, 0xc4, 0x80, 0x8c, 6, 'latin1', 0x86, 'R', '.')));
    expect(wide.message).toContain('U+0100 at index 0 is not latin1');
  });

  it('refuses bad numpy states', () => {
    // dtype('i8') then BUILD with a state whose byte order is not one of < > | =.
    const dtype = (order: string): Uint8Array =>
      stream(0x80, 2, 'c', 'numpy\ndtype\n', 0x8c, 2, 'i8', 0x85, 'R', 'K', 3, 0x8c, 1, order, 0x86, 'b', '.');
    const ok = unpickle(dtype('<'));
    expect(ok).toBeInstanceOf(NumpyDtype);
    expect((ok as NumpyDtype).byteOrder).toBe('<');
    const badOrder = pickleError(() => unpickle(dtype('?')));
    expect(badOrder.message).toContain('bad numpy.dtype state');

    // _reconstruct(ndarray, (0,), b'b') then BUILD with (version, (n,), dtype('O8'), False, list).
    const array = (version: number, n: number, items: number): Uint8Array =>
      stream(
        0x80, 2, 'c', 'numpy.core.multiarray\n_reconstruct\n', 'c', 'numpy\nndarray\n', 'K', 0, 0x85, 'C', 1, 'b', 0x87, 'R',
        '(', 'K', version, 'K', n, 0x85, 'c', 'numpy\ndtype\n', 0x8c, 2, 'O8', 0x85, 'R', 0x89,
        ']', '(', ...Array<number | string>(items).fill(0x4e), 'e', 't', 'b', '.',
      );
    const arr = asArray(unpickle(array(1, 2, 2)));
    expect(arr.data).toEqual([null, null]);
    expect(pickleError(() => unpickle(array(2, 2, 2))).message).toContain('cannot handle version int 2 of numpy.ndarray pickle');
    expect(pickleError(() => unpickle(array(1, 3, 2))).message).toContain('holds 2 elements, expected 3');
  });

  it('refuses a GLOBAL whose lines are not terminated', () => {
    const err = pickleError(() => unpickle(stream(0x80, 2, 'c', 'numpy\ndtype')));
    expect(err.message).toContain('GLOBAL needs two newline-terminated lines');
    expect(err.offset).toBe(2);
  });
});

describe('unpickle: caps on what grows, checked before it grows', () => {
  it('a LONG4 past 8,192 bytes, and a GLOBAL line past the text limit, are refused at their opcode', () => {
    const long = new Uint8Array([0x80, 2, 0x8b, 0x01, 0x20, 0, 0, ...new Uint8Array(8193), 0x2e]);
    expect(pickleError(() => unpickle(long)).message).toMatch(/at byte 2: LONG4 of 8193 bytes: past the reader's limit \(expected at most 8192 bytes/);
    const ok = new Uint8Array([0x80, 2, 0x8b, 0x00, 0x20, 0, 0, ...new Uint8Array(8192), 0x2e]);
    expect(unpickle(ok)).toBe(0);
  });

  it('1,048,577 open MARKs pass the MARK cap; the error names the cap', () => {
    const marks = new Uint8Array(2 + (1 << 20) + 2);
    marks.set([0x80, 2]);
    marks.fill(0x28, 2);
    expect(pickleError(() => unpickle(marks)).message).toMatch(/MARKs nested past 1048576 \(expected at most 1048576 open MARKs, found 1048577\)/);
  });
});

describe('unpickle with objectArray: refused at the first opcode an object array of int lists cannot hold', () => {
  const profile = (bytes: Uint8Array, elements = 1) => unpickle(bytes, {}, { compactIntLists: true, objectArray: { elements } });

  it.each(['object_lists_p2.pkl', 'object_lists_p2_numpy1.pkl', 'object_lists_p3.pkl', 'object_lists_p4.pkl', 'object_lists_p5.pkl', 'object_long_list_p2.pkl'])(
    'numpy\'s own pickles of object arrays of int lists still load (%s)',
    (name) => {
      const plain = asArray(unpickle(fixture(name)));
      expect(asArray(profile(fixture(name), plain.shape[0])).data.length).toBe(plain.data.length);
    },
  );

  it.each([
    ['DUP', stream(0x80, 2, 'K', 1, '2.'), /opcode DUP cannot belong/],
    ['POP', stream(0x80, 2, 'K', 1, 'K', 2, '0.'), /opcode POP cannot belong/],
    ['a dict', stream(0x80, 2, '}.'), /opcode EMPTY_DICT cannot belong/],
    ['a float', stream(0x80, 2, 'G', 0, 0, 0, 0, 0, 0, 0, 0, '.'), /opcode BINFLOAT cannot belong/],
    ['LONG4', stream(0x80, 2, 0x8b, 1, 0, 0, 0, 1, '.'), /opcode LONG4 cannot belong/],
    ['BINBYTES8', stream(0x80, 2, 0x8e, 1, 0, 0, 0, 0, 0, 0, 0, 'x.'), /opcode BINBYTES8 cannot belong/],
    ['a 257-byte string', stream(0x80, 2, 'X', 1, 1, 0, 0, 'a'.repeat(257), '.'), /BINUNICODE of 257 bytes: longer than any in a numpy object array of int lists/],
    ['a 10-byte integer', stream(0x80, 2, 0x8a, 10, 'a'.repeat(10), '.'), /LONG1 of 10 bytes/],
    ['a ninth nested MARK', stream(0x80, 2, '('.repeat(9), '.'), /MARKs nested past 8/],
    ['a third list for one element', stream(0x80, 2, ']]].'), /EMPTY_LIST: more lists than a numpy object array of 1 int lists holds/],
    ['a 129th None', stream(0x80, 2, 'N'.repeat(129), '.'), /NONE: more than 128 values other than ints and lists/],
  ])('%s', (_, bytes, message) => {
    expect(pickleError(() => profile(bytes)).message).toMatch(message);
  });

  it('without the profile the same streams are read (plain pickle semantics)', () => {
    expect(unpickle(stream(0x80, 2, 'K', 1, '2.'))).toBe(1);
    expect(unpickle(stream(0x80, 2, 'N'.repeat(129), '.'))).toBe(null);
  });
});
