/**
 * The fuzz harness shared by test/fuzz.test.ts (10,000 inputs in CI) and
 * bench/fuzz.ts (100,000 and more).
 *
 * Inputs are recipes drawn by fast-check (so a failure shrinks to a small one): a
 * starting file, either a real one from test/fixtures or a small npz/npy/pickle laid
 * out as numpy writes it (./writers.ts), then mutations: bit flips, byte edits,
 * inserts, deletes, truncation, splices from other files, corrupted length fields,
 * zip header fields, deflate streams broken but kept CRC-consistent, .npy headers
 * rewritten, pickle opcodes, arguments and memo indices replaced, snippets inserted.
 *
 * The property (`runCase`): every input loads correctly (exactly the values it was
 * built from, when it was built here and not broken) or throws a `DataError`; never
 * any other exception, never past a time bound, never allocating past a bound set
 * by the input's size. Where there are two ways to read, both must agree: Node's
 * zlib and fflate, plain and compact pickle lists.
 */
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { DataError } from '../../src/data/errors.js';
import { imdbFromNpz, parseWordIndex, type ImdbData, type LoadDataOptions } from '../../src/data/imdb.js';
import { readNpy, type NpyArray } from '../../src/data/npy.js';
import { IntList, NumpyArray, NumpyDtype, PyDict, PyGlobal, PyTuple, unpickle, type PyValue } from '../../src/data/pickle.js';
import { crc32, ZipArchive } from '../../src/data/zip.js';
import type { TrainParams } from '../../src/nn/callbacks.js';
import { readCheckpoint } from '../../src/nn/backup.js';
import { decodeWeightsFile, encodeWeights, WeightsFileError, type NamedWeights } from '../../src/nn/weights-file.js';
import { imdbMembers, npyBytes, npyDict, npyHeader, pickleObjectArray, zipBytes, type Dataset, type Review } from './writers.js';

export const READERS = ['zip', 'npy', 'pickle', 'imdb', 'weights', 'wordIndex'] as const;
export type Reader = (typeof READERS)[number];

// ---------------------------------------------------------------------------
// Corpus: the real files the mutations start from.

export interface Corpus {
  npz: NamedBytes[];
  npy: NamedBytes[];
  pickle: NamedBytes[];
}
interface NamedBytes {
  name: string;
  bytes: Uint8Array;
}

/** Every fixture npz, .npy (the npz members too) and pickle, the malicious ones included. */
export function loadCorpus(fixtures: string): Corpus {
  const files = (dir: string, ext: string): NamedBytes[] =>
    readdirSync(join(fixtures, dir))
      .filter((f) => f.endsWith(ext))
      .sort()
      .map((f) => ({ name: `${dir}/${f}`, bytes: new Uint8Array(readFileSync(join(fixtures, dir, f))) }));
  const npz = files('npz', '.npz');
  const members = npz.flatMap(({ name, bytes }) => {
    const zip = ZipArchive.open(bytes, name);
    return zip.names.map((m) => ({ name: `${name}:${m}`, bytes: zip.read(m) }));
  });
  return { npz, npy: [...files('npz', '.npy'), ...members], pickle: [...files('pickle', '.pkl'), ...files('malicious', '.pkl')] };
}

// ---------------------------------------------------------------------------
// Mutations. Positions are naturals taken modulo the length, so they shrink well.

/** Values that break length fields: zero, sign boundaries, all ones. */
const INTERESTING = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

export type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'insert'; at: number; bytes: number[] }
  | { op: 'delete'; at: number; count: number }
  | { op: 'truncate'; at: number }
  | { op: 'repeat'; at: number; count: number; times: number }
  | { op: 'splice'; at: number; source: number; from: number; count: number }
  | { op: 'field'; at: number; width: 1 | 2 | 4 | 8; value: number }
  /** A zip header field (sizes, offsets, name lengths, counts) set or nudged. */
  | { op: 'zipField'; field: number; value: number; nudge: boolean }
  /** The .npy header rewritten with other keys' values, version or length. */
  | { op: 'header'; descr: number; fortran: number; shape: number; version: number; lengthDelta: number }
  /** The opcode at a pickle op boundary replaced. */
  | { op: 'opcode'; index: number; code: number }
  /** An opcode's argument (length prefix, memo index, int) replaced. */
  | { op: 'opArg'; index: number; value: number }
  /** A snippet of opcodes inserted at an op boundary, possibly many times. */
  | { op: 'snippet'; index: number; snippet: number; times: number }
  | { op: 'dropOp'; index: number }
  /** A run of one stack-, mark- or memo-growing opcode, up to hundreds of thousands long. */
  | { op: 'run'; index: number; unit: number; count: number }
  /** A string, bytes, integer or GLOBAL line argument of a real (long) length. */
  | { op: 'longArg'; index: number; kind: number; length: number }
  /** The .npy header padded to a length around numpy's 10,000-byte limit, or far past it. */
  | { op: 'longHeader'; length: number }
  /** A local header made to disagree with the central directory, or a member grown over the next. */
  | { op: 'zipDisagree'; kind: 'name' | 'method' | 'crc' | 'sizes' | 'overlap'; member: number; delta: number }
  /** A weights file's header or data bit flipped (header bits drawn far more often than their share). */
  | { op: 'headerFlip'; at: number; bit: number }
  /** A weights file's header edited and its checksum recomputed, as a forger would. */
  | { op: 'forge'; kind: number; entry: number }
  /** A word index value replaced by a deep list or a long string, or a key lengthened. */
  | { op: 'json'; kind: 'deep' | 'longString' | 'longKey' | 'notInt'; size: number };

// Opcode tables: the pickle-aware mutations find op boundaries by walking them.

/** Fixed argument widths (FRAME's 8 bytes are its length: its content is opcodes). */
const FIXED_ARG: Record<number, number> = { 0x4b: 1, 0x4d: 2, 0x4a: 4, 0x47: 8, 0x68: 1, 0x6a: 4, 0x71: 1, 0x72: 4, 0x80: 1, 0x82: 1, 0x83: 2, 0x84: 4, 0x95: 8 };
/** Width of the length prefix of opcodes followed by that many bytes. */
const SIZED_ARG: Record<number, number> = { 0x43: 1, 0x55: 1, 0x8c: 1, 0x8a: 1, 0x42: 4, 0x54: 4, 0x58: 4, 0x8b: 4, 0x8d: 8, 0x8e: 8, 0x96: 8 };
/** Opcodes followed by newline-terminated lines (GLOBAL and INST: two). */
const LINE_ARGS: Record<number, number> = { 0x63: 2, 0x69: 2, 0x49: 1, 0x4c: 1, 0x46: 1, 0x53: 1, 0x56: 1, 0x67: 1, 0x70: 1, 0x50: 1 };

/** Applies `m` to `bytes` (never in place). `sources` are the files splices take bytes from. */
function mutate(bytes: Uint8Array, m: Mutation, sources: Uint8Array[]): Uint8Array {
  const n = bytes.length;
  const at = 'at' in m ? m.at % (n + 1) : 0;
  const join = (...parts: ArrayLike<number>[]): Uint8Array => {
    const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  };
  switch (m.op) {
    case 'flip':
    case 'set': {
      if (n === 0) return bytes;
      const out = bytes.slice();
      out[at % n] = m.op === 'flip' ? out[at % n] ^ (1 << m.bit) : m.value;
      return out;
    }
    case 'insert':
      return join(bytes.subarray(0, at), m.bytes, bytes.subarray(at));
    case 'delete':
      return join(bytes.subarray(0, at), bytes.subarray(at + m.count));
    case 'truncate':
      return bytes.slice(0, at);
    case 'repeat': {
      const chunk = bytes.subarray(at, at + m.count);
      return join(bytes.subarray(0, at), ...Array<Uint8Array>(m.times).fill(chunk), bytes.subarray(at));
    }
    case 'splice': {
      const source = sources.length ? sources[m.source % sources.length] : bytes;
      const from = m.from % (source.length + 1);
      return join(bytes.subarray(0, at), source.subarray(from, from + m.count), bytes.subarray(at));
    }
    case 'field':
      return setField(bytes, at, m.width, m.value);
    case 'zipField': {
      const fields = zipFields(bytes);
      if (fields.length === 0) return bytes;
      const { at: p, width } = fields[m.field % fields.length];
      const old = readField(bytes, p, width);
      // A nudge moves the field by a little (off-by-one lengths), else it is replaced.
      const value = m.nudge ? old + ((m.value % 7) - 3 || 1) : m.value;
      return setField(bytes, p, width, value);
    }
    case 'header':
      return rewriteHeader(bytes, m);
    case 'opcode':
    case 'opArg':
    case 'snippet':
    case 'dropOp':
    case 'run':
    case 'longArg':
      return mutatePickle(bytes, m);
    case 'longHeader':
      return padHeader(bytes, m.length);
    case 'zipDisagree':
      return disagreeZip(bytes, m);
    case 'headerFlip': {
      // Bits of the preamble and JSON header (the first 16 + H bytes) by preference.
      const headerEnd = Math.min(n, 16 + readField(bytes, 8, 4));
      const p = headerEnd > 0 && m.at % 4 !== 0 ? (m.at >>> 2) % headerEnd : m.at % Math.max(1, n);
      const out = bytes.slice();
      if (n > 0) out[p] ^= 1 << m.bit;
      return out;
    }
    case 'forge':
      return forgeWeights(bytes, m);
    case 'json':
      return editJson(bytes, m);
  }
}

function readField(bytes: Uint8Array, at: number, width: number): number {
  let v = 0;
  for (let i = width - 1; i >= 0; i--) v = v * 256 + (bytes[at + i] ?? 0);
  return v;
}

/** Writes `value` little-endian in `width` bytes at `at`, clipped to the buffer. */
function setField(bytes: Uint8Array, at: number, width: number, value: number): Uint8Array {
  const out = bytes.slice();
  let v = Math.max(0, Math.floor(value));
  for (let i = 0; i < width && at + i < out.length; i++) {
    out[at + i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

/** Offsets and widths of the numeric fields of every zip record found in `bytes`. */
function zipFields(bytes: Uint8Array): { at: number; width: number }[] {
  const fields: { at: number; width: number }[] = [];
  const add = (p: number, layout: [number, number][]) => layout.forEach(([o, w]) => p + o + w <= bytes.length && fields.push({ at: p + o, width: w }));
  for (let p = 0; p + 4 <= bytes.length; p++) {
    if (bytes[p] !== 0x50 || bytes[p + 1] !== 0x4b) continue;
    const sig = bytes[p + 2] | (bytes[p + 3] << 8);
    // Central header: flags, method, CRC, sizes, name/extra/comment lengths, local offset.
    if (sig === 0x0201) add(p, [[8, 2], [10, 2], [16, 4], [20, 4], [24, 4], [28, 2], [30, 2], [32, 2], [42, 4]]);
    // Local header: flags, method, sizes, name/extra lengths, and numpy's ZIP64 extra sizes.
    if (sig === 0x0403) add(p, [[6, 2], [8, 2], [18, 4], [22, 4], [26, 2], [28, 2], [34, 2], [36, 8], [44, 8]]);
    // End of central directory: entry counts, directory size and offset, comment length.
    if (sig === 0x0605) add(p, [[8, 2], [10, 2], [12, 4], [16, 4], [20, 2]]);
  }
  return fields;
}

/** Header values the `.npy` rewrite picks from (index -1 keeps the file's own). */
const DESCRS = [
  '<i8', '>i8', '|i1', '|u1', '<u2', '>i2', '<i4', '<u4', '<u8', '<f4', '>f8', '|b1', '|O', '<O', 'O', '=O', '=i4', '|i8', '<b1',
  '<constructor', '<__proto__', '|toString', '<hasOwnProperty', '<U10', '<c16', '<M8[s]', '<V8', '', '<', '>i16', "<i8', 'x': '",
  '<i0', '<f2', 'i8', '<i8\n',
];
const FORTRAN = ['True', 'False', '1', 'None', "'False'"];
const SHAPES = [
  '()', '(0,)', '(1,)', '(3,)', '(2, 3)', '(3, 2)', '(0, 0)', '(4294967296,)', '(4294967297,)', '(100000, 100000)', '(3037000500, 3037000500)',
  '(99999999999999999999,)', '(0, 99999999999999999999)', '(9007199254740993,)', '(-1,)', '(1.5,)', '(2, 0, 18446744073709551616)',
  `(${'1, '.repeat(3000)})`, '(,)', '(3)', '[3]', '(0x10,)', "('3',)", 'n+1', 'n-1', '2n', 'n, 1', '1, n', 'n, 0', 'n*n',
];

/** Bytes as latin-1 text, however many (a spread of 200,000 arguments overflows the stack). */
const latin1 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');

/** Rewrites the header dict of a `.npy` (no-op on other bytes), keeping the data after it. */
function rewriteHeader(bytes: Uint8Array, m: Extract<Mutation, { op: 'header' }>): Uint8Array {
  const parsed = npyLayout(bytes);
  if (!parsed) return bytes;
  const text = latin1(bytes.subarray(parsed.headerStart, parsed.dataOffset));
  const descr = m.descr >= 0 && m.descr < DESCRS.length ? DESCRS[m.descr] : (/'descr'\s*:\s*'([^']*)'/.exec(text)?.[1] ?? '<i8');
  const fortran = m.fortran >= 0 && m.fortran < FORTRAN.length ? FORTRAN[m.fortran] : (/'fortran_order'\s*:\s*(\w+)/.exec(text)?.[1] ?? 'False');
  const oldShape = /'shape'\s*:\s*(\([^)]*\))/.exec(text)?.[1] ?? '()';
  const n = (oldShape.match(/\d+/g) ?? []).map(Number).reduce((a, b) => a * b, 1);
  const shapeToken = m.shape >= 0 && m.shape < SHAPES.length ? SHAPES[m.shape] : oldShape;
  // Shapes written in terms of the element count n: off by one, doubled, squared.
  const shape = shapeToken.includes('n')
    ? `(${shapeToken.replace('n+1', String(n + 1)).replace('n-1', String(n - 1)).replace('2n', String(2 * n)).replace('n*n', String(n * n)).replace('n', String(n))},)`
    : shapeToken;
  const dict = npyDict(descr, false, shape).replace("'fortran_order': False", `'fortran_order': ${fortran}`);
  const version = (m.version === 0 ? parsed.version : m.version) as 1 | 2 | 3;
  const header = npyHeader(dict, version);
  if (m.lengthDelta !== 0) {
    const width = version === 1 ? 2 : 4;
    const length = readField(header, 8, width) + m.lengthDelta;
    header.set(setField(header, 8, width, length).subarray(8, 8 + width), 8);
  }
  const out = new Uint8Array(header.length + bytes.length - parsed.dataOffset);
  out.set(header);
  out.set(bytes.subarray(parsed.dataOffset), header.length);
  return out;
}

/** Where an intact `.npy` preamble says its header and data are; null if it is not one. */
function npyLayout(bytes: Uint8Array): { version: number; headerStart: number; dataOffset: number } | null {
  if (bytes.length < 12 || bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== 'NUMPY') return null;
  const version = bytes[6];
  if (version < 1 || version > 3) return null;
  const headerStart = version === 1 ? 10 : 12;
  const dataOffset = headerStart + readField(bytes, 8, version === 1 ? 2 : 4);
  return dataOffset <= bytes.length ? { version, headerStart, dataOffset } : null;
}

/** Applies `mutate` to the part of `bytes` after the `.npy` header (all of it when there is no header). */
function mutateBody(bytes: Uint8Array, m: Mutation, sources: Uint8Array[]): Uint8Array {
  const layout = npyLayout(bytes);
  if (!layout) return mutate(bytes, m, sources);
  const body = mutate(bytes.subarray(layout.dataOffset), m, sources);
  const out = new Uint8Array(layout.dataOffset + body.length);
  out.set(bytes.subarray(0, layout.dataOffset));
  out.set(body, layout.dataOffset);
  return out;
}

/** Start and argument of each op up to STOP or the first one that runs off the end. */
function pickleOps(bytes: Uint8Array): { at: number; argAt: number; argWidth: number; end: number }[] {
  const ops: { at: number; argAt: number; argWidth: number; end: number }[] = [];
  let p = 0;
  while (p < bytes.length) {
    const op = bytes[p];
    let end = p + 1;
    let argWidth = 0;
    if (op in FIXED_ARG) {
      argWidth = FIXED_ARG[op];
      end += argWidth;
    } else if (op in SIZED_ARG) {
      argWidth = SIZED_ARG[op];
      end += argWidth + readField(bytes, p + 1, argWidth);
    } else if (op in LINE_ARGS) {
      for (let line = 0; line < LINE_ARGS[op]; line++) {
        const nl = bytes.indexOf(0x0a, end);
        end = nl < 0 ? bytes.length + 1 : nl + 1;
      }
    }
    if (end > bytes.length) break;
    ops.push({ at: p, argAt: p + 1, argWidth, end });
    if (op === 0x2e) break;
    p = end;
  }
  return ops;
}

const ascii = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));
const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
/** Opcode snippets: structure, memo abuse, self-reference, forbidden globals, lengths past the end. */
const SNIPPETS: number[][] = [
  ...['(', ']', '}', ')', 'e', 'a', 's', 'u', 't', 'l', 'd', '0', '1', '2', 'R', 'b', '.', 'N', '\x85', '\x86', '\x87', '\x94', '\x93', '\x81'].map(ascii),
  [0x68, 0], [0x68, 0xff], [0x6a, ...u32(0xffffffff)], [0x6a, ...u32(0x7fffffff)], [0x71, 0], [0x72, ...u32(0xffffffff)],
  ascii(']q\x00h\x00a'), // a list appending itself
  ascii('}q\x00h\x00h\x00s'), // a dict holding itself under itself
  ascii('(]q\x00h\x00h\x00e'), // APPENDS of a list into itself
  ascii('cos\nsystem\n'), ascii('cposix\nsystem\n'), ascii('cbuiltins\neval\n'), ascii('csubprocess\nPopen\n'),
  [0x8c, 5, ...ascii('posix'), 0x8c, 6, ...ascii('system'), 0x93],
  ascii('cnumpy\ndtype\n'), ascii('cnumpy.core.multiarray\n_reconstruct\n'), ascii('c_codecs\nencode\n'), ascii('cnumpy\nndarray\n'),
  [0x58, ...u32(0x7fffffff)], [0x42, ...u32(0xffffffff)], [0x8e, ...u32(0xffffffff), ...u32(0xffffffff)], [0x8d, 0, 0, 0, 0, 0, 0, 0x20, 0],
  [0x95, ...u32(0xffffffff), 0, 0, 0, 0], [0x8b, ...u32(0x7fffffff)], [0x8a, 0xff], [0x54, ...u32(0xffffffff)], [0x80, 9], [0x80, 1],
  ascii('i'), ascii('o'), [0x92], [0x8a, 9, 1, 0, 0, 0, 0, 0, 0, 0, 0x80], [0x8b, 3, 0, 0, 0, 1, 2, 0xff],
  ascii('X\x02\x00\x00\x00\xff\xfe'), ascii('\x8c\x01\x00'),
];

/** Units of the `run` mutation: each grows the stack, the MARK stack, the memo or the list count by one. */
const RUN_UNITS: ((i: number) => number[])[] = [
  () => ascii('N'),
  () => ascii('('),
  () => ascii('2'),
  () => ascii(']'),
  () => ascii('}'),
  () => ascii(')'),
  () => [0x88],
  () => ascii('K\x01'),
  () => ascii('(]'),
  () => ascii(']a'),
  (i) => [0x4e, 0x72, ...u32(i)], // a new memo key each time
  () => [0x4e, 0x94],
];
const RUN_COUNTS = [1000, 10_000, 100_000, 300_000];

/** Argument kinds of the `longArg` mutation: an opcode with a length prefix of a width, or a GLOBAL/INST line. */
const LONG_ARGS: { code: number; width: 0 | 1 | 4 | 8 }[] = [
  { code: 0x58, width: 4 }, // BINUNICODE
  { code: 0x42, width: 4 }, // BINBYTES
  { code: 0x54, width: 4 }, // BINSTRING
  { code: 0x8b, width: 4 }, // LONG4
  { code: 0x8a, width: 1 }, // LONG1
  { code: 0x8c, width: 1 }, // SHORT_BINUNICODE
  { code: 0x8d, width: 8 }, // BINUNICODE8
  { code: 0x8e, width: 8 }, // BINBYTES8
  { code: 0x63, width: 0 }, // GLOBAL
  { code: 0x69, width: 0 }, // INST
];
const LONG_LENGTHS = [9, 10, 255, 256, 257, 8192, 8193, 100_000, 1_000_000];

function longArg(kind: number, length: number): Uint8Array {
  const { code, width } = LONG_ARGS[kind % LONG_ARGS.length];
  const len = width === 1 ? Math.min(255, length) : length;
  const out = new Uint8Array(1 + width + len + (width === 0 ? 9 : 0));
  out[0] = code;
  if (width === 0) {
    // module line of `len` bytes, then a short name line.
    out.fill(0x61, 1, 1 + len);
    out.set(ascii('\nsystem\n'), 1 + len);
    return out.subarray(0, 1 + len + 8);
  }
  for (let i = 0; i < width && i < 4; i++) out[1 + i] = (len >>> (8 * i)) & 0xff;
  out.fill(0x7f, 1 + width);
  return out;
}

function mutatePickle(bytes: Uint8Array, m: Extract<Mutation, { op: 'opcode' | 'opArg' | 'snippet' | 'dropOp' | 'run' | 'longArg' }>): Uint8Array {
  const ops = pickleOps(bytes);
  if (ops.length === 0) return bytes;
  const op = ops[m.index % ops.length];
  const splice = (from: number, to: number, insert: ArrayLike<number>): Uint8Array => {
    const out = new Uint8Array(bytes.length - (to - from) + insert.length);
    out.set(bytes.subarray(0, from));
    out.set(insert, from);
    out.set(bytes.subarray(to), from + insert.length);
    return out;
  };
  switch (m.op) {
    case 'opcode':
      return splice(op.at, op.at + 1, [m.code]);
    case 'opArg':
      return op.argWidth === 0 ? bytes : setField(bytes, op.argAt, op.argWidth, m.value);
    case 'snippet': {
      const snippet = SNIPPETS[m.snippet % SNIPPETS.length];
      const insert = new Uint8Array(snippet.length * m.times);
      for (let i = 0; i < m.times; i++) insert.set(snippet, i * snippet.length);
      return splice(op.at, op.at, insert);
    }
    case 'dropOp':
      return splice(op.at, op.end, []);
    case 'run': {
      const unit = RUN_UNITS[m.unit % RUN_UNITS.length];
      const count = RUN_COUNTS[m.count % RUN_COUNTS.length];
      const parts: number[] = [];
      for (let i = 0; i < count; i++) parts.push(...unit(i));
      return splice(op.at, op.at, parts);
    }
    case 'longArg':
      return splice(op.at, op.at, longArg(m.kind, LONG_LENGTHS[m.length % LONG_LENGTHS.length]));
  }
}

const HEADER_LENGTHS = [9_990, 10_000, 10_001, 65_535, 200_000];

/** The .npy's header padded with spaces to `HEADER_LENGTHS[length]` bytes (version 2 past 65,535). */
function padHeader(bytes: Uint8Array, length: number): Uint8Array {
  const layout = npyLayout(bytes);
  if (!layout) return bytes;
  const total = HEADER_LENGTHS[length % HEADER_LENGTHS.length];
  const version = total > 0xffff ? 2 : layout.version;
  const preamble = version === 1 ? 10 : 12;
  const text = latin1(bytes.subarray(layout.headerStart, layout.dataOffset)).trimEnd();
  const padded = text.padEnd(Math.max(text.length, total - 1), ' ') + '\n';
  const out = new Uint8Array(preamble + padded.length + bytes.length - layout.dataOffset);
  out.set(bytes.subarray(0, 6));
  out[6] = version;
  setField(out, 8, version === 1 ? 2 : 4, padded.length).subarray(8, preamble).forEach((b, i) => (out[8 + i] = b));
  for (let i = 0; i < padded.length; i++) out[preamble + i] = padded.charCodeAt(i);
  out.set(bytes.subarray(layout.dataOffset), preamble + padded.length);
  return out;
}

/** Central entries and their local headers, found by walking the central directory from the end record. */
function zipEntries(bytes: Uint8Array): { central: number; local: number; nameLength: number }[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = bytes.length - 22;
  while (eocd >= 0 && view.getUint32(eocd, true) !== 0x06054b50) eocd--;
  if (eocd < 0) return [];
  const entries: { central: number; local: number; nameLength: number }[] = [];
  let p = view.getUint32(eocd + 16, true);
  for (let i = 0; i < view.getUint16(eocd + 10, true) && p + 46 <= bytes.length && view.getUint32(p, true) === 0x02014b50; i++) {
    const local = view.getUint32(p + 42, true);
    if (local + 30 <= bytes.length) entries.push({ central: p, local, nameLength: view.getUint16(p + 28, true) });
    p += 46 + view.getUint16(p + 28, true) + view.getUint16(p + 30, true) + view.getUint16(p + 32, true);
  }
  return entries;
}

function disagreeZip(bytes: Uint8Array, m: Extract<Mutation, { op: 'zipDisagree' }>): Uint8Array {
  const entries = zipEntries(bytes);
  if (entries.length === 0) return bytes;
  const { central, local, nameLength } = entries[m.member % entries.length];
  const out = bytes.slice();
  const view = new DataView(out.buffer);
  const zip64 = view.getUint32(local + 18, true) === 0xffffffff && local + 30 + nameLength + 20 <= out.length;
  switch (m.kind) {
    case 'name':
      if (nameLength > 0) out[local + 30 + (m.delta % nameLength)] ^= 0x20;
      break;
    case 'method':
      view.setUint16(local + 8, view.getUint16(local + 8, true) === 0 ? 8 : 0, true);
      break;
    case 'crc':
      out[local + 14 + (m.delta % 4)] ^= 1;
      break;
    case 'sizes':
      if (zip64) view.setUint32(local + 30 + nameLength + 4, view.getUint32(local + 30 + nameLength + 4, true) + 1 + (m.delta % 3), true);
      else view.setUint32(local + 22, view.getUint32(local + 22, true) + 1, true);
      break;
    case 'overlap': {
      // Both headers grow the member's compressed size, so only the overlap check can catch it.
      const grow = 1 + (m.delta % 64);
      view.setUint32(central + 20, view.getUint32(central + 20, true) + grow, true);
      if (zip64) view.setUint32(local + 30 + nameLength + 12, view.getUint32(local + 30 + nameLength + 12, true) + grow, true);
      else view.setUint32(local + 18, view.getUint32(local + 18, true) + grow, true);
      break;
    }
  }
  return out;
}

// Weights files and checkpoints.

const SGW_PREAMBLE = 16;

/** The weights file's header as JSON, or null when it is not an intact one. */
function sgwHeader(bytes: Uint8Array): Record<string, unknown> | null {
  if (bytes.length < SGW_PREAMBLE) return null;
  const length = readField(bytes, 8, 4);
  try {
    return JSON.parse(new TextDecoder().decode(bytes.subarray(SGW_PREAMBLE, SGW_PREAMBLE + length)));
  } catch {
    return null;
  }
}

/** Re-encodes `header` (an object, or JSON text as is) over the file's data, with a correct checksum: a forger's edit. */
export function forgedWeights(header: unknown, data: Uint8Array): Uint8Array {
  const text = new TextEncoder().encode(typeof header === 'string' ? header : (JSON.stringify(header) ?? 'null'));
  const dataStart = (SGW_PREAMBLE + text.length + 3) & ~3;
  const out = new Uint8Array(dataStart + data.length);
  out.set(ascii('SGWTS002'));
  setField(out, 8, 4, text.length).subarray(8, 12).forEach((b, i) => (out[8 + i] = b));
  out.set(text, SGW_PREAMBLE);
  out.set(data, dataStart);
  const crc = crc32(out.subarray(SGW_PREAMBLE), crc32(out.subarray(0, 12)));
  setField(out, 12, 4, crc).subarray(12, 16).forEach((b, i) => (out[12 + i] = b));
  return out;
}

/** The edits a forger makes to a header (then recomputes the checksum): each must still be refused or load right. */
const FORGERIES: ((h: any, entry: number, data: Uint8Array) => unknown)[] = [
  (h, e) => ((h.weights[e % h.weights.length].offset += 1), h),
  (h, e) => ((h.weights[e % h.weights.length].offset -= 1), h),
  (h, e) => ((h.weights[e % h.weights.length].offset += 0.5), h),
  (h, e) => ((h.weights[e % h.weights.length].offset = 2 ** 53), h),
  (h, e) => ((h.weights[e % h.weights.length].length += 1), h),
  (h, e) => ((h.weights[e % h.weights.length].shape = null), h),
  (h, e) => ((h.weights[e % h.weights.length] = null), h),
  (h, e) => ((h.weights[e % h.weights.length].name = 'x'.repeat(100_000)), h),
  (h) => ((h.weights = h.weights.reverse()), h),
  () => null,
  (h) => ((h.weights = null), h),
  (h) => ((h.meta = 'x'), h),
  (h) => h.meta && ((h.meta.history = { loss: 'abc' }), h),
  (h) => h.meta && ((h.meta.history = { loss: [1, 2, 3, 4, 5, 6, 7, 8, 9] }), h),
  (h) => h.meta && ((h.meta.history = JSON.parse('{"__proto__": [1]}')), h),
  (h) => h.meta && ((h.meta.iterations = -1), h),
  (h) => h.meta && ((h.meta.iterations = 1.5), h),
  (h) => h.meta && ((h.meta.epoch = 0), h),
  (h) => h.meta && ((h.meta.epoch = 1e9), h),
  (h) => h.meta && ((h.meta.params = null), h),
  (h) => h.meta && ((h.meta.optimizer = { name: 'adam', slots: [{}] }), h),
  (h) => h.meta && ((h.meta.history = { loss: [[[[[[[[[[[]]]]]]]]]]] }), h),
  (h) => h.meta && ((h.meta.epoch = '1'), h),
];

function forgeWeights(bytes: Uint8Array, m: Extract<Mutation, { op: 'forge' }>): Uint8Array {
  const header = sgwHeader(bytes);
  if (!header || !Array.isArray(header.weights) || header.weights.length === 0) return bytes;
  const dataStart = (SGW_PREAMBLE + readField(bytes, 8, 4) + 3) & ~3;
  const data = bytes.slice(dataStart);
  // A NaN written into the data (kind past the header edits) also needs only a new checksum.
  if (m.kind % (FORGERIES.length + 1) === FORGERIES.length) {
    const floats = Math.floor(data.length / 4);
    if (floats > 0) new DataView(data.buffer).setFloat32(4 * (m.entry % floats), NaN, true);
    return forgedWeights(header, data);
  }
  try {
    return forgedWeights(FORGERIES[m.kind % (FORGERIES.length + 1)](header, m.entry, data) ?? header, data);
  } catch {
    // An edit that does not apply to this header (an earlier forgery nulled what it edits).
    return bytes;
  }
}

// Word index JSON.

function editJson(bytes: Uint8Array, m: Extract<Mutation, { op: 'json' }>): Uint8Array {
  const text = new TextDecoder().decode(bytes);
  const colon = text.indexOf(':');
  if (colon < 0) return bytes;
  const end = text.indexOf(',', colon) < 0 ? text.lastIndexOf('}') : text.indexOf(',', colon);
  const size = [10, 1000, 100_000, 300_000][m.size % 4];
  let edited: string;
  switch (m.kind) {
    case 'deep':
      edited = `${text.slice(0, colon + 1)} ${'['.repeat(size)}${']'.repeat(size)}${text.slice(end)}`;
      break;
    case 'longString':
      edited = `${text.slice(0, colon + 1)} "${'w'.repeat(size * 3)}"${text.slice(end)}`;
      break;
    case 'longKey':
      edited = `{"${'k'.repeat(size * 3)}": 1, ${text.slice(1)}`;
      break;
    case 'notInt':
      edited = `${text.slice(0, colon + 1)} ${['1.5', '-1', '0', 'null', 'true', '1e400', '{}', '"7"'][m.size % 8]}${text.slice(end)}`;
      break;
  }
  return new TextEncoder().encode(edited);
}

/** Every opcode with a meaning, the ones the reader refuses included. */
const OPCODES = [
  ...[0x28, 0x29, 0x2e, 0x30, 0x31, 0x32, 0x4e, 0x52, 0x5d, 0x61, 0x62, 0x64, 0x65, 0x6c, 0x73, 0x74, 0x75, 0x7d, 0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x93, 0x94],
  ...[FIXED_ARG, SIZED_ARG, LINE_ARGS].flatMap((table) => Object.keys(table).map(Number)),
];

// The mutations' arbitraries; indices into the tables above wrap, and -1 keeps the file's own value.

const nat = fc.nat();
const interesting = fc.oneof(fc.constantFrom(...INTERESTING), fc.nat({ max: 0xffffffff }));
const byteMutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('flip' as const), at: nat, bit: fc.nat({ max: 7 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('set' as const), at: nat, value: fc.nat({ max: 255 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('insert' as const), at: nat, bytes: fc.array(fc.nat({ max: 255 }), { minLength: 1, maxLength: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), at: nat, count: fc.integer({ min: 1, max: 16 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: nat }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('repeat' as const), at: nat, count: fc.integer({ min: 1, max: 32 }), times: fc.integer({ min: 1, max: 64 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('splice' as const), at: nat, source: nat, from: nat, count: fc.integer({ min: 1, max: 256 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('field' as const), at: nat, width: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const), value: interesting }) },
);
const zipMutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ op: fc.constant('zipField' as const), field: nat, value: interesting, nudge: fc.boolean() }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('zipDisagree' as const), kind: fc.constantFrom('name' as const, 'method' as const, 'crc' as const, 'sizes' as const, 'overlap' as const), member: nat, delta: nat }),
  },
);
const longHeaderMutation: fc.Arbitrary<Mutation> = fc.record({ op: fc.constant('longHeader' as const), length: nat });
const headerMutation: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constant('header' as const),
  descr: fc.integer({ min: -1, max: DESCRS.length - 1 }),
  fortran: fc.integer({ min: -1, max: FORTRAN.length - 1 }),
  shape: fc.integer({ min: -1, max: SHAPES.length - 1 }),
  version: fc.nat({ max: 3 }),
  lengthDelta: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -3, max: 3 }) }),
});
const pickleMutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ op: fc.constant('opcode' as const), index: nat, code: fc.oneof(fc.constantFrom(...OPCODES), fc.nat({ max: 255 })) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('opArg' as const), index: nat, value: interesting }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('snippet' as const),
      index: nat,
      snippet: nat,
      times: fc.oneof({ weight: 5, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 2, max: 5000 }) }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('dropOp' as const), index: nat }) },
  { weight: 3, arbitrary: byteMutation },
  // Rare: each makes an input of up to 1.5 MB.
  { weight: 1, arbitrary: fc.record({ op: fc.constant('run' as const), index: nat, unit: nat, count: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 3, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.nat({ max: 3 }) }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('longArg' as const), index: nat, kind: nat, length: fc.oneof({ weight: 4, arbitrary: fc.nat({ max: 6 }) }, { weight: 1, arbitrary: nat }) }) },
);
const weightsMutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('headerFlip' as const), at: nat, bit: fc.nat({ max: 7 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('forge' as const), kind: nat, entry: nat }) },
  { weight: 2, arbitrary: byteMutation },
);
const jsonMutation: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('json' as const),
      kind: fc.constantFrom('deep' as const, 'longString' as const, 'longKey' as const, 'notInt' as const),
      // Sizes index [10, 1,000, 100,000, 300,000]: the large ones (up to 900 KB of JSON) one time in twenty.
      size: fc.oneof({ weight: 19, arbitrary: fc.nat({ max: 1 }) }, { weight: 1, arbitrary: nat }),
    }),
  },
  { weight: 1, arbitrary: byteMutation },
);

const mutations = (one: fc.Arbitrary<Mutation>) => fc.array(one, { minLength: 1, maxLength: 4 });

// ---------------------------------------------------------------------------
// Recipes: what fast-check draws. `buildCase` turns one into bytes.

const word = fc.oneof(fc.nat({ max: 0xff }), fc.integer({ min: 0x100, max: 0xffff }), fc.integer({ min: 0x10000, max: 2 ** 20 - 4 }));
const review = fc.record({
  words: fc.oneof(
    { weight: 20, arbitrary: fc.array(word, { maxLength: 24 }) },
    // Over 1,000 words: the pickler splits the list over several APPENDS.
    { weight: 1, arbitrary: fc.array(word, { minLength: 1001, maxLength: 1040 }) },
  ),
  label: fc.constantFrom(0 as const, 1 as const),
});
const datasetArb: fc.Arbitrary<Dataset> = fc.record({ train: fc.array(review, { maxLength: 6 }), test: fc.array(review, { maxLength: 6 }) });
const protocolArb = fc.constantFrom(2 as const, 4 as const);
const methodArb = fc.constantFrom(0 as const, 8 as const);

const NUMERIC_DESCRS = ['|b1', '|i1', '|u1', '<i2', '>i2', '<u2', '<i4', '>i4', '<u4', '<i8', '>i8', '<u8', '>u8', '<f4', '>f4', '<f8', '>f8'];
const numericArb = fc.record({
  descr: fc.constantFrom(...NUMERIC_DESCRS),
  shape: fc.array(fc.nat({ max: 5 }), { maxLength: 3 }),
  fortran: fc.boolean(),
  seed: fc.nat(),
});

/** A member of a generated npz broken at one layer: its .npy (header and body), its pickle, or its deflate stream. */
export interface MemberEdit {
  member: number;
  layer: 'npy' | 'pickle' | 'stream';
  mutations: Mutation[];
}
const memberEdit: fc.Arbitrary<MemberEdit> = fc.oneof(
  fc.record({ member: nat, layer: fc.constant('npy' as const), mutations: mutations(fc.oneof(headerMutation, byteMutation, longHeaderMutation)) }),
  fc.record({ member: nat, layer: fc.constant('pickle' as const), mutations: mutations(pickleMutation) }),
  fc.record({ member: nat, layer: fc.constant('stream' as const), mutations: mutations(byteMutation) }),
);

export type Recipe =
  | { reader: Reader; base: 'fixture'; index: number; mutations: Mutation[]; options: number }
  | { reader: 'zip' | 'imdb'; base: 'npz'; dataset: Dataset; protocol: 2 | 4; method: 0 | 8; edits: MemberEdit[]; mutations: Mutation[]; options: number }
  | { reader: 'npy' | 'pickle'; base: 'dataset'; dataset: Dataset; protocol: 2 | 4; mutations: Mutation[] }
  | { reader: 'npy'; base: 'numeric'; numeric: { descr: string; shape: number[]; fortran: boolean; seed: number }; mutations: Mutation[] }
  | { reader: 'weights'; base: 'weights'; shapes: number[][]; checkpoint: boolean; seed: number; mutations: Mutation[] }
  | { reader: 'wordIndex'; base: 'wordIndex'; words: string[]; mutations: Mutation[] };

/** imdbFromNpz options a recipe picks from; the first is the one valid inputs are checked with. */
const IMDB_OPTIONS: LoadDataOptions[] = [
  { numWords: 2 ** 20 },
  {},
  { numWords: 20, skipTop: 2 },
  { maxlen: 10 },
  { startChar: null, numWords: 50 },
  { oovChar: null, numWords: 100, indexFrom: 0 },
  { seed: 7, maxlen: 1000 },
];

/** Recipes for one reader: from real files and from generated ones, some left intact. */
export function recipes(reader: Reader): fc.Arbitrary<Recipe> {
  const some = (one: fc.Arbitrary<Mutation>) => fc.oneof({ weight: 1, arbitrary: fc.constant<Mutation[]>([]) }, { weight: 9, arbitrary: mutations(one) });
  const options = fc.nat({ max: IMDB_OPTIONS.length - 1 });
  const fixture = (one: fc.Arbitrary<Mutation>) =>
    fc.record({ reader: fc.constant(reader), base: fc.constant('fixture' as const), index: nat, mutations: mutations(one), options });
  switch (reader) {
    case 'zip':
    case 'imdb': {
      const archive = fc.oneof({ weight: 2, arbitrary: byteMutation }, { weight: 1, arbitrary: zipMutation });
      const generated = fc.record({
        reader: fc.constant(reader),
        base: fc.constant('npz' as const),
        dataset: datasetArb,
        protocol: protocolArb,
        method: methodArb,
        edits: fc.oneof(fc.constant<MemberEdit[]>([]), fc.array(memberEdit, { minLength: 1, maxLength: 2 })),
        mutations: fc.oneof({ weight: 3, arbitrary: fc.constant<Mutation[]>([]) }, { weight: 2, arbitrary: mutations(archive) }),
        options,
      });
      return fc.oneof({ weight: 1, arbitrary: fixture(archive) }, { weight: 3, arbitrary: generated });
    }
    case 'weights':
      return fc.record({
        reader: fc.constant('weights' as const),
        base: fc.constant('weights' as const),
        shapes: fc.array(fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 2 }), { minLength: 1, maxLength: 3 }),
        checkpoint: fc.boolean(),
        seed: nat,
        mutations: some(weightsMutation),
      });
    case 'wordIndex':
      return fc.record({
        reader: fc.constant('wordIndex' as const),
        base: fc.constant('wordIndex' as const),
        words: fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 8 }),
        mutations: some(jsonMutation),
      });
    case 'npy': {
      const npy = fc.oneof(headerMutation, byteMutation, pickleMutation, longHeaderMutation);
      return fc.oneof(
        { weight: 1, arbitrary: fixture(npy) },
        { weight: 1, arbitrary: fc.record({ reader: fc.constant('npy' as const), base: fc.constant('numeric' as const), numeric: numericArb, mutations: some(fc.oneof(headerMutation, byteMutation)) }) },
        { weight: 1, arbitrary: fc.record({ reader: fc.constant('npy' as const), base: fc.constant('dataset' as const), dataset: datasetArb, protocol: protocolArb, mutations: some(npy) }) },
      );
    }
    case 'pickle':
      return fc.oneof(
        { weight: 1, arbitrary: fixture(pickleMutation) },
        { weight: 2, arbitrary: fc.record({ reader: fc.constant('pickle' as const), base: fc.constant('dataset' as const), dataset: datasetArb, protocol: protocolArb, mutations: some(pickleMutation) }) },
      );
  }
}

/** One input: its bytes, a label for reports, and, for an intact generated file, what it must load as. */
export interface FuzzCase {
  reader: Reader;
  /** Where it came from and the mutations applied, e.g. `dataset p4 deflated | npy:header | flip`. */
  label: string;
  /** The mutation kinds applied, for the per-kind counts. */
  ops: string[];
  bytes: Uint8Array;
  options?: LoadDataOptions;
  /** For a checkpoint: the model and fit it must match (read with readCheckpoint). */
  checkpoint?: { shapes: number[][]; params: TrainParams; slots: string[] };
  /** Says what is wrong with a loaded value, or null when it is right. */
  verify?: (loaded: unknown) => string | null;
}

export function buildCase(recipe: Recipe, corpus: Corpus): FuzzCase {
  const ops = recipe.mutations.map((m) => m.op);
  const sources = [...corpus.npz, ...corpus.npy, ...corpus.pickle].map((f) => f.bytes);
  const apply = (bytes: Uint8Array, list: Mutation[], body = false) =>
    list.reduce<Uint8Array>((b, m) => (body && m.op !== 'header' ? mutateBody(b, m, sources) : mutate(b, m, sources)), bytes);
  const intact = recipe.mutations.length === 0;

  if (recipe.base === 'fixture') {
    const files = recipe.reader === 'npy' ? corpus.npy : recipe.reader === 'pickle' ? corpus.pickle : corpus.npz;
    const file = files[recipe.index % files.length];
    return {
      reader: recipe.reader,
      label: [file.name, ...ops].join(' | '),
      ops,
      bytes: apply(file.bytes, recipe.mutations, recipe.reader === 'npy'),
      options: IMDB_OPTIONS[recipe.options],
    };
  }
  if (recipe.base === 'numeric') {
    const { descr, shape, fortran, seed } = recipe.numeric;
    const size = Number(descr.slice(2));
    const count = shape.reduce((a, b) => a * b, 1);
    const data = pseudoRandomBytes(count * size, seed);
    if (descr === '|b1') data.forEach((v, i) => (data[i] = v & 1));
    const bytes = npyBytes(descr, shape, data, fortran);
    return {
      reader: 'npy',
      label: [`numeric ${descr} (${shape.join(', ')})${fortran ? ' F' : ''}`, ...ops].join(' | '),
      ops,
      bytes: apply(bytes, recipe.mutations, true),
      verify: intact ? (loaded) => checkNumeric(loaded as NpyArray, descr, shape, fortran, data) : undefined,
    };
  }
  if (recipe.base === 'weights') return weightsCase(recipe, apply, ops);
  if (recipe.base === 'wordIndex') {
    const ranks = new Map(recipe.words.map((w, i) => [w, i + 1]));
    const bytes = new TextEncoder().encode(JSON.stringify(Object.fromEntries(ranks)));
    return {
      reader: 'wordIndex',
      label: [`word index of ${ranks.size}`, ...ops].join(' | '),
      ops,
      bytes: apply(bytes, recipe.mutations),
      // Compared sorted: JSON.parse lists integer-like keys ("0") first, which changes no rank.
      verify: intact ? (loaded) => (JSON.stringify([...(loaded as Map<string, number>)].sort()) === JSON.stringify([...ranks].sort()) ? null : 'ranks differ') : undefined,
    };
  }
  const lists = (split: 'train' | 'test') => recipe.dataset[split].map((r) => r.words);
  if (recipe.base === 'dataset') {
    const all = [...lists('train'), ...lists('test')];
    const base = recipe.reader === 'pickle' ? pickleObjectArray(all, recipe.protocol) : npyBytes('|O', [all.length], pickleObjectArray(all, recipe.protocol));
    return {
      reader: recipe.reader,
      label: [`dataset p${recipe.protocol}`, ...ops].join(' | '),
      ops,
      bytes: apply(base, recipe.mutations, recipe.reader === 'npy'),
      verify: intact ? (loaded) => checkLists(recipe.reader === 'pickle' ? (loaded as NumpyArray).data : (loaded as NpyArray).data, all) : undefined,
    };
  }

  // A generated npz: members broken at one layer each, then the archive bytes.
  const members = imdbMembers(recipe.dataset, recipe.protocol).map((m) => ({ ...m, method: recipe.method, compressed: undefined as Uint8Array | undefined }));
  const editOps: string[] = [];
  for (const edit of recipe.edits) {
    const m = members[edit.member % members.length];
    editOps.push(...edit.mutations.map((x) => `${edit.layer}:${x.op}`));
    if (edit.layer === 'stream') Object.assign(m, breakStream(m.data, edit.mutations, sources));
    else m.data = apply(m.data, edit.mutations, edit.layer === 'pickle');
  }
  const archive = apply(zipBytes(members), recipe.mutations);
  const allOps = [...editOps, ...ops];
  const intactNpz = allOps.length === 0;
  return {
    reader: recipe.reader,
    label: [`dataset p${recipe.protocol} ${recipe.method === 8 ? 'deflated' : 'stored'}`, ...allOps].join(' | '),
    ops: allOps,
    bytes: archive,
    options: IMDB_OPTIONS[recipe.options],
    verify: !intactNpz
      ? undefined
      : recipe.reader === 'zip'
        ? (loaded) => checkMembers(loaded as Map<string, Uint8Array>, members)
        : recipe.options === 0
          ? (loaded) => checkImdb(loaded as ImdbData, recipe.dataset)
          : undefined,
  };
}

const CHECKPOINT_SLOTS = ['momentum', 'velocity'];

/** A weights file or a checkpoint (model weights, then two optimizer slots, and training state) as shadergrad writes them. */
function weightsCase(recipe: Extract<Recipe, { base: 'weights' }>, apply: (b: Uint8Array, list: Mutation[]) => Uint8Array, ops: string[]): FuzzCase {
  const { shapes, checkpoint, seed } = recipe;
  const floats = (shape: number[], salt: number) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => ((seed + salt * 31 + i * 7) % 97) / 16 - 3);
  const model = shapes.map((shape, i): NamedWeights => ({ name: `layer_${i}/kernel`, shape, values: floats(shape, i) }));
  const slots = checkpoint ? CHECKPOINT_SLOTS.flatMap((slot, s) => model.map((w, i) => ({ ...w, name: `optimizer/${slot}/${w.name}`, values: floats(w.shape, 10 + s * 5 + i) }))) : [];
  const epoch = 1 + (seed % 3);
  const params: TrainParams = { epochs: 4, batchSize: 8, samples: 64, steps: 8, shuffle: true, seed: 5 };
  const meta = checkpoint
    ? { kind: 'shadergrad-checkpoint', epoch, history: { loss: Array.from({ length: epoch }, (_, i) => 1 / (i + 1)) }, params, iterations: epoch * params.steps, optimizer: { name: 'adam', slots: CHECKPOINT_SLOTS } }
    : undefined;
  const all = [...model, ...slots];
  const intact = recipe.mutations.length === 0;
  return {
    reader: 'weights',
    label: [`${checkpoint ? 'checkpoint' : 'weights'} of [${shapes.map((s) => s.join('x')).join(', ')}]`, ...ops].join(' | '),
    ops,
    bytes: apply(encodeWeights(all, meta), recipe.mutations),
    checkpoint: checkpoint ? { shapes, params, slots: CHECKPOINT_SLOTS } : undefined,
    verify: intact ? (loaded) => (sameWeights((loaded as { weights: NamedWeights[] }).weights, all) ? null : 'weights differ') : undefined,
  };
}

function sameWeights(a: NamedWeights[], b: NamedWeights[]): boolean {
  return a.length === b.length && a.every((w, i) => w.name === b[i].name && JSON.stringify(w.shape) === JSON.stringify(b[i].shape) && w.values.every((v, j) => Object.is(v, b[i].values[j])));
}

/**
 * Breaks a member's deflate stream. Where zlib still inflates the broken stream the
 * member's CRC and size are made to describe what it inflates to, so that the reader
 * accepts the archive and its inflater, then the .npy and pickle readers, see garbage;
 * where zlib refuses it, the inflater must refuse it too (or the CRC catches it).
 */
function breakStream(data: Uint8Array, list: Mutation[], sources: Uint8Array[]): { method: 8; data: Uint8Array; compressed: Uint8Array } {
  const compressed = list.reduce<Uint8Array>((b, m) => mutate(b, m, sources), new Uint8Array(deflateRawSync(data)));
  try {
    const inflated = inflateRawSync(compressed, { maxOutputLength: 1 << 24 });
    return { method: 8, data: new Uint8Array(inflated.buffer, inflated.byteOffset, inflated.length), compressed };
  } catch {
    return { method: 8, data, compressed };
  }
}

function pseudoRandomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Checks of what an intact input loads as.

function checkNumeric(array: NpyArray, descr: string, shape: number[], fortran: boolean, data: Uint8Array): string | null {
  if (JSON.stringify(array.shape) !== JSON.stringify(shape)) return `shape ${array.shape}, expected ${shape}`;
  const size = Number(descr.slice(2));
  const little = descr[0] !== '>';
  const view = new DataView(data.buffer);
  const read = (i: number): unknown => {
    const o = i * size;
    switch (descr.slice(1)) {
      case 'b1': case 'u1': return view.getUint8(o);
      case 'i1': return view.getInt8(o);
      case 'i2': return view.getInt16(o, little);
      case 'u2': return view.getUint16(o, little);
      case 'i4': return view.getInt32(o, little);
      case 'u4': return view.getUint32(o, little);
      case 'i8': return view.getBigInt64(o, little);
      case 'u8': return view.getBigUint64(o, little);
      case 'f4': return view.getFloat32(o, little);
      default: return view.getFloat64(o, little);
    }
  };
  const values = array.data as ArrayLike<unknown>;
  for (let c = 0; c < values.length; c++) {
    // The file holds element c (row-major) at its column-major position when Fortran-ordered.
    let f = c;
    if (fortran) {
      let rest = c;
      const index = shape.map(() => 0);
      for (let d = shape.length - 1; d >= 0; d--) {
        index[d] = rest % shape[d];
        rest = Math.floor(rest / shape[d]);
      }
      f = 0;
      for (let d = shape.length - 1; d >= 0; d--) f = f * shape[d] + index[d];
    }
    if (!Object.is(values[c], read(f))) return `element ${c} is ${values[c]}, expected ${read(f)}`;
  }
  return values.length === data.length / size ? null : `${values.length} elements, expected ${data.length / size}`;
}

function checkLists(data: unknown, want: number[][]): string | null {
  if (!Array.isArray(data) || data.length !== want.length) return `not ${want.length} lists`;
  for (let i = 0; i < want.length; i++) {
    const got = data[i] instanceof IntList ? data[i].toArray() : data[i];
    if (JSON.stringify(got) !== JSON.stringify(want[i])) return `list ${i} differs`;
  }
  return null;
}

function checkMembers(loaded: Map<string, Uint8Array>, members: { name: string; data: Uint8Array }[]): string | null {
  for (const m of members) if (!equalBytes(loaded.get(m.name), m.data)) return `member ${m.name} differs`;
  return loaded.size === members.length ? null : `${loaded.size} members`;
}

/** With numWords past every index, load_data only shuffles, prepends 1 and adds 3: compare as multisets. */
function checkImdb([[xTrain, yTrain], [xTest, yTest]]: ImdbData, dataset: Dataset): string | null {
  const pairs = (x: ImdbData[0][0], y: Uint8Array) => x.toArrays().map((r, i) => JSON.stringify([r, y[i]])).sort();
  const want = (split: Review[]) => split.map((r) => JSON.stringify([[1, ...r.words.map((w) => w + 3)], r.label])).sort();
  if (JSON.stringify(pairs(xTrain, yTrain)) !== JSON.stringify(want(dataset.train))) return 'train split differs';
  if (JSON.stringify(pairs(xTest, yTest)) !== JSON.stringify(want(dataset.test))) return 'test split differs';
  return null;
}

function equalBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && a.length === b.length && a.every((v, i) => v === b[i]);
}

// ---------------------------------------------------------------------------
// The property.

/** Breaks the property: not a DataError, too slow, too much memory, a wrong value, two readers disagreeing. */
export class PropertyViolation extends Error {}

export interface Limits {
  /**
   * Most milliseconds of CPU (user and system) one input may take: CPU, not wall time, so that
   * a run under `nice` on a busy machine, descheduled for seconds, measures the reader's work.
   */
  ms: number;
  /** Most bytes of ArrayBuffers an input may allocate, per byte of input, plus `baseBytes`. */
  bytesPerInputByte: number;
  baseBytes: number;
  /** Most bytes an input may add to ArrayBuffers and the JS heap together, whatever its size. */
  totalBytes: number;
}
/**
 * 2 s an input; ArrayBuffers as deflate's ceiling allows: 1,032 bytes out per byte in,
 * up to three times (zlib, its fflate fallback, then fflate alone), rounded up, plus 32 MiB;
 * and 512 MiB of ArrayBuffers and heap together, the README's bound for a file under 2 MB.
 */
export const LIMITS: Limits = { ms: 2000, bytesPerInputByte: 4096, baseBytes: 32 << 20, totalBytes: 512 << 20 };

/** The errors a reader may end with: one typed line, never anything else. */
function isTypedError(error: unknown): error is Error {
  return error instanceof DataError || error instanceof WeightsFileError;
}

/** Longest message a typed error may carry (README: one line of at most 1,000 characters). */
const MAX_MESSAGE = 1000;

export type Loader = (c: FuzzCase) => unknown;

export const LOADERS: Record<Reader, Loader> = {
  zip: (c) => agree(c, 'native zlib and fflate', () => readAll(c.bytes, 'native'), () => readAll(c.bytes, 'fflate'), sameMembers),
  npy: (c) => readNpy(c.bytes, { file: 'fuzz.npy' }),
  pickle: (c) =>
    agree(
      c,
      'plain and compact lists',
      () => unpickle(c.bytes, { file: 'fuzz.pkl' }),
      () => unpickle(c.bytes, { file: 'fuzz.pkl' }, { compactIntLists: true }),
      samePy,
    ),
  weights: (c) => (c.checkpoint ? readCheckpoint(c.bytes, 'fuzz.sgw', c.checkpoint.shapes, { ...c.checkpoint.params }, c.checkpoint.slots) : decodeWeightsFile(c.bytes, 'fuzz.sgw')),
  // As files.ts reads it: the bytes as UTF-8 text.
  wordIndex: (c) => parseWordIndex(new TextDecoder().decode(c.bytes), 'fuzz.json'),
  imdb: (c) => {
    const data = imdbFromNpz(c.bytes, c.options, 'fuzz.npz');
    // Whatever the file held, what load_data returns is word indices, start and oov tokens (never negative) and 0/1 labels, one per review.
    for (const [x, y] of data) {
      if (x.length !== y.length || x.values.some((v) => v < 0) || y.some((v) => v > 1)) {
        throw new PropertyViolation(`imdbFromNpz returned impossible data (negative index, or labels not matching reviews) on ${c.label}`);
      }
    }
    return data;
  },
};

function readAll(bytes: Uint8Array, inflater: 'native' | 'fflate'): Map<string, Uint8Array> {
  const zip = ZipArchive.open(bytes, 'fuzz.npz', inflater);
  return new Map(zip.names.map((name) => [name, zip.read(name)]));
}

function sameMembers(a: Map<string, Uint8Array>, b: Map<string, Uint8Array>): boolean {
  return a.size === b.size && [...a].every(([name, bytes]) => equalBytes(b.get(name), bytes));
}

/** Runs two readers of the same bytes: both must load the same value or both throw the same error class. */
export function agree<T>(c: FuzzCase, what: string, first: () => T, second: () => T, same: (a: T, b: T) => boolean): T {
  const run = (f: () => T): { value?: T; error?: unknown } => {
    try {
      return { value: f() };
    } catch (error) {
      return { error };
    }
  };
  const a = run(first);
  const b = run(second);
  const kind = (r: { error?: unknown }) => (r.error === undefined ? 'loaded' : (r.error as Error)?.constructor?.name);
  if (kind(a) !== kind(b) || (a.error === undefined && !same(a.value as T, b.value as T))) {
    throw new PropertyViolation(`${what} disagree on ${c.label}: ${describeOutcome(a)} vs ${describeOutcome(b)}`);
  }
  if (a.error !== undefined) throw a.error;
  return a.value as T;
}

function describeOutcome(r: { error?: unknown }): string {
  return r.error === undefined ? 'loaded' : `${(r.error as Error)?.constructor?.name}: ${(r.error as Error)?.message}`;
}

/** Deep equality of two unpickled values, walking with an explicit stack (values may nest deeply or hold themselves). */
function samePy(a: PyValue, b: PyValue): boolean {
  const seen = new Map<object, object>();
  const todo: [PyValue, PyValue][] = [[a, b]];
  const items = (v: PyValue): PyValue[] | null => (Array.isArray(v) ? v : v instanceof IntList ? v.toArray() : v instanceof PyTuple ? v.items : null);
  while (todo.length) {
    const [x, y] = todo.pop()!;
    if (x === null || typeof x !== 'object') {
      if (!Object.is(x, y)) return false;
      continue;
    }
    if (y === null || typeof y !== 'object') return false;
    if (seen.get(x) === y) continue;
    seen.set(x, y);
    if (x instanceof Uint8Array) {
      if (!(y instanceof Uint8Array) || !equalBytes(x, y)) return false;
    } else if (items(x)) {
      const xs = items(x)!;
      const ys = items(y);
      if (!ys || xs.length !== ys.length || x instanceof PyTuple !== y instanceof PyTuple) return false;
      xs.forEach((v, i) => todo.push([v, ys[i]]));
    } else if (x instanceof PyDict) {
      if (!(y instanceof PyDict) || x.entries.size !== y.entries.size) return false;
      const ye = [...y.entries];
      [...x.entries].forEach(([k, v], i) => todo.push([k, ye[i][0]], [v, ye[i][1]]));
    } else if (x instanceof PyGlobal) {
      if (!(y instanceof PyGlobal) || x.qualifiedName !== y.qualifiedName) return false;
    } else if (x instanceof NumpyDtype) {
      if (!(y instanceof NumpyDtype) || x.descr !== y.descr || x.byteOrder !== y.byteOrder) return false;
      todo.push([x.state, y.state]);
    } else if (x instanceof NumpyArray) {
      if (!(y instanceof NumpyArray) || JSON.stringify(x.shape) !== JSON.stringify(y.shape) || x.fortranOrder !== y.fortranOrder) return false;
      todo.push([x.dtype, y.dtype], [x.data, y.data]);
    } else return false;
  }
  return true;
}

export interface Outcome {
  reader: Reader;
  label: string;
  ops: string[];
  /** 'loaded', or the DataError subclass thrown. */
  result: string;
  ms: number;
}

/** Runs one input and checks the property; throws a PropertyViolation when it does not hold. */
export function runCase(c: FuzzCase, limits: Limits = LIMITS, load: Loader = LOADERS[c.reader]): Outcome {
  const memory = () => process.memoryUsage();
  const start = memory();
  const before = start.arrayBuffers;
  const started = process.cpuUsage();
  let result = 'loaded';
  let loaded: unknown;
  try {
    loaded = load(c);
  } catch (error) {
    if (error instanceof PropertyViolation) throw error;
    if (!isTypedError(error)) {
      const what = error instanceof Error ? `${error.constructor.name}: ${String(error.message).slice(0, 300)}` : String(error).slice(0, 300);
      throw new PropertyViolation(`${c.reader} threw ${what} (not a DataError) on ${c.label}`, { cause: error });
    }
    result = error.constructor.name;
    if (error.message.length > MAX_MESSAGE || error.message.includes('\n')) {
      throw new PropertyViolation(`${result} message is not one line of at most ${MAX_MESSAGE} characters (${error.message.length}) on ${c.label}`);
    }
    // The message must name the problem with real values, not a failed computation.
    const garbage = /\b(NaN|undefined|Infinity)\b|\[object /.exec(error.message);
    if (garbage) throw new PropertyViolation(`${result} message shows '${garbage[0]}': ${error.message.slice(0, 300)} (on ${c.label})`);
  }
  const cpu = process.cpuUsage(started);
  const ms = (cpu.user + cpu.system) / 1000;
  const end = memory();
  const grew = end.arrayBuffers - before;
  const total = grew + end.heapUsed - start.heapUsed;
  if (total > limits.totalBytes) throw new PropertyViolation(`${c.reader} grew ArrayBuffers and heap by ${total} bytes (limit ${limits.totalBytes}) on ${c.label}`);
  if (ms > limits.ms) throw new PropertyViolation(`${c.reader} took ${ms.toFixed(0)} ms of CPU (limit ${limits.ms}) on ${c.label}`);
  const bound = limits.bytesPerInputByte * c.bytes.length + limits.baseBytes;
  if (grew > bound) {
    throw new PropertyViolation(`${c.reader} allocated ${grew} bytes for a ${c.bytes.length}-byte input (bound ${bound}) on ${c.label}`);
  }
  const wrong = result === 'loaded' && c.verify ? c.verify(loaded) : null;
  if (wrong) throw new PropertyViolation(`${c.reader} loaded a valid input wrongly (${wrong}): ${c.label}`);
  return { reader: c.reader, label: c.label, ops: c.ops, result, ms };
}

// ---------------------------------------------------------------------------
// Counting outcomes, for the test's assertions and the benchmark's table.

export interface ReaderTally {
  inputs: number;
  /** Outcome ('loaded' or error class) → count. */
  outcomes: Record<string, number>;
  /** Inputs that were intact generated files, checked value for value. */
  verified: number;
  slowestMs: number;
  slowestLabel: string;
}

export class Tally {
  readonly readers = Object.fromEntries(READERS.map((r) => [r, { inputs: 0, outcomes: {}, verified: 0, slowestMs: 0, slowestLabel: '' }])) as Record<Reader, ReaderTally>;
  /** Per mutation kind: inputs it was applied to, and how many of those still loaded. */
  readonly mutations: Record<string, { inputs: number; loaded: number }> = {};

  add(o: Outcome, verified: boolean): void {
    const t = this.readers[o.reader];
    t.inputs++;
    t.outcomes[o.result] = (t.outcomes[o.result] ?? 0) + 1;
    if (verified && o.result === 'loaded') t.verified++;
    if (o.ms > t.slowestMs) {
      t.slowestMs = o.ms;
      t.slowestLabel = o.label;
    }
    for (const op of new Set(o.ops)) {
      const m = (this.mutations[op] ??= { inputs: 0, loaded: 0 });
      m.inputs++;
      if (o.result === 'loaded') m.loaded++;
    }
  }

  get total(): number {
    return READERS.reduce((s, r) => s + this.readers[r].inputs, 0);
  }

  /** A plain-text table: one row per reader, one column per outcome. */
  table(): string {
    const outcomes = [...new Set(READERS.flatMap((r) => Object.keys(this.readers[r].outcomes)))].sort((a, b) => (a === 'loaded' ? -1 : b === 'loaded' ? 1 : a.localeCompare(b)));
    const head = ['reader', 'inputs', ...outcomes, 'verified', 'slowest ms'];
    const rows = READERS.map((r) => {
      const t = this.readers[r];
      return [r, t.inputs, ...outcomes.map((o) => t.outcomes[o] ?? 0), t.verified, t.slowestMs.toFixed(1)].map(String);
    });
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
    const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
    return [line(head), ...rows.map(line)].join('\n');
  }
}

/**
 * Fuzzes `reader` with `runs` inputs drawn from `seed`, adding each outcome to
 * `tally`; fast-check shrinks and reports the smallest input that breaks the property.
 */
export function fuzz(reader: Reader, runs: number, seed: number, corpus: Corpus, tally: Tally, limits: Limits = LIMITS): void {
  fc.assert(
    fc.property(recipes(reader), (recipe) => {
      const c = buildCase(recipe, corpus);
      tally.add(runCase(c, limits), c.verify !== undefined);
    }),
    { numRuns: runs, seed },
  );
}
