/**
 * Hostile weights files (`.sgw`): the checksum covers the header as well as the data, so a
 * flipped bit anywhere is refused (every bit of a small file's header, and a sample of its
 * data); entries must tile the data exactly; a malformed header gets a typed, bounded error.
 */
import { describe, expect, it } from 'vitest';
import { crc32 } from '../src/data/zip.js';
import { decodeWeights, decodeWeightsFile, encodeWeights, encodeWeightsPieces, WeightsFileError, type NamedWeights } from '../src/nn/weights-file.js';

const WEIGHTS: NamedWeights[] = [
  { name: 'embedding/embeddings', shape: [4, 2], values: Float32Array.from({ length: 8 }, (_, i) => i / 8) },
  { name: 'dense/kernel', shape: [2, 1], values: new Float32Array([0.5, -0.25]) },
  { name: 'dense/bias', shape: [1], values: new Float32Array([3]) },
];
const PREAMBLE = 16;

/** A file whose header is `header` (any JSON text) and data `data`, with a correct checksum: what an editor who recomputes it makes. */
function forged(header: string, data = new Float32Array(11)): Uint8Array {
  const text = new TextEncoder().encode(header);
  const dataStart = (PREAMBLE + text.length + 3) & ~3;
  const out = new Uint8Array(dataStart + data.byteLength);
  out.set(new TextEncoder().encode('SGWTS002'));
  const view = new DataView(out.buffer);
  view.setUint32(8, text.length, true);
  out.set(text, PREAMBLE);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), dataStart);
  view.setUint32(12, crc32(out.subarray(PREAMBLE), crc32(out.subarray(0, 12))), true);
  return out;
}

const headerOf = (entries: unknown, extra = '') => `{"format":"shadergrad-weights","version":2,"weights":${JSON.stringify(entries)}${extra}}`;
const entry = (name: string, shape: unknown, offset: unknown, length: unknown) => ({ name, shape, offset, length });

function refused(bytes: Uint8Array, message: RegExp): WeightsFileError {
  let thrown: unknown;
  try {
    decodeWeights(bytes, 'w.sgw');
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(WeightsFileError);
  const error = thrown as WeightsFileError;
  expect(error.message).toMatch(message);
  expect(error.message.length).toBeLessThanOrEqual(1000);
  expect(error.message).not.toContain('\n');
  return error;
}

describe('weights file: round trip', () => {
  it('reads back what it wrote, meta included', () => {
    const meta = { kind: 'x', list: [1, 2, 3] };
    const { weights, meta: readMeta } = decodeWeightsFile(encodeWeights(WEIGHTS, meta));
    expect(weights).toEqual(WEIGHTS);
    expect(readMeta).toEqual(meta);
  });

  // A checkpoint is written in pieces (the weights' own bytes, not copied): back to back they are the file.
  it('writes the same file in pieces, each weight a view of its own values', () => {
    const values = [Float32Array.of(1, -2.5, 3), new Float32Array(new ArrayBuffer(40), 8, 5).fill(0.25)];
    const weights = values.map((v, i) => ({ name: `w${i}`, shape: [v.length], values: v }));
    const pieces = encodeWeightsPieces(weights, { epoch: 3 });
    expect(pieces.slice(1).map((p) => [p.buffer, p.byteOffset, p.byteLength])).toEqual(values.map((v) => [v.buffer, v.byteOffset, v.byteLength]));
    const joined = new Uint8Array(Buffer.concat(pieces));
    expect(Buffer.from(joined).equals(Buffer.from(encodeWeights(weights, { epoch: 3 })))).toBe(true);
    const read = decodeWeightsFile(joined, 'pieces.sgw');
    expect(read.meta).toEqual({ epoch: 3 });
    expect(read.weights.map((w) => Array.from(w.values))).toEqual(values.map((v) => Array.from(v)));
  });

  it('reads from a view at an odd offset of a larger buffer', () => {
    const bytes = encodeWeights(WEIGHTS);
    const big = new Uint8Array(bytes.length + 3);
    big.set(bytes, 3);
    expect(decodeWeights(big.subarray(3))).toEqual(WEIGHTS);
  });

  it('a forged file with a correct checksum and good entries loads (the test helper is sound)', () => {
    const entries = WEIGHTS.map((w, i) => entry(w.name, w.shape, [0, 8, 10][i], w.values.length));
    const data = new Float32Array(11).fill(2);
    expect(decodeWeights(forged(headerOf(entries), data)).map((w) => w.values.length)).toEqual([8, 2, 1]);
  });
});

describe('weights file: a flipped bit anywhere is refused', () => {
  const file = encodeWeights(WEIGHTS, { kind: 'checkpoint-like', epoch: 1 });
  const headerLength = new DataView(file.buffer).getUint32(8, true);
  const headerEnd = PREAMBLE + headerLength;

  function flips(positions: number[]): number {
    let checked = 0;
    for (const at of positions) {
      for (let bit = 0; bit < 8; bit++) {
        const bytes = file.slice();
        bytes[at] ^= 1 << bit;
        expect(() => decodeWeightsFile(bytes, 'w.sgw'), `bit ${bit} of byte ${at}`).toThrow(WeightsFileError);
        checked++;
      }
    }
    return checked;
  }

  it('every bit of the preamble, the header and the padding', () => {
    const positions = Array.from({ length: ((headerEnd + 3) & ~3) }, (_, i) => i);
    expect(flips(positions)).toBe(positions.length * 8);
  });

  it('every bit of a sample of the data (first, last and every fifth float)', () => {
    const dataStart = (headerEnd + 3) & ~3;
    const positions = Array.from({ length: file.length - dataStart }, (_, i) => dataStart + i).filter((p, i) => i < 4 || p >= file.length - 4 || (i >> 2) % 5 === 0);
    expect(flips(positions)).toBeGreaterThan(8 * 8);
  });

  it('a version 1 file (header outside the checksum) is refused saying why', () => {
    const old = file.slice();
    old.set(new TextEncoder().encode('SGWTS001'));
    refused(old, /version 1 weights file, written by an older shadergrad/);
  });
});

describe('weights file: entries must tile the data exactly', () => {
  const sizes = [8, 2, 1];
  const withEntry = (i: number, change: Partial<ReturnType<typeof entry>>) =>
    forged(headerOf(WEIGHTS.map((w, j) => ({ ...entry(w.name, w.shape, [0, 8, 10][j], sizes[j]), ...(j === i ? change : {}) }))));

  it.each([
    ['an offset shifted by one float (overlap)', 1, { offset: 7 }, /starts at float 7, expected 8/],
    ['a gap between entries', 1, { offset: 9 }, /starts at float 9, expected 8/],
    ['a fractional offset', 1, { offset: 8.5 }, /offset must be a non-negative integer/],
    ['a negative offset', 0, { offset: -1 }, /offset must be a non-negative integer/],
    ['an offset past the data', 2, { offset: 1e9 }, /starts at float 1000000000/],
    ['an offset past 2^53', 2, { offset: 2 ** 60 }, /offset must be a non-negative integer/],
    ['a length that is not the shape\'s product', 1, { length: 3 }, /length must be the product of its shape/],
    ['a shape with a fraction', 0, { shape: [4, 2.5], length: 10 }, /shape must be a list of non-negative integers/],
    ['a shape that is a string', 0, { shape: '4,2' }, /shape must be a list/],
    ['a null name', 0, { name: null as unknown as string }, /entry 0: name must be a string/],
    ['a repeated name', 1, { name: 'embedding/embeddings' }, /a second weight of that name/],
  ])('%s', (_, i, change, message) => {
    refused(withEntry(i, change), message);
  });

  it('entries out of order, or covering less than the data, are refused', () => {
    const swapped = [entry('a', [2], 2, 2), entry('b', [2], 0, 2)];
    refused(forged(headerOf(swapped), new Float32Array(4)), /starts at float 2, expected 0/);
    refused(forged(headerOf([entry('a', [2], 0, 2)]), new Float32Array(4)), /data holds 4 floats, the entries describe 2/);
  });

  it.each([
    ['null', 'null', /unsupported header/],
    ['a list', '[]', /unsupported header/],
    ['null weights', '{"format":"shadergrad-weights","version":2,"weights":null}', /unsupported header/],
    ['a null entry', headerOf([null]), /entry 0 is not a JSON object/],
    ['a number entry', headerOf([7]), /entry 0 is not a JSON object/],
    ['meta that is not an object', headerOf([], ',"meta":[1]'), /meta is not a JSON object/],
    ['another version', '{"format":"shadergrad-weights","version":3,"weights":[]}', /unsupported header/],
    ['text that is not JSON', '{"format":', /header is not valid JSON/],
  ])('a header that is %s gets a typed error', (_, header, message) => {
    refused(forged(header, new Float32Array(0)), message);
  });

  it('a 100,000-deep header or a 2 MB name ends in one short line', () => {
    refused(forged('['.repeat(100_000) + ']'.repeat(100_000), new Float32Array(0)), /unsupported header/);
    const long = 'n'.repeat(2_000_000);
    refused(forged(headerOf([entry(long, [1], 0, 1)]), new Float32Array(1)), /name must be a string of 1 to 1000 characters/);
    const error = refused(forged(headerOf([entry('x'.repeat(900), [1], 5, 1)]), new Float32Array(1)), /starts at float 5/);
    expect(error.message).toContain('characters in all');
  });

  it('non-zero padding, or data that is not whole floats, is refused', () => {
    const good = forged(headerOf([entry('a', [1], 0, 1)]) + ' ', new Float32Array(1));
    expect(decodeWeights(good)).toHaveLength(1);
    const headerEnd = PREAMBLE + new DataView(good.buffer).getUint32(8, true);
    const padded = good.slice();
    padded[headerEnd] = 1;
    new DataView(padded.buffer).setUint32(12, crc32(padded.subarray(PREAMBLE), crc32(padded.subarray(0, 12))), true);
    refused(padded, /padding after the header/);
    const ragged = forged(headerOf([entry('a', [1], 0, 1)]), new Float32Array(1));
    const longer = new Uint8Array(ragged.length + 2);
    longer.set(ragged);
    new DataView(longer.buffer).setUint32(12, crc32(longer.subarray(PREAMBLE), crc32(longer.subarray(0, 12))), true);
    refused(longer, /not a whole number of float32s/);
  });
});
