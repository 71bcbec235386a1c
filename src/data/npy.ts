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

/**
 * numpy's `max_header_size` default (numpy/lib/format.py `_MAX_HEADER_SIZE`): a longer
 * header is refused before it is decoded, as numpy.load refuses it.
 */
export const MAX_HEADER_SIZE = 10_000;

export interface ReadNpyOptions {
  /** Longest header accepted, in bytes (numpy's `max_header_size`); default 10,000. */
  maxHeaderSize?: number;
}

/** Parse one `.npy` file; `ctx` names the file and zip member in errors. */
export function readNpy(bytes: Uint8Array, ctx: SourceContext = {}, options: ReadNpyOptions = {}): NpyArray {
  const { header, dataOffset } = readHeader(bytes, ctx, options.maxHeaderSize ?? MAX_HEADER_SIZE);
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

function readHeader(bytes: Uint8Array, ctx: SourceContext, maxHeaderSize: number): { header: string; dataOffset: number } {
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) {
      throw new NpyFormatError('not a .npy file: bad magic', {
        ...ctx,
        offset: i,
        expected: '\\x93NUMPY',
        found: JSON.stringify(latin1(bytes.subarray(0, MAGIC.length))),
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
  if (headerLength > maxHeaderSize) {
    throw new NpyFormatError(`header of ${headerLength} bytes is past numpy's max_header_size`, {
      ...ctx,
      offset: 8,
      expected: `at most ${maxHeaderSize} bytes (numpy.load refuses longer headers unless max_header_size is raised)`,
      found: `${headerLength} bytes`,
    });
  }
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

/**
 * The header is a Python dict literal with exactly these three keys, parsed as numpy
 * does (`ast.literal_eval`, then the checks of numpy/lib/format.py `_read_array_header`):
 * an expression such as `(6,) if 1 else (7,)` or a name such as `Falsey` is refused.
 */
function parseHeaderDict(header: string, ctx: SourceContext): { descr: string; fortranOrder: boolean; shape: number[] } {
  const fail = (what: string): never => {
    throw new NpyFormatError(`malformed header: ${what}`, { ...ctx, offset: 0, found: JSON.stringify(header.trim()) });
  };
  let dict: PyLiteral;
  try {
    dict = parsePythonLiteral(header);
  } catch (error) {
    if (error instanceof LiteralError) return fail(`not a Python literal: ${error.message}`);
    throw error;
  }
  if (!(dict instanceof Map)) return fail('not a dict literal');
  const keys = [...dict.keys()].map((k) => (typeof k === 'string' ? k : String(k))).sort();
  if (keys.join() !== 'descr,fortran_order,shape') fail(`keys ${keys.join(', ')}, expected descr, fortran_order, shape`);
  const descr = dict.get('descr');
  const fortran = dict.get('fortran_order');
  const shapeValue = dict.get('shape');
  if (typeof descr !== 'string') fail("'descr' is not a string (structured dtypes are not supported)");
  if (typeof fortran !== 'boolean') fail("'fortran_order' is not True or False");
  if (!(shapeValue instanceof PyLiteralTuple)) return fail("'shape' is not a tuple");
  const shape = shapeValue.items.map((d) => {
    // numpy checks isinstance(d, int), which True and False pass.
    const n = typeof d === 'boolean' ? Number(d) : d;
    // A dimension past 2^53 is not exact as a number (numpy refuses past 2^63 - 1 itself).
    if (typeof n !== 'bigint' && typeof n !== 'number') return fail('a shape entry is not an int');
    if (n < 0 || !Number.isSafeInteger(Number(n))) return fail(`shape entry ${n} is negative or too large`);
    return Number(n);
  });
  const count = shape.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(count)) fail(`shape (${shape.join(', ')}) is too large`);
  return { descr: descr as string, fortranOrder: fortran as boolean, shape };
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
  // Refused at the first opcode that cannot belong to an object array of `count` int lists.
  const value = unpickle(body, ctx, { compactIntLists: true, objectArray: { elements: count } });
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

// ---------------------------------------------------------------------------
// A Python literal parser for `.npy` headers: the part of `ast.literal_eval` that a
// header can use (dicts, tuples, lists, strings, ints, floats, True, False, None).

/** A tuple in a header literal (kept apart from a list: numpy requires a tuple shape). */
class PyLiteralTuple {
  constructor(readonly items: PyLiteral[]) {}
}
/** A float in a header literal, kept apart from an int (numpy refuses a shape of `(1.0,)`). */
class PyLiteralFloat {
  constructor(readonly value: number) {}
}
type PyLiteral = string | number | bigint | boolean | null | Uint8Array | PyLiteralFloat | PyLiteral[] | PyLiteralTuple | Map<PyLiteral, PyLiteral>;

/** Why a header is not a Python literal; parseHeaderDict names the header. */
class LiteralError extends Error {}

/** Nesting numpy headers never approach; deeper is refused rather than recursed into. */
const MAX_LITERAL_DEPTH = 32;
const ESCAPES: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\n': '' };

function parsePythonLiteral(text: string): PyLiteral {
  let pos = 0;
  const fail = (what: string): never => {
    throw new LiteralError(`${what} at character ${pos}`);
  };
  const skipSpace = (): void => {
    for (;;) {
      const c = text[pos];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') pos++;
      else if (c === '\\' && text[pos + 1] === '\n') pos += 2;
      else if (c === '#') while (pos < text.length && text[pos] !== '\n') pos++;
      else return;
    }
  };
  /** Items up to `close`, commas between, an optional trailing one; `tuple` tells whether a comma was seen. */
  const items = (close: string, depth: number, pair: boolean): { values: PyLiteral[]; comma: boolean } => {
    const values: PyLiteral[] = [];
    let comma = false;
    for (;;) {
      skipSpace();
      if (text[pos] === close) {
        pos++;
        return { values, comma };
      }
      values.push(value(depth + 1));
      if (pair) {
        skipSpace();
        if (text[pos] !== ':') fail("expected ':' in a dict");
        pos++;
        values.push(value(depth + 1));
      }
      skipSpace();
      if (text[pos] === ',') {
        comma = true;
        pos++;
      } else if (text[pos] !== close) fail(`expected ',' or '${close}'`);
    }
  };
  const value = (depth: number): PyLiteral => {
    if (depth > MAX_LITERAL_DEPTH) fail(`nested deeper than ${MAX_LITERAL_DEPTH}`);
    skipSpace();
    const c = text[pos];
    if (c === '{') {
      pos++;
      const { values } = items('}', depth, true);
      const dict = new Map<PyLiteral, PyLiteral>();
      // Python keeps the last of repeated keys.
      for (let i = 0; i < values.length; i += 2) dict.set(values[i], values[i + 1]);
      return dict;
    }
    if (c === '(') {
      pos++;
      const { values, comma } = items(')', depth, false);
      return values.length === 1 && !comma ? values[0] : new PyLiteralTuple(values);
    }
    if (c === '[') {
      pos++;
      return items(']', depth, false).values;
    }
    if (c === '-' || c === '+') {
      pos++;
      skipSpace();
      const n = value(depth + 1);
      if (typeof n === 'number') return c === '-' ? -n : n;
      if (typeof n === 'bigint') return c === '-' ? -n : n;
      if (n instanceof PyLiteralFloat) return c === '-' ? new PyLiteralFloat(-n.value) : n;
      return fail(`unary ${c} of something other than a number`);
    }
    if (c !== undefined && /[0-9.]/.test(c)) return number();
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(pos, pos + 64))?.[0];
    if (word !== undefined) {
      const quote = text[pos + word.length];
      if ((quote === "'" || quote === '"') && /^(r|u|b|br|rb)$/i.test(word)) return strings();
      pos += word.length;
      if (word === 'True') return true;
      if (word === 'False') return false;
      if (word === 'None') return null;
      return fail(`name '${word}' is not a literal`);
    }
    if (c === "'" || c === '"') return strings();
    return fail(c === undefined ? 'unexpected end' : `unexpected character '${c}'`);
  };
  const number = (): number | bigint | PyLiteralFloat => {
    const m = /^(0[xX](_?[0-9a-fA-F])+|0[oO](_?[0-7])+|0[bB](_?[01])+|\d(_?\d)*(\.(\d(_?\d)*)?)?([eE][+-]?\d(_?\d)*)?|\.\d(_?\d)*([eE][+-]?\d(_?\d)*)?)/.exec(text.slice(pos, pos + 4096));
    if (!m) return fail('malformed number');
    const token = m[0];
    pos += token.length;
    if (/^[0-9A-Za-z_]/.test(text[pos] ?? '')) fail(`malformed number '${token}${text[pos]}'`);
    const digits = token.replace(/_/g, '');
    if (/^0[xob]/i.test(digits)) return narrow(BigInt(digits.toLowerCase()));
    if (/[.eE]/.test(digits)) return new PyLiteralFloat(Number(digits));
    // Python 3 refuses leading zeros on a non-zero decimal int.
    if (/^0+[1-9]/.test(digits)) fail(`leading zeros in '${token}'`);
    return narrow(BigInt(digits));
  };
  const narrow = (n: bigint): number | bigint => (n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n);
  /** One string literal, or several side by side (Python concatenates them). */
  const strings = (): string | Uint8Array => {
    let out = '';
    let kind: 'str' | 'bytes' | undefined;
    for (;;) {
      const prefix = /^[A-Za-z]{0,2}/.exec(text.slice(pos, pos + 2))![0];
      const quote = text[pos + prefix.length];
      if ((quote !== "'" && quote !== '"') || !/^(|r|u|b|br|rb)$/i.test(prefix)) break;
      const bytes = /b/i.test(prefix);
      if (kind !== undefined && (kind === 'bytes') !== bytes) fail('str and bytes literals side by side');
      kind = bytes ? 'bytes' : 'str';
      out += string(/r/i.test(prefix), prefix.length);
      skipSpace();
    }
    if (kind === 'bytes') {
      if (/[^\x00-\x7f]/.test(out)) fail('a bytes literal with a non-ASCII character');
      return Uint8Array.from(out, (ch) => ch.charCodeAt(0));
    }
    return out;
  };
  const string = (raw: boolean, prefixLength: number): string => {
    pos += prefixLength;
    const q = text[pos];
    const triple = text.startsWith(q.repeat(3), pos);
    const close = triple ? q.repeat(3) : q;
    pos += close.length;
    let out = '';
    for (;;) {
      if (pos >= text.length) fail('unterminated string');
      if (text.startsWith(close, pos)) {
        pos += close.length;
        return out;
      }
      const ch = text[pos];
      if (ch === '\n' && !triple) fail('newline in a string');
      if (ch !== '\\') {
        out += ch;
        pos++;
        continue;
      }
      const next = text[pos + 1];
      if (next === undefined) fail('unterminated string');
      if (raw) {
        out += ch + next;
        pos += 2;
        continue;
      }
      pos += 2;
      if (Object.hasOwn(ESCAPES, next)) out += ESCAPES[next];
      else if (/[0-7]/.test(next)) {
        const digits = /^[0-7]{1,3}/.exec(text.slice(pos - 1, pos + 2))![0];
        out += String.fromCharCode(parseInt(digits, 8));
        pos += digits.length - 1;
      } else if (next === 'x' || next === 'u' || next === 'U') {
        const width = next === 'x' ? 2 : next === 'u' ? 4 : 8;
        const hex = text.slice(pos, pos + width);
        if (!new RegExp(`^[0-9a-fA-F]{${width}}$`).test(hex) || parseInt(hex, 16) > 0x10ffff) fail(`bad \\${next} escape`);
        out += String.fromCodePoint(parseInt(hex, 16));
        pos += width;
      } else if (next === 'N') fail('\\N{...} escapes are not supported');
      // Python keeps an unknown escape as it is.
      else out += ch + next;
    }
  };
  const result = value(0);
  skipSpace();
  if (pos !== text.length) fail('text after the literal');
  return result;
}
