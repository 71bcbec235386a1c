/**
 * The pickle reader's errors, each with every field it names (problem, expected, found, offset),
 * and the values and bounds StrykerJS found untested (README, "Mutation testing"). test/pickle.test.ts
 * checks most errors by a part of their message; here each one is checked whole.
 */
import { describe, expect, it } from 'vitest';
import { PickleError } from '../src/data/errors.js';
import { IntList, NumpyArray, NumpyDtype, PyTuple, unpickle, type UnpickleOptions } from '../src/data/pickle.js';
import { expectDataError } from './helpers.js';

/** A stream from byte values and ASCII/latin1 strings. */
type Part = number | string | Part[];
function stream(...parts: Part[]): Uint8Array {
  const out: number[] = [];
  const add = (p: Part): void => {
    if (typeof p === 'number') out.push(p);
    else if (Array.isArray(p)) p.forEach(add);
    else for (const c of p) out.push(c.charCodeAt(0));
  };
  parts.forEach(add);
  return Uint8Array.from(out);
}
const P2 = [0x80, 2];
const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const profile = (elements: number): UnpickleOptions => ({ compactIntLists: true, objectArray: { elements } });

interface Want {
  problem: string;
  offset: number;
  expected?: string;
  found?: string;
}
/** Unpickling `bytes` fails with exactly these fields (expected and found undefined unless given). */
function refused(bytes: Uint8Array, want: Want, options: UnpickleOptions = {}): void {
  const error = expectDataError(() => unpickle(bytes, {}, options), PickleError, { problem: want.problem, offset: want.offset });
  expect(error.expected, want.problem).toBe(want.expected);
  expect(error.found, want.problem).toBe(want.found);
}

describe('truncated streams: what each opcode needed and what was left', () => {
  it.each([
    ['no STOP', stream(P2, 'K', 1), { problem: 'truncated pickle: no STOP opcode', offset: 4, expected: 'STOP', found: 'end of data' }],
    ['PROTO', stream(0x80), { problem: 'truncated pickle: PROTO needs 1 more bytes', offset: 0, expected: '1 bytes', found: '0 bytes' }],
    ['BININT1', stream(P2, 'K'), { problem: 'truncated pickle: BININT1 needs 1 more bytes', offset: 2, expected: '1 bytes', found: '0 bytes' }],
    ['BININT2', stream(P2, 'M', 1), { problem: 'truncated pickle: BININT2 needs 2 more bytes', offset: 2, expected: '2 bytes', found: '1 bytes' }],
    ['BININT', stream(P2, 'J', 1, 2, 3), { problem: 'truncated pickle: BININT needs 4 more bytes', offset: 2, expected: '4 bytes', found: '3 bytes' }],
    ['BINPUT', stream(P2, 'K', 1, 'q'), { problem: 'truncated pickle: BINPUT needs 1 more bytes', offset: 4, expected: '1 bytes', found: '0 bytes' }],
    ['LONG_BINPUT', stream(P2, 'K', 1, 'r', 0, 0, 0), { problem: 'truncated pickle: LONG_BINPUT needs 4 more bytes', offset: 4, expected: '4 bytes', found: '3 bytes' }],
    ['BINGET', stream(P2, 'h'), { problem: 'truncated pickle: BINGET needs 1 more bytes', offset: 2, expected: '1 bytes', found: '0 bytes' }],
    ['LONG_BINGET', stream(P2, 'j', 0, 0, 0), { problem: 'truncated pickle: LONG_BINGET needs 4 more bytes', offset: 2, expected: '4 bytes', found: '3 bytes' }],
    ['BINFLOAT', stream(P2, 'G', 0, 0, 0, 0, 0, 0, 0), { problem: 'truncated pickle: BINFLOAT needs 8 more bytes', offset: 2, expected: '8 bytes', found: '7 bytes' }],
    ['SHORT_BINUNICODE', stream(P2, 0x8c), { problem: 'truncated pickle: SHORT_BINUNICODE needs 1 more bytes', offset: 2, expected: '1 bytes', found: '0 bytes' }],
    ['BINUNICODE', stream(P2, 'X', 1, 0), { problem: 'truncated pickle: BINUNICODE needs 4 more bytes', offset: 2, expected: '4 bytes', found: '2 bytes' }],
    ['FRAME', stream(0x80, 4, 0x95, 1, 0, 0, 0, 0, 0, 0), { problem: 'truncated pickle: FRAME needs 8 more bytes', offset: 2, expected: '8 bytes', found: '7 bytes' }],
    ['GLOBAL', stream(P2, 'c', 'numpy\n'), { problem: 'truncated pickle: GLOBAL needs two newline-terminated lines', offset: 2, expected: 'newline', found: 'end of data' }],
  ])('%s', (_, bytes, want) => refused(bytes, want));

  it('a declared length past the end names both lengths, 8-byte ones included', () => {
    refused(stream(P2, 0x8c, 5, 'ab'), { problem: 'SHORT_BINUNICODE declares 5 bytes, past the end of the pickle', offset: 2, expected: '5 bytes', found: '2 bytes' });
    refused(stream(0x80, 4, 0x8e, 0, 0, 0, 0, 0, 1, 0, 0, 'x'), { problem: 'BINBYTES8 declares 1099511627776 bytes, past the end of the pickle', offset: 2, expected: '1099511627776 bytes', found: '1 bytes' });
    refused(stream(0x80, 4, 0x95, 9, 0, 0, 0, 0, 0, 0, 0, 'N.'), { problem: 'FRAME declares 9 bytes, past the end of the pickle', offset: 2, expected: '9 bytes', found: '2 bytes' });
  });

  it('a frame that fits is read through', () => {
    expect(unpickle(stream(0x80, 4, 0x95, 2, 0, 0, 0, 0, 0, 0, 0, 'N.'))).toBe(null);
  });

  it('a GLOBAL line past the text limit is long, one that could still end within it truncated', () => {
    const max = 256;
    const long = stream(P2, 'c', 'a'.repeat(2 * max + 2));
    refused(long, { problem: `GLOBAL of a line longer than ${max} bytes`, offset: 2, expected: `lines of at most ${max} bytes`, found: 'a longer line' }, profile(1));
    const short = stream(P2, 'c', 'a'.repeat(2 * max + 1));
    refused(short, { problem: 'truncated pickle: GLOBAL needs two newline-terminated lines', offset: 2, expected: 'newline', found: 'end of data' }, profile(1));
    // Lines of exactly the limit are read.
    refused(stream(P2, 'c', 'a'.repeat(max), '\n', 'b'.repeat(max), '\n'), { problem: `forbidden global '${'a'.repeat(max)}.${'b'.repeat(max)}'`, offset: 2, expected: 'numpy._reconstruct, numpy.ndarray, numpy.dtype or _codecs.encode', found: `${'a'.repeat(max)}.${'b'.repeat(max)}` }, profile(1));
  });
});

describe('the stack and the MARKs', () => {
  it.each([
    ['STOP on nothing', stream(P2, '.'), { problem: 'stack underflow in STOP', offset: 2, expected: '1 items above the last MARK', found: '0' }],
    ['STOP right after a MARK', stream(P2, 'K', 1, '(', '.'), { problem: 'stack underflow in STOP', offset: 5, expected: '1 items above the last MARK', found: '0' }],
    ['TUPLE2 of one item above the MARK', stream(P2, 'K', 1, '(', 'K', 2, 0x86, '.'), { problem: 'stack underflow in TUPLE2', offset: 7, expected: '2 items above the last MARK', found: '1' }],
    ['TUPLE3 of two', stream(P2, 'K', 1, 'K', 2, 0x87, '.'), { problem: 'stack underflow in TUPLE3', offset: 6, expected: '3 items above the last MARK', found: '2' }],
    ['APPEND of one', stream(P2, ']', 'a', '.'), { problem: 'stack underflow in APPEND', offset: 3, expected: '2 items above the last MARK', found: '1' }],
    ['SETITEM of two', stream(P2, '}', 'K', 1, 's', '.'), { problem: 'stack underflow in SETITEM', offset: 5, expected: '3 items above the last MARK', found: '2' }],
    ['REDUCE of one', stream(P2, ')', 'R', '.'), { problem: 'stack underflow in REDUCE', offset: 3, expected: '2 items above the last MARK', found: '1' }],
    ['BUILD of one', stream(P2, ')', 'b', '.'), { problem: 'stack underflow in BUILD', offset: 3, expected: '2 items above the last MARK', found: '1' }],
    ['STACK_GLOBAL of one', stream(P2, 0x8c, 1, 'a', 0x93, '.'), { problem: 'stack underflow in STACK_GLOBAL', offset: 5, expected: '2 items above the last MARK', found: '1' }],
    ['NEWOBJ of one', stream(P2, ')', 0x81, '.'), { problem: 'stack underflow in NEWOBJ', offset: 3, expected: '2 items above the last MARK', found: '1' }],
    ['DUP of nothing', stream(P2, '2', '.'), { problem: 'stack underflow in DUP', offset: 2, expected: '1 items above the last MARK', found: '0' }],
    ['BINPUT of nothing', stream(P2, 'q', 0, '.'), { problem: 'stack underflow in BINPUT', offset: 2, expected: '1 items above the last MARK', found: '0' }],
    ['MEMOIZE of nothing above a MARK', stream(P2, 'K', 1, '(', 0x94, '.'), { problem: 'stack underflow in MEMOIZE', offset: 5, expected: '1 items above the last MARK', found: '0' }],
    ['POP of nothing', stream(P2, '0', '.'), { problem: 'stack underflow in POP', offset: 2, expected: '1 items above the last MARK', found: '0' }],
    ['APPENDS with no list below its MARK', stream(P2, '(', 'K', 1, 'e', '.'), { problem: 'stack underflow in APPENDS', offset: 5, expected: '1 items above the last MARK', found: '0' }],
    ['SETITEMS with no dict below its MARK', stream(P2, '(', 'K', 1, 'K', 2, 'u', '.'), { problem: 'stack underflow in SETITEMS', offset: 7, expected: '1 items above the last MARK', found: '0' }],
    ['APPENDS without a MARK', stream(P2, ']', 'e', '.'), { problem: 'APPENDS without a MARK', offset: 3, expected: 'an open MARK', found: 'none' }],
  ])('%s', (_, bytes, want) => refused(bytes, want));

  it('APPENDS whose list lies below an enclosing MARK underflows', () => {
    refused(stream(P2, ']', '(', '(', 'K', 1, 'e', '.'), { problem: 'stack underflow in APPENDS', offset: 7, expected: '1 items above the last MARK', found: '0' });
  });

  it('POP drops the item above a MARK, or else the MARK itself (as CPython does)', () => {
    expect(unpickle(stream(P2, 'K', 7, '(', 'K', 1, '0', 't', '.'))).toEqual(new PyTuple([]));
    expect(unpickle(stream(P2, 'K', 7, '(', '0', '.'))).toBe(7);
  });

  it('POP_MARK drops everything above the MARK', () => {
    expect(unpickle(stream(P2, 'K', 7, '(', 'K', 1, 'K', 2, '1', '.'))).toBe(7);
  });

  it('DUP pushes the top again', () => {
    expect(unpickle(stream(P2, 'K', 7, '2', 0x86, '.'))).toEqual(new PyTuple([7, 7]));
  });

  it('the MARK cap of the object-array profile counts open MARKs only', () => {
    refused(stream(P2, '('.repeat(9), '.'), { problem: 'MARKs nested past 8', offset: 10, expected: 'at most 8 open MARKs', found: '9' }, profile(1));
    expect(() => unpickle(stream(P2, '('.repeat(8)), {}, profile(1))).toThrow(/no STOP/);
  });
});

describe('lists, dicts and what they may be given', () => {
  const onto = (value: Part[]) => stream(P2, value, 'K', 1, 'a', '.');
  it.each([
    ['None', ['N'], 'None'],
    ['True', [0x88], 'True'],
    ['False', [0x89], 'False'],
    ['an int', ['K', 5], 'int 5'],
    ['a big int', [0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1], 'int 18446744073709551616'],
    ['a float', ['G', [0x3f, 0xf8, 0, 0, 0, 0, 0, 0]], 'float 1.5'],
    ['a 20-character str', [0x8c, 20, 'a'.repeat(20)], `str '${'a'.repeat(20)}'`],
    ['a 21-character str', [0x8c, 21, 'a'.repeat(21)], 'str of length 21'],
    ['bytes', ['C', 2, 'ab'], 'bytes of length 2'],
    ['a tuple', [')'], 'tuple of length 0'],
    ['a dict', ['}'], 'dict of size 0'],
    ['a global', ['c', 'numpy\ndtype\n'], 'numpy.dtype'],
    ['a dtype', ['c', 'numpy\ndtype\n', 0x8c, 2, 'i8', 0x85, 'R'], "numpy.dtype('i8')"],
    ['an ndarray', ['c', 'numpy.core.multiarray\n_reconstruct\n', 'c', 'numpy\nndarray\n', 'K', 0, 0x85, 'C', 1, 'b', 0x87, 'R'], 'numpy.ndarray'],
  ])('APPEND onto %s names it', (_, value, found) => {
    const bytes = onto(value as Part[]);
    refused(bytes, { problem: 'APPEND onto a non-list', offset: bytes.length - 2, expected: 'list', found });
  });

  it('SETITEM onto a list names it, as an IntList or a plain list', () => {
    const bytes = stream(P2, ']', 'K', 1, 'a', 'K', 1, 'K', 2, 's', '.');
    for (const options of [{}, { compactIntLists: true }]) {
      refused(bytes, { problem: 'SETITEM onto a non-dict', offset: 10, expected: 'dict', found: 'list of length 1' }, options);
    }
  });

  it('an odd number of items for a dict is refused', () => {
    refused(stream(P2, '}', '(', 'K', 1, 'u', '.'), { problem: 'odd number of items for SETITEMS', offset: 6, expected: 'key/value pairs', found: '1 items' });
    refused(stream(P2, '(', 'K', 1, 'K', 2, 'K', 3, 'd', '.'), { problem: 'odd number of items for DICT', offset: 9, expected: 'key/value pairs', found: '3 items' });
  });

  it('DICT and SETITEMS pair keys with values in order', () => {
    const dict = unpickle(stream(P2, '(', 'K', 1, 'K', 2, 'K', 3, 'K', 4, 'd', '(', 'K', 5, 'K', 6, 'u', '.'));
    expect([...(dict as { entries: Map<unknown, unknown> }).entries]).toEqual([[1, 2], [3, 4], [5, 6]]);
  });

  it('LIST, APPEND and APPENDS keep order, onto plain and compact lists alike', () => {
    for (const options of [{}, { compactIntLists: true }]) {
      const list = unpickle(stream(P2, '(', 'K', 1, 'K', 2, 'l', 'K', 3, 'a', '(', 'K', 4, 'K', 5, 'e', '.'), {}, options);
      expect(list instanceof IntList ? list.toArray() : list).toEqual([1, 2, 3, 4, 5]);
    }
  });
});

describe('the memo', () => {
  it('BINGET of a key never stored names how many there are', () => {
    refused(stream(P2, 'K', 1, 'q', 3, 'h', 5, '.'), { problem: 'memo key 5 not defined: BINGET of an index nothing was stored at', offset: 6, expected: 'one of the 1 keys stored by BINPUT/MEMOIZE', found: '5' });
  });

  it('LONG_BINPUT and LONG_BINGET take 4-byte keys, past the dense range too', () => {
    for (const key of [300, 1 << 22, 2 ** 32 - 1]) {
      expect(unpickle(stream(P2, 'K', 9, 'r', u32(key), '0', 'j', u32(key), '.'))).toBe(9);
    }
  });

  it('MEMOIZE numbers its entries 0, 1, 2 ...', () => {
    expect(unpickle(stream(0x80, 4, 'K', 7, 0x94, 'K', 8, 0x94, '0', '0', 'h', 1, 'h', 0, 0x86, '.'))).toEqual(new PyTuple([8, 7]));
  });

  it('a full memo refuses a new key but takes an old one again', () => {
    // elements 0: at most 1 list, so the memo holds 1 + 128 keys.
    const puts = (keys: number[]) => stream(P2, 'K', 1, ...keys.flatMap((k) => ['r', u32(k)]), '.');
    const full = Array.from({ length: 129 }, (_, i) => i);
    expect(unpickle(puts([...full, 5]), {}, profile(0))).toBe(1);
    refused(puts([...full, 500]), { problem: 'memo past 129 entries, more than a numpy object array of int lists stores', offset: 2 + 2 + 129 * 5, expected: 'at most 129', found: '130' }, profile(0));
    const memoize = stream(0x80, 4, 'K', 1, Array<number>(130).fill(0x94), '.');
    refused(memoize, { problem: 'memo past 129 entries, more than a numpy object array of int lists stores', offset: 4 + 129, expected: 'at most 129', found: '130' }, profile(0));
    expect(unpickle(memoize)).toBe(1);
  });
});

describe('globals, REDUCE, BUILD and NEWOBJ', () => {
  const ALLOWED = 'numpy._reconstruct, numpy.ndarray, numpy.dtype or _codecs.encode';
  it('a forbidden global names itself', () => {
    refused(stream(P2, 'c', 'os\nsystem\n', '.'), { problem: "forbidden global 'os.system'", offset: 2, expected: ALLOWED, found: 'os.system' });
  });

  it('STACK_GLOBAL of anything but two strings names what it got', () => {
    refused(stream(P2, 'K', 1, 0x8c, 1, 'a', 0x93, '.'), { problem: 'STACK_GLOBAL needs two strings', offset: 7, expected: 'str, str', found: "int 1, str 'a'" });
    refused(stream(P2, 0x8c, 1, 'a', 'N', 0x93, '.'), { problem: 'STACK_GLOBAL needs two strings', offset: 6, expected: 'str, str', found: "str 'a', None" });
    expect(unpickle(stream(P2, 0x8c, 5, 'numpy', 0x8c, 5, 'dtype', 0x93, '.'))).toMatchObject({ kind: 'dtype', qualifiedName: 'numpy.dtype' });
  });

  it('REDUCE of anything but an allowed global and a tuple names both', () => {
    refused(stream(P2, 'K', 1, ')', 'R', '.'), { problem: 'REDUCE of something other than an allowed global', offset: 5, expected: 'allowed global and argument tuple', found: 'int 1, tuple of length 0' });
    refused(stream(P2, 'c', 'numpy\ndtype\n', 'K', 1, 'R', '.'), { problem: 'REDUCE of something other than an allowed global', offset: 17, expected: 'allowed global and argument tuple', found: 'numpy.dtype, int 1' });
  });

  const call = (global: string, ...args: Part[]) => stream(P2, 'c', global, '(', ...args, 't', 'R', '.');
  it.each([
    ['_codecs\nencode\n', [0x8c, 1, 'a'], "cannot call _codecs.encode: expected (str, 'latin1'), found (str 'a')"],
    ['_codecs\nencode\n', ['K', 1, 0x8c, 6, 'latin1'], "cannot call _codecs.encode: expected (str, 'latin1'), found (int 1, str 'latin1')"],
    ['_codecs\nencode\n', [0x8c, 1, 'a', 0x8c, 6, 'latin1', 'N'], "cannot call _codecs.encode: expected (str, 'latin1'), found (str 'a', str 'latin1', None)"],
    ['numpy\ndtype\n', [], 'cannot call numpy.dtype: expected (str, align, copy), found ()'],
    ['numpy\ndtype\n', ['K', 1], 'cannot call numpy.dtype: expected (str, align, copy), found (int 1)'],
    ['numpy\ndtype\n', [0x8c, 2, 'i8', 'N', 'N', 'N'], "cannot call numpy.dtype: expected (str, align, copy), found (str 'i8', None, None, None)"],
    ['numpy\nndarray\n', [], 'cannot call numpy.ndarray: numpy.ndarray is only accepted as the class argument of _reconstruct'],
    ['numpy.core.multiarray\n_reconstruct\n', ['c', 'numpy\ndtype\n', 'K', 0, 0x85, 'C', 1, 'b'], 'cannot call numpy.core.multiarray._reconstruct: expected (numpy.ndarray, shape tuple, typecode), found (numpy.dtype, tuple of length 1, bytes of length 1)'],
    ['numpy.core.multiarray\n_reconstruct\n', ['c', 'numpy\nndarray\n', 'K', 0, 'C', 1, 'b'], 'cannot call numpy.core.multiarray._reconstruct: expected (numpy.ndarray, shape tuple, typecode), found (numpy.ndarray, int 0, bytes of length 1)'],
    ['numpy.core.multiarray\n_reconstruct\n', ['c', 'numpy\nndarray\n', 'K', 0, 0x85, 'K', 1], 'cannot call numpy.core.multiarray._reconstruct: expected (numpy.ndarray, shape tuple, typecode), found (numpy.ndarray, tuple of length 1, int 1)'],
    ['numpy.core.multiarray\n_reconstruct\n', ['c', 'numpy\nndarray\n', 'K', 0, 0x85, 'C', 1, 'b', 'N'], 'cannot call numpy.core.multiarray._reconstruct: expected (numpy.ndarray, shape tuple, typecode), found (numpy.ndarray, tuple of length 1, bytes of length 1, None)'],
  ])('%s%j', (global, args, problem) => {
    const bytes = call(global, ...(args as Part[]));
    refused(bytes, { problem, offset: bytes.length - 2 });
  });

  it('_reconstruct takes a str typecode too, and both numpy module names', () => {
    for (const module of ['numpy.core.multiarray', 'numpy._core.multiarray']) {
      const array = unpickle(call(`${module}\n_reconstruct\n`, 'c', 'numpy\nndarray\n', 'K', 0, 0x85, 0x8c, 1, 'b'));
      expect(array).toBeInstanceOf(NumpyArray);
      expect((array as NumpyArray).dtype.descr).toBe('b');
    }
  });

  it('_codecs.encode maps each character to its latin1 byte', () => {
    expect(unpickle(call('_codecs\nencode\n', 'X', u32(4), [0xc3, 0xbf, 0x41, 0], 0x8c, 6, 'latin1'))).toEqual(Uint8Array.from([0xff, 0x41, 0]));
    refused(call('_codecs\nencode\n', 'X', u32(3), [0x41, 0xc4, 0x80], 0x8c, 6, 'latin1'), { problem: 'cannot call _codecs.encode: character U+0100 at index 1 is not latin1', offset: 36 });
  });

  it('BUILD of anything but a dtype or an array, and NEWOBJ of anything, name it', () => {
    refused(stream(P2, 'K', 1, ')', 'b', '.'), { problem: 'BUILD of unsupported object int 1', offset: 5 });
    refused(stream(P2, 'K', 1, ')', 0x81, '.'), { problem: 'NEWOBJ of unsupported class int 1', offset: 5 });
  });

  it('INST names the global it would call; a longer name is left out', () => {
    const expected = 'an opcode of the safe subset (protocols 2 to 5)';
    refused(stream(P2, 'i', 'os\nsystem\n', '.'), { problem: "unsupported pickle opcode 0x69 ('INST') of global 'os.system'", offset: 2, expected, found: "0x69 ('INST') of global 'os.system'" });
    refused(stream(P2, 'i', 'a'.repeat(257), '\nb\n.'), { problem: "unsupported pickle opcode 0x69 ('INST')", offset: 2, expected, found: "0x69 ('INST')" });
    refused(stream(P2, 0x0f, '.'), { problem: 'unsupported pickle opcode 0x0f (unknown)', offset: 2, expected, found: '0x0f (unknown)' });
  });
});

describe('numpy states', () => {
  const DTYPE = ['c', 'numpy\ndtype\n', 0x8c, 2, 'O8', 0x85, 'R'];
  const RECONSTRUCT = ['c', 'numpy.core.multiarray\n_reconstruct\n', 'c', 'numpy\nndarray\n', 'K', 0, 0x85, 'C', 1, 'b', 0x87, 'R'];
  const build = (...state: Part[]) => stream(P2, RECONSTRUCT, '(', ...state, 't', 'b', '.');

  /** The error of a stream whose last opcode before STOP fails. */
  const last = (bytes: Uint8Array, problem: string) => refused(bytes, { problem, offset: bytes.length - 2 });

  it('a dtype state needs a tuple with a byte order at index 1', () => {
    const state = (...items: Part[]) => stream(P2, DTYPE, '(', ...items, 't', 'b', '.');
    for (const order of ['<', '>', '|', '=']) expect((unpickle(state('K', 3, 0x8c, 1, order)) as NumpyDtype).byteOrder).toBe(order);
    const problem = (found: string) => `bad numpy.dtype state: expected a tuple with a byte order ('<', '>', '|', '=') at index 1, found ${found}`;
    last(state('K', 3, 0x8c, 1, '!'), problem('tuple of length 2'));
    last(state('K', 3, 'K', 1), problem('tuple of length 2'));
    last(stream(P2, DTYPE, 'N', 'b', '.'), problem('None'));
  });

  it('an array state of the wrong size, version, shape, dtype, flag or data names it', () => {
    const shape = ['K', 2, 0x85];
    const data = [']', '(', 'N', 'N', 'e'];
    last(build('K', 1, shape, DTYPE), 'bad numpy.ndarray state: expected a tuple of 4 or 5 items, found tuple of length 3');
    last(build('K', 1, shape, DTYPE, 0x89, data, 'N'), 'bad numpy.ndarray state: expected a tuple of 4 or 5 items, found tuple of length 6');
    last(stream(P2, RECONSTRUCT, 'N', 'b', '.'), 'bad numpy.ndarray state: expected a tuple of 4 or 5 items, found None');
    last(build('N', shape, DTYPE, 0x89, data), 'cannot handle version None of numpy.ndarray pickle');
    last(build('K', 1, 'K', 2, DTYPE, 0x89, data), 'bad numpy.ndarray shape: expected a tuple of non-negative ints, found int 2');
    last(build('K', 1, 'J', u32(-1 >>> 0), 0x85, DTYPE, 0x89, data), 'bad numpy.ndarray shape: expected a tuple of non-negative ints, found tuple of length 1');
    last(build('K', 1, 'G', [0x3f, 0xf8, 0, 0, 0, 0, 0, 0], 0x85, DTYPE, 0x89, data), 'bad numpy.ndarray shape: expected a tuple of non-negative ints, found tuple of length 1');
    last(build('K', 1, shape, 'N', 0x89, data), 'bad numpy.ndarray dtype: found None');
    last(build('K', 1, shape, DTYPE, 'N', data), 'bad numpy.ndarray fortran flag: found None');
    last(build('K', 1, shape, DTYPE, 0x89, 'N'), 'object array data must be a list, found None');
    last(build('K', 1, shape, DTYPE, 0x89, ']', '(', 'N', 'e'), 'object array of shape (2) holds 1 elements, expected 2');
  });

  it('version 0 and 1 states both load; the fortran flag may be a bool or an int', () => {
    const data = [']', '(', 'K', 1, 'K', 2, 'e'];
    const v0 = unpickle(build('K', 2, 0x85, DTYPE, 0x88, data)) as NumpyArray;
    expect([v0.shape, v0.data, v0.fortranOrder]).toEqual([[2], [1, 2], true]);
    const v1 = unpickle(build('K', 1, 'K', 1, 'K', 2, 0x86, DTYPE, 'K', 0, data)) as NumpyArray;
    expect([v1.shape, v1.data, v1.fortranOrder]).toEqual([[1, 2], [1, 2], false]);
    const int1 = unpickle(build('K', 0, 'K', 2, 0x85, DTYPE, 'K', 1, data)) as NumpyArray;
    expect(int1.fortranOrder).toBe(true);
    const compact = unpickle(build('K', 2, 0x85, DTYPE, 0x89, data), {}, { compactIntLists: true }) as NumpyArray;
    expect(compact.data).toEqual([1, 2]);
  });

  it('numeric data is raw bytes, or a Python 2 str taken as latin1; anything else is refused', () => {
    const I1 = ['c', 'numpy\ndtype\n', 0x8c, 2, 'i1', 0x85, 'R'];
    const bytes = unpickle(build('K', 2, 0x85, I1, 0x89, 'C', 2, [1, 0xff])) as NumpyArray;
    expect(bytes.data).toEqual(Uint8Array.from([1, 0xff]));
    const str = unpickle(build('K', 2, 0x85, I1, 0x89, 'U', 2, [1, 0xff])) as NumpyArray;
    expect(str.data).toEqual(Uint8Array.from([1, 0xff]));
    last(build('K', 2, 0x85, I1, 0x89, 'N'), 'array data must be bytes, found None');
  });
});

describe('integers', () => {
  /** Python's int.from_bytes(b, 'little', signed=True), as a number where it is safe. */
  const fromBytes = (b: number[]): number | bigint => {
    let v = b.reduceRight((acc, byte) => acc * 256n + BigInt(byte), 0n);
    if (b.length > 0 && b[b.length - 1] >= 0x80) v -= 1n << BigInt(8 * b.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };

  it('LONG1 and LONG4 of 0 to 10 bytes, either sign, as numbers while safe and bigints past', () => {
    const patterns = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x12];
    for (let len = 0; len <= 10; len++) {
      for (const fill of patterns) {
        for (const top of [0x00, 0x7f, 0x80, 0xff, 0x1f, 0xe0]) {
          const b = Array.from({ length: len }, (_, i) => (i === len - 1 ? top : (fill + i * 37) & 0xff));
          const want = fromBytes(b);
          expect(unpickle(stream(P2, 0x8a, len, b, '.')), `LONG1 ${b}`).toBe(want);
          expect(unpickle(stream(P2, 0x8b, u32(len), b, '.')), `LONG4 ${b}`).toBe(want);
        }
      }
    }
  });

  it('BININT is signed, BININT2 and BININT1 are not', () => {
    expect(unpickle(stream(P2, 'J', 0xff, 0xff, 0xff, 0xff, '.'))).toBe(-1);
    expect(unpickle(stream(P2, 'J', 0x01, 0x02, 0x03, 0x84, '.'))).toBe(0x84030201 | 0);
    expect(unpickle(stream(P2, 'M', 0xff, 0xfe, '.'))).toBe(0xfeff);
    expect(unpickle(stream(P2, 'K', 0xff, '.'))).toBe(255);
  });

  it('ints in a compact list take the same fast path values', () => {
    const list = unpickle(stream(P2, ']', '(', 'K', 0xff, 'M', 0xff, 0xfe, 'J', 0x01, 0x02, 0x03, 0x84, 'J', 0xff, 0xff, 0xff, 0x7f, 'e', '.'), {}, { compactIntLists: true });
    expect(list).toBeInstanceOf(IntList);
    expect(Array.from((list as IntList).ints!)).toEqual([255, 0xfeff, 0x84030201 | 0, 0x7fffffff]);
  });

  it('a MARK run cut short at each int width is read again the ordinary way, and is truncated', () => {
    for (const [tail, op] of [[['K'], 'BININT1'], [['M', 1], 'BININT2'], [['J', 1, 2, 3], 'BININT']] as const) {
      const bytes = stream(P2, ']', '(', 'K', 1, ...tail);
      expect(() => unpickle(bytes, {}, { compactIntLists: true })).toThrow(new RegExp(`truncated pickle: ${op} needs`));
    }
  });
});

describe('strings', () => {
  it('Python 2 strings of any length are latin1, past the 8 KiB chunk too', () => {
    for (const length of [0x2000 - 1, 0x2000, 0x2001, 0x4001]) {
      const body = Array.from({ length }, (_, i) => (i % 2 ? 0xe9 : 0x41 + (i % 26)));
      const value = unpickle(stream(P2, 'T', u32(length), body, '.')) as string;
      expect(value.length).toBe(length);
      expect(value).toBe(String.fromCharCode(...body));
    }
    expect(unpickle(stream(P2, 'U', 2, 0xff, 0x41, '.'))).toBe('\u00ffA');
  });

  it('UTF-8 strings keep a leading BOM; invalid UTF-8 names the opcode', () => {
    expect(unpickle(stream(P2, 0x8c, 3, 0xef, 0xbb, 0xbf, '.'))).toBe('\ufeff');
    refused(stream(P2, 0x8c, 1, 0xff, '.'), { problem: 'invalid UTF-8 in SHORT_BINUNICODE', offset: 2, expected: 'UTF-8 text', found: 'undecodable bytes' });
  });

  it('bytes are copied out of the stream, bytearray included', () => {
    const bytes = stream(0x80, 5, 0x96, 2, 0, 0, 0, 0, 0, 0, 0, 7, 8, '.');
    const value = unpickle(bytes) as Uint8Array;
    expect(value).toEqual(Uint8Array.from([7, 8]));
    bytes[11] = 0;
    expect(value[0]).toBe(7);
  });
});

describe('the object-array profile', () => {
  it('the profile counts every value outside ints and lists toward its envelope', () => {
    const values: [string, Part[]][] = [
      ['NEWTRUE', [0x88]],
      ['NEWFALSE', [0x89]],
      ['SHORT_BINSTRING', ['U', 0]],
      ['SHORT_BINUNICODE', [0x8c, 0]],
      ['SHORT_BINBYTES', ['C', 0]],
      ['EMPTY_TUPLE', [')']],
      ['TUPLE1', ['K', 1, 0x85]],
    ];
    for (const [name, value] of values) {
      const bytes = stream(P2, Array<Part[]>(129).fill(value), '.');
      expect(() => unpickle(bytes, {}, profile(1)), name).toThrow(new RegExp(`^at byte \\d+: ${name}: more than 128 values other than ints and lists`));
      expect(() => unpickle(stream(P2, Array<Part[]>(128).fill(value), '.'), {}, profile(1)), name).not.toThrow();
    }
  });
});

describe('survivors of the rerun (README, "Mutation testing")', () => {
  it('an opcode whose argument ends the stream exactly is read, and the stream then lacks its STOP', () => {
    const cases: Part[][] = [[0x80, 2], ['K', 1], ['M', 1, 2], ['J', 1, 2, 3, 4], ['K', 1, 'q', 0], ['K', 1, 'r', 0, 0, 0, 0], ['N', 'q', 0, 'h', 0], ['N', 'r', 0, 0, 0, 0, 'j', 0, 0, 0, 0], ['G', 0, 0, 0, 0, 0, 0, 0, 0], [0x8c, 0]];
    for (const body of cases) {
      const bytes = stream(body[0] === 0x80 ? [] : P2, ...body);
      expectDataError(() => unpickle(bytes), PickleError, { problem: 'truncated pickle: no STOP opcode', offset: bytes.length });
    }
  });

  it('empty GLOBAL lines are lines', () => {
    refused(stream(P2, 'c', '\nx\n', '.'), { problem: "forbidden global '.x'", offset: 2, expected: 'numpy._reconstruct, numpy.ndarray, numpy.dtype or _codecs.encode', found: '.x' });
    refused(stream(P2, 'c', 'os\n\n', '.'), { problem: "forbidden global 'os.'", offset: 2, expected: 'numpy._reconstruct, numpy.ndarray, numpy.dtype or _codecs.encode', found: 'os.' });
  });

  it('the profile names its limits and the opcodes it refuses in full', () => {
    refused(stream(P2, 0x8a, 10, 'a'.repeat(10), '.'), { problem: 'LONG1 of 10 bytes: longer than any in a numpy object array of int lists', offset: 2, expected: 'at most 9 bytes', found: '10 bytes' }, profile(1));
    refused(stream(P2, '}', '.'), { problem: 'opcode EMPTY_DICT cannot belong to a numpy object array of int lists', offset: 2, expected: 'the opcodes numpy writes for one', found: 'EMPTY_DICT' }, profile(1));
  });

  it('an unsupported protocol names the supported ones', () => {
    refused(stream(0x80, 6, 'N', '.'), { problem: 'unsupported pickle protocol 6', offset: 0, expected: '2 to 5', found: '6' });
  });

  it('two-item opcodes inside a MARK count only the items above it', () => {
    const cases: [string, Part[], number][] = [
      ['APPEND', [']', '(', 'K', 1, 'a'], 2],
      ['SETITEM', ['}', 'K', 1, '(', 'K', 2, 's'], 3],
      ['STACK_GLOBAL', [0x8c, 1, 'a', '(', 0x8c, 1, 'b', 0x93], 2],
      ['REDUCE', ['c', 'numpy\ndtype\n', '(', ')', 'R'], 2],
      ['BUILD', [')', '(', ')', 'b'], 2],
      ['NEWOBJ', [')', '(', ')', 0x81], 2],
    ];
    for (const [name, body, count] of cases) {
      const bytes = stream(P2, ...body, '.');
      refused(bytes, { problem: `stack underflow in ${name}`, offset: bytes.length - 2, expected: `${count} items above the last MARK`, found: '1' });
    }
  });

  it('an unknown opcode followed by two lines names no global', () => {
    refused(stream(P2, 0x0f, 'a\nb\n.'), { problem: 'unsupported pickle opcode 0x0f (unknown)', offset: 2, expected: 'an opcode of the safe subset (protocols 2 to 5)', found: '0x0f (unknown)' });
  });

  it('memo keys past the dense range are counted once', () => {
    const big = u32(1 << 22);
    refused(stream(P2, 'K', 1, 'r', big, 'r', big, 'h', 9, '.'), { problem: 'memo key 9 not defined: BINGET of an index nothing was stored at', offset: 14, expected: 'one of the 1 keys stored by BINPUT/MEMOIZE', found: '9' });
    refused(stream(P2, 'K', 1, 'q', 3, 'q', 3, 'h', 9, '.'), { problem: 'memo key 9 not defined: BINGET of an index nothing was stored at', offset: 8, expected: 'one of the 1 keys stored by BINPUT/MEMOIZE', found: '9' });
  });

  it('a dtype or array never given its state keeps the defaults', () => {
    expect((unpickle(stream(P2, 'c', 'numpy\ndtype\n', 0x8c, 2, 'i8', 0x85, 'R', '.')) as NumpyDtype).byteOrder).toBe('=');
    expect((unpickle(stream(P2, 'c', 'numpy.core.multiarray\n_reconstruct\n', 'c', 'numpy\nndarray\n', 'K', 0, 0x85, 'C', 1, 'b', 0x87, 'R', '.')) as NumpyArray).fortranOrder).toBe(false);
  });

  it("an object array's element count names a 2-D shape in full", () => {
    const bytes = stream(P2, 'c', 'numpy.core.multiarray\n_reconstruct\n', 'c', 'numpy\nndarray\n', 'K', 0, 0x85, 'C', 1, 'b', 0x87, 'R',
      '(', 'K', 1, 'K', 1, 'K', 2, 0x86, 'c', 'numpy\ndtype\n', 0x8c, 2, 'O8', 0x85, 'R', 0x89, ']', 'N', 'a', 't', 'b', '.');
    refused(bytes, { problem: 'object array of shape (1, 2) holds 1 elements, expected 2', offset: bytes.length - 2 });
  });

  it('in a compact list, APPENDS onto a list below an enclosing MARK underflows too', () => {
    refused(stream(P2, ']', '(', '(', 'K', 1, 'e', '.'), { problem: 'stack underflow in APPENDS', offset: 7, expected: '1 items above the last MARK', found: '0' }, { compactIntLists: true });
  });
});

describe('compact lists that are not the newest, and the MARK fast path (README, "Mutation testing")', () => {
  const compact: UnpickleOptions = { compactIntLists: true };
  const ints = (v: unknown): number[] | null => {
    const got = (v as IntList).ints;
    return got === null ? null : Array.from(got);
  };

  it('a list filled after a newer one takes its ints as plain items, by APPENDS and by APPEND', () => {
    // A is stored, B (newer) takes 1, 2 in the arena; A, fetched again, is no longer extendable (the tuple is (B, A)).
    for (const tail of [['(', 'K', 7, 'e'], ['K', 7, 'a']] as Part[][]) {
      const [b, a] = (unpickle(stream(P2, ']', 'q', 0, ']', '(', 'K', 1, 'K', 2, 'e', 'h', 0, ...tail, 0x86, '.'), {}, compact) as PyTuple).items as IntList[];
      expect(a.toArray()).toEqual([7]);
      expect(a.length).toBe(1);
      expect(a.ints).toBeNull();
      expect(ints(b)).toEqual([1, 2]);
    }
  });

  it('a list that became plain, while still ending at the arena, keeps what it is given', () => {
    for (const tail of [['(', 'K', 5, 'e'], ['K', 5, 'a']] as Part[][]) {
      const list = unpickle(stream(P2, ']', '(', 'N', 'e', ...tail, '.'), {}, compact) as IntList;
      expect(list.toArray()).toEqual([null, 5]);
      expect(list.length).toBe(2);
    }
  });

  it('the newest list stays compact when given ints outside the fast path (APPEND, DUP)', () => {
    expect(ints(unpickle(stream(P2, ']', '(', 'K', 1, 'e', 'K', 2, 'a', '.'), {}, compact))).toEqual([1, 2]);
    expect(ints(unpickle(stream(P2, ']', '(', 'K', 1, 'e', '(', 'K', 2, '2', 'e', '.'), {}, compact))).toEqual([1, 2, 2]);
  });

  it('a MARK reads its list from the top of the stack, not from a slot left above it', () => {
    // The two lists popped stay in the stack array above `sp`; the MARK's list is None.
    refused(stream(P2, 'N', ']', ']', '0', '0', '(', 'K', 5, 'e', '.'), { problem: 'APPENDS onto a non-list', offset: 10, expected: 'list', found: 'None' }, compact);
  });

  it('a run of ints not followed by APPENDS is not committed, and the opcode after it is read', () => {
    // The TUPLE after the run takes the ints back off the stack; APPEND then adds the tuple.
    const list = unpickle(stream(P2, ']', '(', 'K', 1, 'K', 2, 't', 'a', '.'), {}, compact) as IntList;
    expect(list.toArray()).toEqual([new PyTuple([1, 2])]);
  });

  it('only BININT1, BININT2 and BININT are read as ints by the fast path', () => {
    // Read two bytes at a time from 'N', the run would end on the APPENDS that is the last byte.
    expect(unpickle(stream(P2, ']', '(', 'N', '.', 'e'), {}, compact)).toBeNull();
  });

  it('a BININT2 in the fast path moves on past its argument', () => {
    // An APPENDS byte (the argument of the first BININT1) three bytes before the BININT2.
    const tuple = unpickle(stream('(', 'K', 0x65, ']', '(', 'M', 1, 0, 'e', 't', '.'), {}, compact) as PyTuple;
    expect(tuple.items.length).toBe(2);
    expect(tuple.items[0]).toBe(0x65);
    expect(ints(tuple.items[1])).toEqual([1]);
  });

  it('a fast-path run stops at the end of a full arena (filled by DUPs)', () => {
    // 24 bytes: an arena of 13 ints, all taken by the 1 and its 12 DUPs; the 7 then makes the list plain.
    const bytes = stream(P2, ']', '(', 'K', 1, Array<number>(12).fill(0x32), 'e', '(', 'K', 7, 'e', '.');
    expect(bytes.length).toBe(24);
    const list = unpickle(bytes, {}, compact) as IntList;
    expect(list.toArray()).toEqual([...Array<number>(13).fill(1), 7]);
    expect(list.length).toBe(14);
    expect(list.ints).toBeNull();
  });
});

describe('the stack and memo caps (README, "Mutation testing")', () => {
  it('the value stack holds 2^24 items and refuses the next', () => {
    const cap = 1 << 24;
    const bytes = new Uint8Array(2 + cap + 2).fill(0x4e); // P2, cap + 1 NONEs, STOP
    bytes.set(P2, 0);
    bytes[bytes.length - 1] = 0x2e;
    refused(bytes, { problem: `value stack past ${cap} items`, offset: 2 + cap, expected: `at most ${cap}`, found: `${cap}` });
  }, 30_000);

  it('the memo holds 2^22 keys and refuses the next, without the profile too', () => {
    const cap = 1 << 22;
    const bytes = new Uint8Array(3 + cap + 2).fill(0x94); // P4, NONE, cap + 1 MEMOIZEs, STOP
    bytes.set([0x80, 4, 0x4e], 0);
    bytes[bytes.length - 1] = 0x2e;
    refused(bytes, { problem: `memo past ${cap} entries`, offset: 3 + cap, expected: `at most ${cap}`, found: `${cap + 1}` });
  }, 30_000);
});
