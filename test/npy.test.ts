import { describe, expect, it } from 'vitest';
import { NpyFormatError, PickleError } from '../src/data/errors.js';
import { readNpy } from '../src/data/npy.js';
import { IntList } from '../src/data/pickle.js';
import { ZipArchive } from '../src/data/zip.js';
import { expectDataError, fixtureBytes, fixtureJson } from './helpers.js';

const expected = fixtureJson('npz', 'expected.json').npy as Record<string, { shape: number[]; values: (number | string | boolean)[] }>;

/** Values as the fixture script wrote them: ints past 2^53 as strings, bools as numbers. */
function plain(data: ArrayLike<unknown>): unknown[] {
  return Array.from(data, (v) => (typeof v === 'bigint' ? (v > BigInt(Number.MAX_SAFE_INTEGER) ? v.toString() : Number(v)) : v));
}

describe('readNpy', () => {
  it.each(Object.keys(expected))('reads %s.npy as numpy wrote it', (name) => {
    const array = readNpy(fixtureBytes('npz', `${name}.npy`), { file: `${name}.npy` });
    expect(array.shape).toEqual(expected[name].shape);
    const want = expected[name].values.map((v) => (typeof v === 'boolean' ? Number(v) : v));
    expect(plain(array.data)).toEqual(want);
  });

  it('maps dtypes to typed arrays', () => {
    const kinds = Object.fromEntries(Object.keys(expected).map((n) => [n, readNpy(fixtureBytes('npz', `${n}.npy`)).dtype]));
    expect(kinds).toEqual({
      v1_i8: 'int64', v2_f4: 'float32', v3_u2: 'uint16', be_i4: 'int32', be_f8: 'float64',
      bool: 'bool', i1: 'int8', u8: 'uint64', fortran_i2: 'int16', c_2d_f8: 'float64',
    });
  });

  it('reads an object array of lists (pickle inside the .npy)', () => {
    const x = ZipArchive.open(fixtureBytes('npz', 'mini_protocol2.npz')).read('x_train.npy');
    const array = readNpy(x, { file: 'mini_protocol2.npz', member: 'x_train.npy' });
    expect(array.dtype).toBe('object');
    const lists = array.data as IntList[];
    // Kept compact: every review is an IntList backed by one shared Int32Array.
    expect(lists.every((l) => l instanceof IntList && l.ints !== null)).toBe(true);
    expect(lists.map((l) => l.toArray())).toEqual(fixtureJson('npz', 'expected.json').raw.x_train);
  });

  it('reads a Fortran-ordered 2-D object array in C order', () => {
    const array = readNpy(fixtureBytes('npz', 'fortran_obj.npy'));
    expect(array.shape).toEqual([2, 3]);
    expect((array.data as IntList[]).map((l) => l.toArray())).toEqual([[0], [1], [2], [10], [11], [12]]);
  });

  it('refuses a bad magic, version or header, naming the offset', () => {
    const good = fixtureBytes('npz', 'v1_i8.npy');
    const magic = good.slice();
    magic[1] = 0x4d;
    expectDataError(() => readNpy(magic, { file: 'm.npy' }), NpyFormatError, { file: 'm.npy', offset: 1, message: /bad magic/ });

    const version = good.slice();
    version[6] = 4;
    expectDataError(() => readNpy(version), NpyFormatError, { offset: 6, expected: '1.0, 2.0 or 3.0', found: '4.0' });

    const tooLong = good.slice();
    new DataView(tooLong.buffer).setUint16(8, 9000, true);
    expectDataError(() => readNpy(tooLong), NpyFormatError, { offset: 8, message: /header length runs past the end/ });
    new DataView(tooLong.buffer).setUint16(8, 60000, true);
    expectDataError(() => readNpy(tooLong), NpyFormatError, { offset: 8, message: /header of 60000 bytes is past numpy's max_header_size/, expected: /at most 10000 bytes/ });

    const tooShort = good.slice();
    new DataView(tooShort.buffer).setUint16(8, new DataView(good.buffer).getUint16(8, true) - 8, true);
    expectDataError(() => readNpy(tooShort), NpyFormatError, { message: /does not end with a newline/ });

    expectDataError(() => readNpy(npyWithHeader("{'descr': '<i8', 'fortran_order': False, }")), NpyFormatError, { message: /keys descr, fortran_order, expected descr, fortran_order, shape/ });
    expectDataError(() => readNpy(npyWithHeader("{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (1,), }")), NpyFormatError, {
      message: /structured dtypes/,
    });
    expectDataError(() => readNpy(npyWithHeader("{'descr': '<i8', 'fortran_order': False, 'shape': (-1,), }")), NpyFormatError, {
      message: /shape entry -1 is negative/,
    });
    expectDataError(() => readNpy(npyWithHeader("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), 'extra': 1, }")), NpyFormatError, {
      message: /keys/,
    });
  });

  it('refuses unsupported dtypes', () => {
    for (const descr of ['<c16', '<U5', '|S3', '<M8[s]', '<f2', '|i8']) {
      expectDataError(() => readNpy(npyWithHeader(`{'descr': '${descr}', 'fortran_order': False, 'shape': (1,), }`, 16)), NpyFormatError, {
        message: /unsupported dtype/,
        found: `descr '${descr}'`,
      });
    }
  });

  it('refuses data shorter or longer than the shape says, before allocating', () => {
    const good = fixtureBytes('npz', 'v1_i8.npy');
    expectDataError(() => readNpy(good.subarray(0, good.length - 1), { file: 'cut.npy' }), NpyFormatError, {
      file: 'cut.npy',
      message: /truncated/,
      expected: '56 bytes for shape (7)',
      found: '55 bytes',
    });
    const longer = new Uint8Array(good.length + 8);
    longer.set(good);
    expectDataError(() => readNpy(longer), NpyFormatError, { message: /left over/ });
    const huge = npyWithHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000, 100000), }", 16);
    expectDataError(() => readNpy(huge), NpyFormatError, { message: /truncated/, found: '16 bytes' });
  });

  it('refuses a bool byte other than 0 or 1', () => {
    const bytes = fixtureBytes('npz', 'bool.npy').slice();
    bytes[bytes.length - 2] = 7;
    expectDataError(() => readNpy(bytes), NpyFormatError, { offset: bytes.length - 2, found: '7' });
  });

  it('passes pickle errors through with offsets inside the .npy', () => {
    const x = ZipArchive.open(fixtureBytes('npz', 'mini_protocol2.npz')).read('x_train.npy').slice();
    const headerEnd = 10 + new DataView(x.buffer).getUint16(8, true);
    x[headerEnd] = 0x01; // not a PROTO opcode: an opcode no pickle has
    const error = expectDataError(() => readNpy(x, { file: 'f.npz', member: 'x_train.npy' }), PickleError, { file: 'f.npz', member: 'x_train.npy' });
    expect(error.offset).toBeGreaterThanOrEqual(headerEnd);
  });

  it('refuses an object array whose pickle disagrees with the header', () => {
    const x = ZipArchive.open(fixtureBytes('npz', 'mini_protocol2.npz')).read('x_train.npy');
    const text = new TextDecoder('latin1').decode(x.subarray(10, 10 + new DataView(x.buffer, x.byteOffset).getUint16(8, true)));
    const lying = (shape: string) => {
      const bytes = x.slice();
      // Same header length: one padding space fewer for each character more.
      const header = text.replace('(9,)', shape).replace(' '.repeat(shape.length - 4) + '\n', '\n');
      bytes.set(new TextEncoder().encode(header), 10);
      return bytes;
    };
    expectDataError(() => readNpy(lying('(10,)'), { member: 'x_train.npy' }), NpyFormatError, {
      message: /does not match the header shape/,
      expected: 'shape (10), 10 elements',
      found: 'shape (9), 9 elements',
    });
    // Fewer elements than lists in the pickle: refused at the first list too many.
    expectDataError(() => readNpy(lying('(8,)'), { member: 'x_train.npy' }), PickleError, {
      message: /EMPTY_LIST: more lists than a numpy object array of 8 int lists holds/,
      expected: 'at most 9 lists',
      found: 'list 10',
    });
  });
});

/** A v1.0 .npy with the given header dict and `dataBytes` zero bytes of data. */
function npyWithHeader(dict: string, dataBytes = 0): Uint8Array {
  let header = dict;
  while ((10 + header.length + 1) % 64 !== 0) header += ' ';
  header += '\n';
  const bytes = new Uint8Array(10 + header.length + dataBytes);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(bytes.buffer).setUint16(8, header.length, true);
  bytes.set(new TextEncoder().encode(header), 10);
  return bytes;
}

describe('readNpy: the header is a Python literal, parsed as numpy parses it', () => {
  const header = (dict: string, dataBytes = 8) => npyWithHeader(dict, dataBytes);

  it.each([
    ["{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", [1]],
    ['{"descr": "<i8", "fortran_order": False, "shape": (1,)}', [1]],
    ["{'shape': (1,), 'fortran_order': False, 'descr': '<i8'}", [1]],
    ["{ 'descr' : u'<i8' ,\n 'fortran_order' : False , 'shape' : ( 1 , ) , }", [1]],
    ["{'descr': '<' 'i8', 'fortran_order': False, 'shape': (1,)}", [1]],
    ["{'descr': '<i8', 'fortran_order': False, 'shape': (0x1,)}", [1]],
    ["{'descr': '<i8', 'fortran_order': False, 'shape': (1, 1_0), }", [1, 10]],
    ["{'descr': '\\x3ci8', 'fortran_order': False, 'shape': (1,), }", [1]],
    ["{'descr': '<i8', 'fortran_order': True, 'shape': (True,), } # numpy accepts a comment and True as 1", [1]],
    ["{'descr': '<f8', 'fortran_order': True, 'shape': (1, 1), 'shape': (1,), }", [1]],
  ])('loads %s as numpy would', (dict, shape) => {
    const bytes = dict.includes("'shape': (1, 1_0)") ? header(dict, 80) : header(dict);
    expect(readNpy(bytes).shape).toEqual(shape);
  });

  it.each([
    ["{'descr': '<i8', 'fortran_order': False, 'shape': (6,) if 1 else (7,), }", /not a Python literal: expected ',' or '}' at character/],
    ["{'descr': '<i8', 'fortran_order': Falsey, 'shape': (1,), }", /name 'Falsey' is not a literal/],
    ["{'descr': '<i8', 'fortran_order': 0, 'shape': (1,), }", /'fortran_order' is not True or False/],
    ["{'descr': '<i8', 'fortran_order': False, 'shape': [1], }", /'shape' is not a tuple/],
    ["{'descr': '<i8', 'fortran_order': False, 'shape': (1), }", /'shape' is not a tuple/],
    ["{'descr': '<i8', 'fortran_order': False, 'shape': (1.0,), }", /a shape entry is not an int/],
    ["{'descr': '<i8', 'fortran_order': False, 'shape': (01,), }", /leading zeros in '01'/],
    ["{'descr': '<i8', 'fortran_order': False, 'shape': ('1',), }", /a shape entry is not an int/],
    ["{'descr': b'<i8', 'fortran_order': False, 'shape': (1,), }", /'descr' is not a string/],
    ["{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }}", /text after the literal/],
    ["{'descr': '<i8', 'fortran_order': False, 'shape': (1,), ", /unexpected end/],
    ["{'descr': '<i8', 'fortran_order': False, 'shape': (1,), 'descr'}", /expected ':' in a dict/],
    ["{'descr': '<i8\\N{LESS-THAN SIGN}', 'fortran_order': False, 'shape': (1,)}", /N\{\.\.\.\} escapes are not supported/],
    ["{'descr': '<i8', 'fortran_order': False, 'shape': " + '('.repeat(40) + '1' + ')'.repeat(40) + '}', /nested deeper than 32/],
    ["{'descr': '<i8', 'fortran_order': False, 'shape': (1,), 'descr': __import__('os')}", /name '__import__' is not a literal/],
  ])('refuses %s, as numpy does', (dict, message) => {
    expectDataError(() => readNpy(header(dict)), NpyFormatError, { offset: 0, message });
  });

  it("headers up to numpy's 10,000 bytes load, past it only when the limit is raised", () => {
    const padded = (total: number) => {
      const bytes = fixtureBytes('npz', 'v2_f4.npy');
      const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
      const text = new TextDecoder('latin1').decode(bytes.subarray(12, 12 + length)).trimEnd();
      const out = new Uint8Array(12 + total + bytes.length - 12 - length);
      out.set(bytes.subarray(0, 8));
      new DataView(out.buffer).setUint32(8, total, true);
      out.set(new TextEncoder().encode(text.padEnd(total - 1) + '\n'), 12);
      out.set(bytes.subarray(12 + length), 12 + total);
      return out;
    };
    expect(readNpy(padded(10_000)).dtype).toBe('float32');
    expectDataError(() => readNpy(padded(10_001)), NpyFormatError, { offset: 8, message: /header of 10001 bytes is past numpy's max_header_size/ });
    expect(readNpy(padded(10_001), {}, { maxHeaderSize: 20_000 }).dtype).toBe('float32');
  });
});
