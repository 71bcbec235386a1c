/**
 * shadergrad's weights file (`.sgw`), one file, documented in README.md:
 *
 *   bytes 0..7   magic "SGWTS001"
 *   bytes 8..11  uint32 LE: length H of the header
 *   bytes 12..   H bytes of UTF-8 JSON:
 *                {"format":"shadergrad-weights","version":1,"crc32":C,
 *                 "weights":[{"name":"dense/kernel","shape":[16,16],"offset":0,"length":256}, ...],
 *                 "meta":{...},"metaCrc32":M}   (optional: what a checkpoint adds, see backup.ts;
 *                                                M = CRC-32 of the meta's JSON text)
 *   then zero padding to a multiple of 4 bytes, then the data: float32 little-endian,
 *   each weight at its `offset` (in floats), C = CRC-32 of the data bytes.
 */
import { crc32 } from '../data/zip.js';

const MAGIC = 'SGWTS001';
const FORMAT = 'shadergrad-weights';
const VERSION = 1;
const PREAMBLE = 12;

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
  let offset = 0;
  const entries = weights.map(({ name, shape, values }) => {
    const entry = { name, shape, offset, length: values.length };
    offset += values.length;
    return entry;
  });
  const data = new Float32Array(offset);
  weights.forEach((w, i) => data.set(w.values, entries[i].offset));
  const dataBytes = new Uint8Array(data.buffer);
  const metaFields = meta ? { meta, metaCrc32: crc32(new TextEncoder().encode(JSON.stringify(meta))) } : {};
  const header = new TextEncoder().encode(JSON.stringify({ format: FORMAT, version: VERSION, crc32: crc32(dataBytes), weights: entries, ...metaFields }));
  const dataStart = align4(PREAMBLE + header.length);
  const out = new Uint8Array(dataStart + dataBytes.length);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, header.length, true);
  out.set(header, PREAMBLE);
  out.set(dataBytes, dataStart);
  return out;
}

/** Parse a weights file; `file` names it in errors. */
export function decodeWeights(bytes: Uint8Array, file = 'weights'): NamedWeights[] {
  return decodeWeightsFile(bytes, file).weights;
}

/** Parse a weights file with its optional `meta` (checkpoints carry their training state there). */
export function decodeWeightsFile(bytes: Uint8Array, file = 'weights'): { weights: NamedWeights[]; meta?: Record<string, unknown> } {
  const fail = (problem: string) => new WeightsFileError(`${file}: ${problem}`);
  if (bytes.length < PREAMBLE || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
    throw fail(`not a shadergrad weights file (expected magic "${MAGIC}")`);
  }
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  if (PREAMBLE + headerLength > bytes.length) throw fail(`header of ${headerLength} bytes runs past the end of the file (${bytes.length} bytes)`);
  let header: {
    format?: string;
    version?: number;
    crc32?: number;
    weights?: { name: string; shape: number[]; offset: number; length: number }[];
    meta?: Record<string, unknown>;
    metaCrc32?: number;
  };
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(PREAMBLE, PREAMBLE + headerLength)));
  } catch (cause) {
    throw fail(`header is not valid JSON: ${(cause as Error).message}`);
  }
  if (header.format !== FORMAT || header.version !== VERSION || !Array.isArray(header.weights)) {
    throw fail(`unsupported header (expected format "${FORMAT}" version ${VERSION})`);
  }
  const dataStart = align4(PREAMBLE + headerLength);
  const dataBytes = bytes.slice(dataStart);
  const total = header.weights.reduce((n, w) => n + w.length, 0);
  if (dataBytes.length !== total * 4) throw fail(`data is ${dataBytes.length} bytes, the header describes ${total * 4} (truncated file?)`);
  if (crc32(dataBytes) !== header.crc32) throw fail('CRC-32 of the data does not match the header: the file is corrupt');
  if (header.meta !== undefined && crc32(new TextEncoder().encode(JSON.stringify(header.meta))) !== header.metaCrc32) {
    throw fail('CRC-32 of the header\'s meta does not match: the file is corrupt');
  }
  const data = new Float32Array(dataBytes.buffer);
  const weights = header.weights.map(({ name, shape, offset, length }) => {
    if (!Array.isArray(shape) || shape.reduce((a, b) => a * b, 1) !== length || !(offset >= 0) || offset + length > total) throw fail(`entry '${name}' is inconsistent`);
    return { name, shape, values: data.slice(offset, offset + length) };
  });
  return { weights, meta: header.meta };
}

function align4(n: number): number {
  return (n + 3) & ~3;
}
