/**
 * Hostile checkpoints: a flipped bit anywhere (every bit of the header, a sample of the data)
 * is refused with a CheckpointError that never suggests resuming from the file; and a
 * checkpoint whose checksum was recomputed after editing its state is refused field by field.
 * No GPU: readCheckpoint is checked directly, on files laid out as BackupAndRestore writes them.
 */
import { describe, expect, it } from 'vitest';
import { CheckpointError, readCheckpoint } from '../src/nn/backup.js';
import type { TrainParams } from '../src/nn/callbacks.js';
import { encodeWeights, type NamedWeights } from '../src/nn/weights-file.js';
import { forgedWeights } from './fuzz/harness.js';

const SHAPES = [[4, 2], [2, 1], [1]];
const SLOTS = ['momentum', 'velocity'];
const PARAMS: TrainParams = { epochs: 5, batchSize: 4, samples: 16, steps: 4, shuffle: true, seed: 3 };
const FILE = 'checkpoint.sgw';

/** What BackupAndRestore writes after `epoch` epochs: weights, each slot's copy of them, and the training state. */
function checkpoint(epoch = 2, change: (state: Record<string, any>) => void = () => {}): { bytes: Uint8Array; entries: NamedWeights[] } {
  const names = ['embedding/embeddings', 'dense/kernel', 'dense/bias'];
  const weights = (prefix: string, salt: number) =>
    SHAPES.map((shape, i): NamedWeights => ({ name: `${prefix}${names[i]}`, shape, values: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, j) => (salt + i + j) / 8) }));
  const entries = [...weights('', 0), ...SLOTS.flatMap((slot, k) => weights(`optimizer/${slot}/`, k + 1))];
  const state: Record<string, any> = {
    kind: 'shadergrad-checkpoint',
    epoch,
    history: { loss: Array.from({ length: epoch }, (_, i) => 0.7 - i / 10), accuracy: Array.from({ length: epoch }, () => 0.5) },
    params: { ...PARAMS },
    iterations: epoch * PARAMS.steps,
    optimizer: { name: 'adam', slots: SLOTS },
  };
  change(state);
  return { bytes: encodeWeights(entries, state), entries };
}

const read = (bytes: Uint8Array) => readCheckpoint(bytes, FILE, SHAPES, { ...PARAMS }, SLOTS);

/** Reads `bytes`, which must be refused with a CheckpointError matching `message`, in one line that never advises resuming from it. */
function refused(bytes: Uint8Array, message: RegExp = /./): CheckpointError {
  let thrown: unknown;
  try {
    read(bytes);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(CheckpointError);
  const error = thrown as CheckpointError;
  expect(error.message).toMatch(message);
  expect(error.message).not.toMatch(/last good checkpoint|--resume to go on/);
  expect(error.message.length).toBeLessThanOrEqual(1000);
  expect(error.message).not.toContain('\n');
  return error;
}

describe('checkpoint: an intact one restores', () => {
  it('weights, slots and state come back as written', () => {
    const { bytes, entries } = checkpoint(2);
    const { weights, state } = read(bytes);
    expect(weights).toEqual(entries);
    expect(state.epoch).toBe(2);
    expect(state.history.loss).toHaveLength(2);
  });
});

describe('checkpoint: a flipped bit anywhere is refused', () => {
  const { bytes } = checkpoint(2);
  const headerEnd = 16 + new DataView(bytes.buffer).getUint32(8, true);
  const dataStart = (headerEnd + 3) & ~3;

  function flipAll(positions: number[]): number {
    for (const at of positions) {
      for (let bit = 0; bit < 8; bit++) {
        const flipped = bytes.slice();
        flipped[at] ^= 1 << bit;
        expect(() => read(flipped), `bit ${bit} of byte ${at}`).toThrow(CheckpointError);
      }
    }
    return positions.length * 8;
  }

  it('every bit of the preamble, the header (the training state included) and the padding', () => {
    expect(flipAll(Array.from({ length: dataStart }, (_, i) => i))).toBeGreaterThan(8 * 300);
  });

  it('every bit of every third data byte, the first and the last', () => {
    const positions = Array.from({ length: bytes.length - dataStart }, (_, i) => dataStart + i).filter((p, i) => i % 3 === 0 || p === bytes.length - 1);
    expect(flipAll(positions)).toBeGreaterThan(8 * 40);
  });

  it('the message says the file is corrupt and to delete it, never to resume from it', () => {
    const flipped = bytes.slice();
    flipped[20] ^= 4;
    refused(flipped, /CRC-32 of the data does not match.*refusing to resume from it \(delete it to start over\)/);
  });

  it('a truncated checkpoint, or one cut to its header, is refused', () => {
    refused(bytes.subarray(0, bytes.length - 4));
    refused(bytes.subarray(0, dataStart));
    refused(bytes.subarray(0, 10));
  });
});

describe('checkpoint: a forged state (checksum recomputed after editing) is refused field by field', () => {
  /** The checkpoint with its meta changed by `edit` and its data by `poke`, checksum recomputed. */
  function forged(edit: (meta: Record<string, any>, header: Record<string, any>) => void, poke: (data: DataView) => void = () => {}): Uint8Array {
    const { bytes } = checkpoint(2);
    const length = new DataView(bytes.buffer).getUint32(8, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + length)));
    edit(header.meta, header);
    const data = bytes.slice((16 + length + 3) & ~3);
    poke(new DataView(data.buffer));
    return forgedWeights(header, data);
  }

  it('the forger itself is sound: an unedited forgery restores', () => {
    expect(read(forged(() => {})).state.epoch).toBe(2);
  });

  it.each([
    ['history values that are not number lists', (m: any) => (m.history.loss = 'abc'), /history 'loss' must be a list of finite numbers, found the string 'abc'/],
    ['history values that are lists of lists', (m: any) => (m.history.loss = [[1], [2]]), /history 'loss' must be a list of finite numbers, found a list of 2 items/],
    ['a history of more values than epochs', (m: any) => (m.history.loss = [1, 2, 3]), /history 'loss' has 3 values for 2 completed epochs/],
    ['an empty history series', (m: any) => (m.history.accuracy = []), /history 'accuracy' has 0 values for 2 completed epochs/],
    ['a __proto__ history key', (m: any) => (m.history = JSON.parse('{"__proto__": [1, 2]}')), /history has a key named '__proto__'/],
    ['a constructor key in the state', (m: any) => (m.params = { ...m.params, constructor: 1 }), /its state has a key named 'constructor'/],
    ['history that is a list', (m: any) => (m.history = [1, 2]), /history must be an object of number lists, found a list of 2 items/],
    ['negative iterations', (m: any) => (m.iterations = -1), /iterations must be a non-negative integer, found -1/],
    ['fractional iterations', (m: any) => (m.iterations = 1.5), /iterations must be a non-negative integer, found 1\.5/],
    ['iterations that are a string', (m: any) => (m.iterations = 'HUGE'), /iterations must be a non-negative integer, found the string 'HUGE'/],
    ['epoch 0', (m: any) => (m.epoch = 0), /epoch must be a positive integer, found 0/],
    ['an epoch that is a string', (m: any) => (m.epoch = '2'), /epoch must be a positive integer, found the string '2'/],
    ['no params', (m: any) => (m.params = null), /params must be an object, found null/],
    ['a params field of the wrong type', (m: any) => (m.params.batchSize = '4'), /params\.batchSize must be a non-negative integer, found the string '4'/],
    ['an optimizer without slots', (m: any) => (m.optimizer = { name: 'adam', slots: [{}] }), /optimizer must name itself and list its slots as strings, found an object/],
    ['no kind', (m: any) => delete m.kind, /not a shadergrad checkpoint/],
    ['a null meta', (_: any, h: any) => (h.meta = null), /header meta is not a JSON object/],
  ])('%s', (_, edit, message) => {
    refused(forged(edit), message);
  });

  it('1e400 where an integer goes is named as past the float64 range, not as Infinity', () => {
    const { bytes } = checkpoint(2);
    const length = new DataView(bytes.buffer).getUint32(8, true);
    const text = new TextDecoder().decode(bytes.subarray(16, 16 + length));
    expect(text).toContain('"iterations":8');
    const header = text.replace('"iterations":8', '"iterations":1e400');
    refused(forgedWeights(header, bytes.slice((16 + length + 3) & ~3)), /iterations must be a non-negative integer, found a number past the float64 range/);
  });

  it('an epoch past the run is refused by the existing settings check', () => {
    expect(() => read(forged((m) => ((m.epoch = 9), (m.history = { loss: Array(9).fill(1) }))))).toThrow(/9 epochs are done already, more than the 5 asked for/);
  });

  it('a NaN or infinite weight is refused naming the tensor, never restored (nor later called "the last good checkpoint")', () => {
    refused(forged(() => {}, (data) => data.setFloat32(4, NaN, true)), /checkpoint\.sgw: embedding\/embeddings holds a value that is not a finite number at index 1; refusing to resume from it/);
    // Floats 22 to 29 are the velocity slot's copy of the embeddings (after 11 weights and 11 momenta).
    refused(forged(() => {}, (data) => data.setFloat32(4 * 27, -Infinity, true)), /optimizer\/velocity\/embedding\/embeddings holds a value that is not a finite number at index 5/);
  });
});
