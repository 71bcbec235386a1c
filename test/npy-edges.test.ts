/**
 * Edges of src/data/npy.ts that StrykerJS found untested (bench/results/stryker-mutation.json): the
 * preamble of a short file, version minors, a version 3 header's UTF-8, the native byte order '=',
 * the object dtype's spellings, an object array's shape against its pickle's, the first byte of a
 * bool array, and the Python literal parser's corners (whitespace, comments, escapes, prefixes,
 * numbers, unary signs, nesting depth), each with the message and fields it must give.
 */
import { describe, expect, it } from 'vitest';
import { NpyFormatError, PickleError } from '../src/data/errors.js';
import { readNpy } from '../src/data/npy.js';
import { IntList } from '../src/data/pickle.js';
import { npyBytes, pickleObjectArray } from './fuzz/writers.js';
import { expectDataError } from './helpers.js';

/** A .npy of the given version whose header is the bytes of `header` (latin-1: one byte a char) as given, then `data`. */
function rawNpy(header: string, data = new Uint8Array(0), version = 1, bytes?: Uint8Array): Uint8Array {
  const head = bytes ?? Uint8Array.from(header, (c) => c.charCodeAt(0));
  const preamble = version === 1 ? 10 : 12;
  const out = new Uint8Array(preamble + head.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, head.length, true);
  else view.setUint32(8, head.length, true);
  out.set(head, preamble);
  out.set(data, preamble + head.length);
  return out;
}

/** A v1.0 .npy of the header dict, padded as numpy pads it, with `dataBytes` zero bytes. */
const npy = (dict: string, dataBytes = 8) => rawNpy(`${dict}${' '.repeat(63 - ((10 + dict.length) % 64))}\n`, new Uint8Array(dataBytes));
/** The dict of an int64 array of shape (1,) with `descr` and `shape` written as given. */
const dict = (descr = "'<i8'", shape = '(1,)', fortran = 'False') => `{'descr': ${descr}, 'fortran_order': ${fortran}, 'shape': ${shape}}`;

describe('readNpy: the preamble', () => {
  it('a file that ends inside the preamble names the bytes it needs', () => {
    const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
    expectDataError(() => readNpy(Uint8Array.of(...magic, 1, 0)), NpyFormatError, {
      offset: 8,
      message: /file ends inside the preamble/,
      expected: 'at least 10 bytes',
      found: '8 bytes',
    });
    expectDataError(() => readNpy(Uint8Array.of(...magic, 2, 0, 0, 0, 0)), NpyFormatError, {
      offset: 11,
      message: /file ends inside the preamble/,
      expected: '12 bytes',
      found: '11 bytes',
    });
  });

  it('a file of exactly the preamble reads its (empty) header', () => {
    expectDataError(() => readNpy(rawNpy('')), NpyFormatError, { offset: 9, message: /header does not end with a newline/, found: '""' });
  });

  it("a header that does not end with '\\n' names its last character", () => {
    expectDataError(() => readNpy(rawNpy('{}x')), NpyFormatError, { offset: 12, message: /declared length is wrong/, expected: "'\\n'", found: '"x"' });
  });

  it('a bad magic names what was expected and the bytes found', () => {
    expectDataError(() => readNpy(Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x58, 1, 0, 0, 0)), NpyFormatError, {
      offset: 5,
      expected: '\\x93NUMPY',
      found: JSON.stringify('\x93NUMPX'),
    });
  });

  it('a version with a minor other than 0 is refused', () => {
    const bytes = npy(dict());
    bytes[7] = 1;
    expectDataError(() => readNpy(bytes), NpyFormatError, { offset: 6, message: /unsupported \.npy format version/, found: '1.1' });
  });

  it('a header length past the end names the most the file could hold', () => {
    const bytes = npy(dict());
    new DataView(bytes.buffer).setUint16(8, 1000, true);
    expectDataError(() => readNpy(bytes), NpyFormatError, { offset: 8, expected: `at most ${bytes.length - 10} bytes of header`, found: '1000' });
  });

  it("a header past numpy's max_header_size names its length", () => {
    const bytes = npy(dict());
    new DataView(bytes.buffer).setUint16(8, 60_000, true);
    expectDataError(() => readNpy(bytes), NpyFormatError, { offset: 8, found: '60000 bytes' });
  });

  it('version 2 reads all four bytes of the header length', () => {
    const text = `${dict()}${' '.repeat(70_000)}\n`;
    const bytes = rawNpy(text, new Uint8Array(8), 2);
    expect(readNpy(bytes, {}, { maxHeaderSize: 100_000 }).shape).toEqual([1]);
  });

  it('versions 1 and 2 decode the header as latin-1, version 3 as UTF-8', () => {
    const latin = npy(dict("'<i\xe9'"));
    expectDataError(() => readNpy(latin), NpyFormatError, { message: /unsupported dtype/, found: "descr '<i\xe9'" });
    const utf8 = new TextEncoder().encode(`${dict("'<i\u00e9'")}   \n`);
    expectDataError(() => readNpy(rawNpy('', new Uint8Array(8), 3, utf8)), NpyFormatError, { message: /unsupported dtype/, found: "descr '<i\u00e9'" });
  });
});

describe('readNpy: dtypes and data', () => {
  it("an unsupported dtype says which are supported", () => {
    expectDataError(() => readNpy(npy(dict("'<c8'"))), NpyFormatError, { expected: "bool, (u)int8-64, float32/64 or object ('|O')" });
  });

  it("'=' is the host's byte order", () => {
    const data = Uint8Array.of(1, 2, 0, 0);
    const bytes = npyBytes('=i4', [1], data);
    expect(Array.from(readNpy(bytes).data as Int32Array)).toEqual([new Int32Array(data.buffer)[0]]);
  });

  it('a scalar (shape ()) holds one element', () => {
    const array = readNpy(npyBytes('<i8', [], Uint8Array.of(7, 0, 0, 0, 0, 0, 0, 0)));
    expect(array.shape).toEqual([]);
    expect(Array.from(array.data as BigInt64Array)).toEqual([7n]);
  });

  it('a bool byte other than 0 or 1 is found at the first byte too', () => {
    const bytes = npyBytes('|b1', [2], Uint8Array.of(2, 0));
    const dataOffset = bytes.length - 2;
    expectDataError(() => readNpy(bytes), NpyFormatError, {
      offset: dataOffset,
      message: /bool array holds a byte other than 0 or 1/,
      expected: '0 or 1',
      found: '2',
    });
  });
});

describe('readNpy: object arrays', () => {
  const lists = [[1, 2], [3], [4, 5, 6], [7], [8, 9], [1], [2], [3], [4]];
  const pickle = pickleObjectArray(lists, 2);

  it.each(['|O', 'O', '<O', '>O'])("descr '%s' is an object array", (descr) => {
    const array = readNpy(npyBytes(descr, [9], pickle));
    expect(array.dtype).toBe('object');
    expect((array.data as IntList[]).map((l) => l.toArray())).toEqual(lists);
  });

  it('a pickle of another shape with as many elements is refused', () => {
    const bytes = npyBytes('|O', [3, 3], pickle);
    expectDataError(() => readNpy(bytes, { member: 'x.npy' }), NpyFormatError, {
      member: 'x.npy',
      offset: bytes.length - pickle.length,
      message: /pickled array does not match the header shape/,
      expected: 'shape (3, 3), 9 elements',
      found: 'shape (9), 9 elements',
    });
  });

  /** The pickle with its array's shape (9,) written as `dims` instead (numpy writes the shape as ints, then TUPLE1/2/3). */
  const reshaped = (dims: number[]) => {
    const at = pickle.findIndex((_, i) => pickle[i] === 0x4b && pickle[i + 1] === 9 && pickle[i + 2] === 0x85);
    const shape = [...dims.flatMap((d) => [0x4b, d]), 0x84 + dims.length];
    return Uint8Array.of(...pickle.subarray(0, at), ...shape, ...pickle.subarray(at + 3));
  };

  it('a 3-D pickle is read with its header shape, and refused under a header of the same rank and size but another shape', () => {
    expect(readNpy(npyBytes('|O', [1, 3, 3], reshaped([1, 3, 3]))).shape).toEqual([1, 3, 3]);
    for (const shape of [[3, 3, 1], [9, 1]]) {
      expectDataError(() => readNpy(npyBytes('|O', shape, reshaped([1, 3, 3]))), NpyFormatError, {
        message: /pickled array does not match the header shape/,
        expected: `shape (${shape.join(', ')}), 9 elements`,
        found: 'shape (1, 3, 3), 9 elements',
      });
    }
    // A 1-D pickle under a 2-D header whose first dimension is the pickle's.
    expectDataError(() => readNpy(npyBytes('|O', [9, 1], pickle)), NpyFormatError, { found: 'shape (9), 9 elements' });
  });

  it('more elements than pickle bytes are refused before unpickling, naming both', () => {
    const bytes = npyBytes('|O', [5, 2], Uint8Array.of(0x80, 2, 0x4e, 0x2e));
    expectDataError(() => readNpy(bytes), NpyFormatError, {
      offset: bytes.length - 4,
      message: /header declares more elements than the pickle after it can hold/,
      expected: 'at least 10 bytes of pickle for shape (5, 2)',
      found: '4 bytes',
    });
  });

  it('an empty object array still needs its pickle', () => {
    expectDataError(() => readNpy(npyBytes('|O', [0], new Uint8Array(0))), PickleError, { message: /no STOP opcode/ });
  });

  it("a pickle of a numeric ndarray names its dtype", () => {
    const ascii = (text: string) => Array.from(text, (c) => c.charCodeAt(0));
    // numpy.core.multiarray._reconstruct(numpy.ndarray, (0,), b'b'), then BUILD with (1, (1,), dtype('i8'), False, 8 bytes).
    const ops = [
      0x63, ...ascii('numpy.core.multiarray\n_reconstruct\n'), 0x63, ...ascii('numpy\nndarray\n'), 0x4b, 0, 0x85, 0x43, 1, ...ascii('b'), 0x87, 0x52,
      0x28, 0x4b, 1, 0x4b, 1, 0x85,
      0x63, ...ascii('numpy\ndtype\n'), 0x55, 2, ...ascii('i8'), 0x4b, 0, 0x4b, 1, 0x87, 0x52,
      0x28, 0x4b, 3, 0x55, 1, ...ascii('<'), 0x4e, 0x4e, 0x4e, 0x4a, 255, 255, 255, 255, 0x4a, 255, 255, 255, 255, 0x4b, 0, 0x74, 0x62,
      0x89, 0x43, 8, 7, 0, 0, 0, 0, 0, 0, 0, 0x74, 0x62,
    ];
    const pickleBytes = Uint8Array.of(0x80, 2, ...ops, 0x2e);
    expectDataError(() => readNpy(npyBytes('|O', [1], pickleBytes)), NpyFormatError, {
      message: /object array pickle does not hold an object ndarray/,
      found: "ndarray of dtype 'i8'",
    });
  });

  it.each([
    ['None', [0x4e], 'None'],
    ['an int', [0x4b, 5], 'number'],
    ['a list', [0x28, 0x6c], 'list'],
  ])('a pickle of %s is not an object ndarray', (_, ops, found) => {
    const pickleBytes = Uint8Array.of(0x80, 2, ...ops, 0x2e);
    const bytes = npyBytes('|O', [1], pickleBytes);
    expectDataError(() => readNpy(bytes, { file: 'f.npy' }), NpyFormatError, {
      file: 'f.npy',
      offset: bytes.length - pickleBytes.length,
      message: /object array pickle does not hold an object ndarray/,
      expected: 'numpy.ndarray of dtype object',
      found,
    });
  });
});

describe('readNpy: the header literal, parsed as Python parses it', () => {
  const descrOf = (d: string) => dict(d);
  it.each([
    ['tabs, carriage returns and form feeds', "{'descr':\t'<i8',\r'fortran_order':\fFalse, 'shape': (1,)}", [1]],
    ['a backslash-newline between tokens', "{'descr': '<i8', \\\n'fortran_order': False, 'shape': (1,)}", [1]],
    ['a comment inside the dict', "{'descr': '<i8', # a comment\n'fortran_order': False, 'shape': (1,)}", [1]],
    ['a unary plus', dict("'<i8'", '(+1,)'), [1]],
    ['an octal and a binary int', dict("'<i8'", '(0o1, 0b1)'), [1, 1]],
    ['an upper-case hex int', dict("'<i8'", '(0X1,)'), [1]],
    ['a scalar shape', dict("'<i8'", '()'), []],
    ['a double-quoted u-string', dict('u"<i8"'), [1]],
    ['a raw string', dict("R'<i8'"), [1]],
    ['a triple-quoted string', dict("'''<i8'''"), [1]],
    ['a backslash-newline in a string', dict("'<i\\\n8'"), [1]],
    ['three octal digits', dict("'\\074i8'"), [1]],
    ['two octal digits before another character', dict("'\\74i8'"), [1]],
    ['a \\u escape', dict("'\\u003ci8'"), [1]],
    ['a \\U escape', dict("'\\U0000003ci8'"), [1]],
    ['a shape nested 32 deep', dict("'<i8'", `(${'('.repeat(30)}1${')'.repeat(30)},)`), [1]],
  ])('accepts %s', (_, header, shape) => {
    expect(readNpy(npy(header)).shape).toEqual(shape);
  });

  it.each([
    ['an unknown escape, kept as it is', "'<i8\\q'", '<i8\\q'],
    ['a \\t escape', "'<i8\\t'", '<i8\t'],
    ['a raw string, escapes kept', "r'\\x3ci8'", '\\x3ci8'],
    ['a newline in a triple-quoted string', "'''<i\n8'''", '<i\n8'],
    ['the largest code point', "'\\U0010ffff'", '\u{10ffff}'],
  ])('reads %s', (_, descr, value) => {
    expectDataError(() => readNpy(npy(descrOf(descr))), NpyFormatError, { message: /unsupported dtype/, found: `descr '${value}'` });
  });

  it.each([
    ['a bigint past 2^53', dict("'<i8'", '(0x20000000000001,)'), /shape entry 9007199254740993 is negative or too large/],
    ['a negative bigint', dict("'<i8'", '(-0x20000000000001,)'), /shape entry -9007199254740993 is negative or too large/],
    ['a product past 2^53', dict("'<i8'", '(1073741824, 1073741824, 1073741824)'), /shape \(1073741824, 1073741824, 1073741824\) is too large/],
    ['None for fortran_order', dict("'<i8'", '(1,)', 'None'), /'fortran_order' is not True or False/],
    ['a tuple', '(1,)', /malformed header: not a dict literal/],
    ['a name that looks like a string prefix', dict('u'), /name 'u' is not a literal/],
    ['a name ending like a prefix before a quote', dict("xb'<i8'"), /name 'xb' is not a literal/],
    ['a name starting like a prefix before a quote', dict("bx'<i8'"), /name 'bx' is not a literal/],
    ['an unexpected character', dict('@'), /unexpected character '@'/],
    ['a unary minus of a string', dict("-'<i8'"), /unary - of something other than a number/],
    ['a malformed hex int', dict("'<i8'", '(0x,)'), /malformed number '0x'/],
    ['str and bytes side by side', dict("'<' b'i8'"), /str and bytes literals side by side/],
    ['a bytes literal with a non-ASCII character', dict("b'<i\xe9'"), /a bytes literal with a non-ASCII character/],
    ['a newline in a string', dict("'<i\n8'"), /newline in a string/],
    ['a bad \\x escape', dict("'\\xZ1'"), /bad \\x escape/],
    ['a code point past U+10FFFF', dict("'\\U00110000'"), /bad \\U escape/],
    ['unary signs nested 40 deep', dict("'<i8'", `(${'-'.repeat(40)}1,)`), /nested deeper than 32/],
    ['dicts nested 40 deep', dict(`${"{'a': ".repeat(40)}1${'}'.repeat(40)}`), /nested deeper than 32/],
    ['a backslash not before a newline', "{'descr': '<i8', \\ 'fortran_order': False, 'shape': (1,)}", /unexpected character '\\'/],
    ['a unary plus of a bigint past 2^53', dict("'<i8'", '(+0x20000000000001,)'), /shape entry 9007199254740993 is negative or too large/],
    ['two leading zeros', dict("'<i8'", '(001,)'), /leading zeros in '001'/],
    ['a string and a name ending like a prefix', dict("'<i' xu'8'"), /expected ',' or '}'/],
    ['bytes and str side by side', dict("b'<' 'i8'"), /str and bytes literals side by side/],
    ['a shape nested 33 deep', dict("'<i8'", `(${'('.repeat(31)}1${')'.repeat(31)},)`), /nested deeper than 32/],
  ])('refuses %s', (_, header, message) => {
    expectDataError(() => readNpy(npy(header)), NpyFormatError, { offset: 0, message });
  });

  it('reads ints in every base Python writes, with underscores', () => {
    // A zero dimension: no data, whatever the others.
    expect(readNpy(npy(dict("'<i8'", '(0, 0o17, 0b101, 0X1E, 0x1_f, 1_0, 00)'), 0)).shape).toEqual([0, 15, 5, 30, 31, 10, 0]);
  });

  it.each(['1.5', '1.55', '1e3', '1e10', '1.5e-3', '1_0.5_0E+1_0', '.5', '.55', '.5e3', '.5e10', '.5e-3', '1.', '-1.0'])('tokenizes the float %s whole, and refuses it as a dimension', (float) => {
    expectDataError(() => readNpy(npy(dict("'<i8'", `(${float},)`))), NpyFormatError, { message: /a shape entry is not an int/ });
  });

  it('a dot that starts no number is malformed, even with a number after it', () => {
    const header = dict("'<i8'", '(., 1)');
    expectDataError(() => readNpy(npy(header)), NpyFormatError, { message: new RegExp(`malformed number at character ${header.indexOf('.')} `) });
  });

  it('an unterminated string is named at the end of the header, which is quoted trimmed', () => {
    // Triple-quoted, so that the header's closing newline is part of the string.
    const bytes = npy("{'descr': '''<i8");
    const length = new DataView(bytes.buffer).getUint16(8, true);
    expectDataError(() => readNpy(bytes), NpyFormatError, {
      message: new RegExp(`malformed header: not a Python literal: unterminated string at character ${length} \\(`),
      found: JSON.stringify("{'descr': '''<i8"),
    });
  });
});
