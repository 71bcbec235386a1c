/**
 * shadergrad's weights file (`.sgw`), one file, documented in README.md:
 *
 *   bytes 0..7    magic "SGWTS002" (format version 2)
 *   bytes 8..11   uint32 LE: length H of the header
 *   bytes 12..15  uint32 LE: CRC-32 of the whole file except these four bytes
 *                 (magic, length, header, padding and data: a flipped bit anywhere is refused)
 *   bytes 16..    H bytes of UTF-8 JSON:
 *                 {"format":"shadergrad-weights","version":2,
 *                  "weights":[{"name":"dense/kernel","shape":[16,16],"offset":0,"length":256}, ...],
 *                  "meta":{...}}   (optional: what a checkpoint adds, see backup.ts)
 *   then zero padding to a multiple of 4 bytes, then the data: float32 little-endian,
 *   each weight at its `offset` (in floats). The entries tile the data exactly, in order.
 *
 * Version 1 (magic "SGWTS001") checksummed the data but not the header, so a flipped bit in
 * an offset loaded silently; such files are refused with a message saying so.
 */
import { excerpt } from '../data/errors.js';
import { crc32 } from '../data/zip.js';

const MAGIC = 'SGWTS002';
const OLD_MAGIC = 'SGWTS001';
const FORMAT = 'shadergrad-weights';
const VERSION = 2;
const CRC_AT = 12;
const PREAMBLE = 16;
/** Longest weight name accepted (Keras' are a few dozen characters). */
const MAX_NAME = 1000;

export interface NamedWeights {
  name: string;
  shape: number[];
  values: Float32Array;
}

/** Wrong magic, a broken header, a checksum or size mismatch, or weights that do not fit the model. */
export class WeightsFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WeightsFileError';
  }
}

export function encodeWeights(weights: readonly NamedWeights[], meta?: Record<string, unknown>): Uint8Array {
  const pieces = encodeWeightsPieces(weights, meta);
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}

/**
 * The same file as pieces to be written back to back: the preamble, header and padding, then each
 * weight's own bytes, not copied (a checkpoint of a fastText table is 720 MB). The values must be
 * float32 on a little-endian host, as every WebGPU host is.
 */
export function encodeWeightsPieces(weights: readonly NamedWeights[], meta?: Record<string, unknown>): Uint8Array[] {
  let offset = 0;
  const entries = weights.map(({ name, shape, values }) => {
    const entry = { name, shape, offset, length: values.length };
    offset += values.length;
    return entry;
  });
  const header = new TextEncoder().encode(JSON.stringify({ format: FORMAT, version: VERSION, weights: entries, ...(meta ? { meta } : {}) }));
  const head = new Uint8Array(align4(PREAMBLE + header.length));
  head.set(new TextEncoder().encode(MAGIC), 0);
  const view = new DataView(head.buffer);
  view.setUint32(8, header.length, true);
  head.set(header, PREAMBLE);
  const data = weights.map(({ values }) => new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  // CRC-32 of every byte but the CRC field's own, chained over the pieces.
  let crc = crc32(head.subarray(PREAMBLE), crc32(head.subarray(0, CRC_AT)));
  for (const piece of data) crc = crc32(piece, crc);
  view.setUint32(CRC_AT, crc, true);
  return [head, ...data];
}

/** CRC-32 of the file's bytes with the CRC field itself left out. */
function fileCrc(bytes: Uint8Array): number {
  return crc32(bytes.subarray(PREAMBLE), crc32(bytes.subarray(0, CRC_AT)));
}

/** Parse a weights file; `file` names it in errors. */
export function decodeWeights(bytes: Uint8Array, file = 'weights'): NamedWeights[] {
  return decodeWeightsFile(bytes, file).weights;
}

/** Parse a weights file with its optional `meta` (checkpoints carry their training state there). */
export function decodeWeightsFile(bytes: Uint8Array, file = 'weights'): { weights: NamedWeights[]; meta?: Record<string, unknown> } {
  const fail = (problem: string) => new WeightsFileError(`${excerpt(file)}: ${problem}`);
  const magic = String.fromCharCode(...bytes.subarray(0, 8));
  if (magic === OLD_MAGIC) {
    throw fail(`a version 1 weights file, written by an older shadergrad: its header is not covered by a checksum, so it is not loaded (save the weights again)`);
  }
  if (bytes.length < PREAMBLE || magic !== MAGIC) throw fail(`not a shadergrad weights file (expected magic "${MAGIC}")`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(8, true);
  if (headerLength > bytes.length - PREAMBLE) throw fail(`header of ${headerLength} bytes runs past the end of the file (${bytes.length} bytes)`);
  // Checked before anything in the header is believed: it covers the header too.
  if (fileCrc(bytes) !== view.getUint32(CRC_AT, true)) throw fail('CRC-32 of the data does not match the one stored (it covers the header too): the file is corrupt or truncated');

  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(PREAMBLE, PREAMBLE + headerLength)));
  } catch (cause) {
    throw fail(`header is not valid JSON: ${excerpt((cause as Error).message)}`);
  }
  if (!isRecord(header) || header.format !== FORMAT || header.version !== VERSION || !Array.isArray(header.weights)) {
    throw fail(`unsupported header (expected a JSON object with format "${FORMAT}", version ${VERSION} and a weights list)`);
  }
  if (header.meta !== undefined && !isRecord(header.meta)) throw fail('header meta is not a JSON object');
  const dataStart = align4(PREAMBLE + headerLength);
  if (bytes.length < dataStart || bytes.subarray(PREAMBLE + headerLength, dataStart).some((b) => b !== 0)) {
    throw fail('padding after the header is missing or not zero');
  }
  const floats = (bytes.length - dataStart) / 4;
  if (!Number.isInteger(floats)) throw fail(`data is ${bytes.length - dataStart} bytes, not a whole number of float32s`);
  const entries = checkEntries(header.weights, floats, fail);
  // An aligned copy: the file's bytes may sit at any offset of their buffer.
  const data = new Float32Array(bytes.slice(dataStart).buffer);
  const weights = entries.map(({ name, shape, offset, length }) => ({ name, shape, values: data.slice(offset, offset + length) }));
  return { weights, meta: header.meta as Record<string, unknown> | undefined };
}

interface Entry {
  name: string;
  shape: number[];
  offset: number;
  length: number;
}

/** Every entry well formed, and together they tile `[0, floats)` in order: no gap, overlap or stray float. */
function checkEntries(list: unknown[], floats: number, fail: (problem: string) => WeightsFileError): Entry[] {
  const names = new Set<string>();
  let end = 0;
  const entries = list.map((entry, i): Entry => {
    const where = `entry ${i}`;
    if (!isRecord(entry)) throw fail(`${where} is not a JSON object`);
    const { name, shape, offset, length } = entry;
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME) throw fail(`${where}: name must be a string of 1 to ${MAX_NAME} characters`);
    const named = `${where} (${excerpt(name)})`;
    if (names.has(name)) throw fail(`${named}: a second weight of that name`);
    names.add(name);
    if (!Array.isArray(shape) || !shape.every(isCount)) throw fail(`${named}: shape must be a list of non-negative integers`);
    if (!isCount(length) || shape.reduce((a: number, b: number) => a * b, 1) !== length) throw fail(`${named}: length must be the product of its shape`);
    if (!isCount(offset)) throw fail(`${named}: offset must be a non-negative integer`);
    if (offset !== end) throw fail(`${named}: starts at float ${offset}, expected ${end} (entries must tile the data in order, without gaps or overlaps)`);
    end = offset + length;
    if (end > floats) throw fail(`${named}: ends at float ${end}, past the data's ${floats} floats (truncated file?)`);
    return { name, shape: shape as number[], offset, length };
  });
  if (end !== floats) throw fail(`data holds ${floats} floats, the entries describe ${end}`);
  return entries;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}
