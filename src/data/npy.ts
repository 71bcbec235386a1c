/**
 * A reader for numpy's `.npy` format (versions 1.0, 2.0 and 3.0), as described in
 * numpy/lib/format.py: magic, version, header length, a Python dict literal
 * `{'descr': '<i8', 'fortran_order': False, 'shape': (25000,), }`, then the data.
 * Object arrays (`descr` '|O') hold a pickle of the whole ndarray.
 */
import { NpyFormatError, type SourceContext } from './errors.js';
import { NumpyArray, unpickle, type PyValue } from './pickle.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const PREAMBLE_V1 = 10; // magic, 2 version bytes, uint16 header length
const PREAMBLE_V2 = 12; // magic, 2 version bytes, uint32 header length

export type NumericDtype =
  | 'bool'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'float32'
  | 'float64';

/** A parsed array; `dataOffset` is where its data (or pickle) starts in the `.npy`. */
export type NpyArray =
  | { dtype: NumericDtype; shape: number[]; data: NumericData; dataOffset: number }
  | { dtype: 'object'; shape: number[]; data: PyValue[]; dataOffset: number };

export type NumericData =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

interface DtypeInfo {
  dtype: NumericDtype;
  size: number;
  make: (buffer: ArrayBuffer, length: number) => NumericData;
}

/** numpy type codes (kind + item size) to typed arrays; bool is one byte, 0 or 1. */
const NUMERIC_DTYPES: Record<string, DtypeInfo> = {
  b1: { dtype: 'bool', size: 1, make: (b, n) => new Uint8Array(b, 0, n) },
  i1: { dtype: 'int8', size: 1, make: (b, n) => new Int8Array(b, 0, n) },
  u1: { dtype: 'uint8', size: 1, make: (b, n) => new Uint8Array(b, 0, n) },
  i2: { dtype: 'int16', size: 2, make: (b, n) => new Int16Array(b, 0, n) },
  u2: { dtype: 'uint16', size: 2, make: (b, n) => new Uint16Array(b, 0, n) },
  i4: { dtype: 'int32', size: 4, make: (b, n) => new Int32Array(b, 0, n) },
  u4: { dtype: 'uint32', size: 4, make: (b, n) => new Uint32Array(b, 0, n) },
  i8: { dtype: 'int64', size: 8, make: (b, n) => new BigInt64Array(b, 0, n) },
  u8: { dtype: 'uint64', size: 8, make: (b, n) => new BigUint64Array(b, 0, n) },
  f4: { dtype: 'float32', size: 4, make: (b, n) => new Float32Array(b, 0, n) },
  f8: { dtype: 'float64', size: 8, make: (b, n) => new Float64Array(b, 0, n) },
};

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Parse one `.npy` file; `ctx` names the file and zip member in errors. */
export function readNpy(bytes: Uint8Array, ctx: SourceContext = {}): NpyArray {
  const { header, dataOffset } = readHeader(bytes, ctx);
  const { descr, fortranOrder, shape } = parseHeaderDict(header, ctx);
  const count = shape.reduce((a, b) => a * b, 1);
  const body = bytes.subarray(dataOffset);

  if (descr === '|O' || descr === 'O' || descr === '<O' || descr === '>O') {
    return readObjectArray(body, shape, count, { ...ctx, baseOffset: dataOffset });
  }

  const order = descr[0];
  // Own keys only: a descr such as '<constructor' must not find Object.prototype's members.
  const code = descr.slice(1);
  const info = Object.hasOwn(NUMERIC_DTYPES, code) ? NUMERIC_DTYPES[code] : undefined;
  if (!info || !'<>|='.includes(order) || (order === '|' && info.size > 1)) {
    throw new NpyFormatError('unsupported dtype', {
      ...ctx,
      offset: 0,
      expected: "bool, (u)int8-64, float32/64 or object ('|O')",
      found: `descr '${descr}'`,
    });
  }
  const byteLength = count * info.size;
  if (body.length !== byteLength) {
    throw new NpyFormatError(
      body.length < byteLength ? 'array data is truncated' : 'bytes left over after the array data',
      { ...ctx, offset: dataOffset, expected: `${byteLength} bytes for shape (${shape.join(', ')})`, found: `${body.length} bytes` },
    );
  }
  // Copy into a fresh, aligned buffer; swap bytes when the file's order is not the host's.
  const copy = body.slice().buffer;
  const littleEndian = order === '<' || order === '|' || (order === '=' && HOST_LITTLE_ENDIAN);
  if (littleEndian !== HOST_LITTLE_ENDIAN && info.size > 1) swapBytes(new Uint8Array(copy), info.size);
  let data = info.make(copy, count);
  if (info.dtype === 'bool') validateBool(data as Uint8Array, dataOffset, ctx);
  if (fortranOrder && shape.length > 1) data = fortranToC(data, shape);
  return { dtype: info.dtype, shape, data, dataOffset };
}

function readHeader(bytes: Uint8Array, ctx: SourceContext): { header: string; dataOffset: number } {
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) {
      throw new NpyFormatError('not a .npy file: bad magic', {
        ...ctx,
        offset: i,
        expected: '\\x93NUMPY',
        found: JSON.stringify(String.fromCharCode(...bytes.subarray(0, MAGIC.length))),
      });
    }
  }
  if (bytes.length < PREAMBLE_V1) {
    throw new NpyFormatError('file ends inside the preamble', { ...ctx, offset: bytes.length, expected: `at least ${PREAMBLE_V1} bytes`, found: `${bytes.length} bytes` });
  }
  const major = bytes[6];
  const minor = bytes[7];
  if (![1, 2, 3].includes(major) || minor !== 0) {
    throw new NpyFormatError('unsupported .npy format version', {
      ...ctx,
      offset: 6,
      expected: '1.0, 2.0 or 3.0',
      found: `${major}.${minor}`,
    });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const preamble = major === 1 ? PREAMBLE_V1 : PREAMBLE_V2;
  if (bytes.length < preamble) {
    throw new NpyFormatError('file ends inside the preamble', { ...ctx, offset: bytes.length, expected: `${preamble} bytes`, found: `${bytes.length} bytes` });
  }
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataOffset = preamble + headerLength;
  if (dataOffset > bytes.length) {
    throw new NpyFormatError('header length runs past the end of the file', {
      ...ctx,
      offset: 8,
      expected: `at most ${bytes.length - preamble} bytes of header`,
      found: `${headerLength}`,
    });
  }
  const raw = bytes.subarray(preamble, dataOffset);
  // Versions 1 and 2 store the header as latin-1; version 3 as UTF-8.
  const header = major === 3 ? new TextDecoder('utf-8').decode(raw) : latin1(raw);
  if (!header.endsWith('\n')) {
    throw new NpyFormatError('header does not end with a newline: its declared length is wrong', {
      ...ctx,
      offset: dataOffset - 1,
      expected: "'\\n'",
      found: JSON.stringify(header.slice(-1)),
    });
  }
  return { header, dataOffset };
}

/** The header is a Python dict literal with exactly these three keys. */
function parseHeaderDict(header: string, ctx: SourceContext): { descr: string; fortranOrder: boolean; shape: number[] } {
  const fail = (what: string): never => {
    throw new NpyFormatError(`malformed header: ${what}`, { ...ctx, offset: 0, found: JSON.stringify(header.trim()) });
  };
  const text = header.trim();
  if (!text.startsWith('{') || !text.endsWith('}')) fail('not a dict literal');
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1] ?? fail("no string 'descr' (structured dtypes are not supported)");
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1] ?? fail("no 'fortran_order'");
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1] ?? fail("no 'shape' tuple");
  const keys = [...text.matchAll(/'([^']*)'\s*:/g)].map((m) => m[1]).sort();
  if (keys.join() !== 'descr,fortran_order,shape') fail(`keys ${keys.join(', ')}`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    // A dimension past 2^53 is not exact as a number (numpy refuses past 2^63 - 1 itself).
    .map((s) => (/^\d+$/.test(s) && Number.isSafeInteger(Number(s)) ? Number(s) : fail(`shape entry '${s}'`)));
  const count = shape.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(count)) fail(`shape (${shape.join(', ')}) is too large`);
  return { descr, fortranOrder: fortran === 'True', shape };
}

function readObjectArray(body: Uint8Array, shape: number[], count: number, ctx: SourceContext): NpyArray {
  // Each element takes at least one opcode byte of the pickle: refuse a header
  // claiming more elements than that before unpickling anything.
  if (count > body.length) {
    throw new NpyFormatError('header declares more elements than the pickle after it can hold', {
      ...ctx,
      offset: ctx.baseOffset,
      expected: `at least ${count} bytes of pickle for shape (${shape.join(', ')})`,
      found: `${body.length} bytes`,
    });
  }
  // Object arrays here are lists of word indices: keep them compact (see IntList).
  const value = unpickle(body, ctx, { compactIntLists: true });
  if (!(value instanceof NumpyArray) || !Array.isArray(value.data)) {
    throw new NpyFormatError('object array pickle does not hold an object ndarray', {
      ...ctx,
      offset: ctx.baseOffset,
      expected: 'numpy.ndarray of dtype object',
      found: value instanceof NumpyArray ? `ndarray of dtype '${value.dtype.descr}'` : describe(value),
    });
  }
  const sameShape = value.shape.length === shape.length && value.shape.every((n, i) => n === shape[i]);
  if (!sameShape || value.data.length !== count) {
    throw new NpyFormatError('pickled array does not match the header shape', {
      ...ctx,
      offset: ctx.baseOffset,
      expected: `shape (${shape.join(', ')}), ${count} elements`,
      found: `shape (${value.shape.join(', ')}), ${value.data.length} elements`,
    });
  }
  // numpy pickles an object array's elements in C order even when it is Fortran-ordered
  // (`_getlist_pkl` walks a C-order iterator), so there is nothing to reorder.
  return { dtype: 'object', shape, data: value.data, dataOffset: ctx.baseOffset ?? 0 };
}

function validateBool(data: Uint8Array, offset: number, ctx: SourceContext): void {
  const bad = data.findIndex((v) => v > 1);
  if (bad >= 0) {
    throw new NpyFormatError('bool array holds a byte other than 0 or 1', { ...ctx, offset: offset + bad, expected: '0 or 1', found: String(data[bad]) });
  }
}

/** Reorder a column-major array into row-major order. */
function fortranToC<T extends ArrayLike<unknown> & { slice(): T }>(data: T, shape: number[]): T {
  const out = data.slice() as unknown as { [i: number]: unknown };
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  for (let c = 0; c < data.length; c++) {
    // c walks row-major order; f is the same element's column-major position.
    let f = 0;
    for (let d = rank - 1; d >= 0; d--) f = f * shape[d] + index[d];
    out[c] = data[f];
    for (let d = rank - 1; d >= 0 && ++index[d] === shape[d]; d--) index[d] = 0;
  }
  return out as unknown as T;
}

function swapBytes(bytes: Uint8Array, size: number): void {
  for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
}

function latin1(raw: Uint8Array): string {
  let s = '';
  for (let i = 0; i < raw.length; i++) s += String.fromCharCode(raw[i]);
  return s;
}

function describe(value: PyValue): string {
  if (value === null) return 'None';
  if (Array.isArray(value)) return 'list';
  return typeof value === 'object' ? value.constructor.name : typeof value;
}
