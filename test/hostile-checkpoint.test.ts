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
