/**
 * The edges of the three files built on the `.sgw` format that hostile-weights,
 * hostile-checkpoint and model-file leave untested: the exact message of each refusal (file
 * name, offsets and counts, what was expected and what was found), the boundaries of each
 * range check (a 16-byte file, iterations or a seed of 0, 64 history series), and
 * BackupAndRestore's own lines (the restore log, a NaN at index 0, delete_checkpoint), the
 * last on a stand-in model. No GPU.
 */
import { describe, expect, it } from 'vitest';
import { thrown } from './helpers.js';
import { BackupAndRestore, CheckpointError, readCheckpoint, type BackupStorage } from '../src/nn/backup.js';
import type { CallbackModel, TrainParams } from '../src/nn/callbacks.js';
import { decodeModel, ModelFileError } from '../src/nn/model-file.js';
import { TrainingError } from '../src/nn/model.js';
import { decodeWeights, decodeWeightsFile, encodeWeights, WeightsFileError, type NamedWeights } from '../src/nn/weights-file.js';
import { crc32 } from '../src/data/zip.js';
import { forgedWeights } from './fuzz/harness.js';

const SHAPES = [[4, 2], [2, 1], [1]];
const NAMES = ['embedding/embeddings', 'dense/kernel', 'dense/bias'];
const WEIGHTS: NamedWeights[] = SHAPES.map((shape, i) => ({ name: NAMES[i], shape, values: Float32Array.from({ length: shape[0] * (shape[1] ?? 1) }, (_, j) => (i + j) / 8) }));


describe('weights file: refusals name the file and the numbers', () => {
  const weightsError = (bytes: Uint8Array) => thrown(WeightsFileError, () => decodeWeights(bytes, 'w.sgw')).message;
  const header = (entries: object[]) => ({ format: 'shadergrad-weights', version: 2, weights: entries });

  it('a file without the magic, or shorter than the 16-byte preamble, is not a weights file', () => {
    const notOurs = encodeWeights(WEIGHTS);
    notOurs.set(new TextEncoder().encode('PK\x03\x04SGWT'));
    expect(weightsError(notOurs)).toBe('w.sgw: not a shadergrad weights file (expected magic "SGWTS002")');
    const short = new Uint8Array(12);
    short.set(new TextEncoder().encode('SGWTS002'));
    expect(weightsError(short)).toBe('w.sgw: not a shadergrad weights file (expected magic "SGWTS002")');
  });

  it('a bare 16-byte preamble is read as far as its empty header', () => {
    const bare = forgedWeights('', new Uint8Array(0));
    expect(bare.length).toBe(16);
    expect(weightsError(bare)).toMatch(/^w\.sgw: header is not valid JSON: /);
  });

  it('without a name given, the file is called "weights"', () => {
    expect(thrown(WeightsFileError, () => decodeWeights(new Uint8Array(4))).message).toBe('weights: not a shadergrad weights file (expected magic "SGWTS002")');
    expect(thrown(WeightsFileError, () => decodeWeightsFile(new Uint8Array(4))).message).toBe('weights: not a shadergrad weights file (expected magic "SGWTS002")');
  });

  it('a header length past the end gives both lengths', () => {
    const bytes = encodeWeights(WEIGHTS);
    new DataView(bytes.buffer).setUint32(8, 1000, true);
    expect(weightsError(bytes)).toBe(`w.sgw: header of 1000 bytes runs past the end of the file (${bytes.length} bytes)`);
  });

  /** `bytes` with its CRC-32 (over the preamble's first 12 bytes, then everything after it) recomputed. */
  const resealed = (bytes: Uint8Array) => {
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(12, crc32(bytes.subarray(16), crc32(bytes.subarray(0, 12))), true);
    return bytes;
  };

  it('a header length one byte past the end is refused before anything else is read', () => {
    const bytes = encodeWeights(WEIGHTS);
    new DataView(bytes.buffer).setUint32(8, bytes.length - 16 + 1, true);
    expect(weightsError(resealed(bytes))).toBe(`w.sgw: header of ${bytes.length - 15} bytes runs past the end of the file (${bytes.length} bytes)`);
  });

  it('a header that is not UTF-8 is refused, even where the bad byte sits inside a JSON string', () => {
    const bytes = forgedWeights(header([{ name: 'a~', shape: [1], offset: 0, length: 1 }]), new Uint8Array(4));
    bytes[bytes.indexOf(0x7e, 16)] = 0xff; // 'a\xff': not UTF-8; a lenient decoder would read the name 'a\ufffd'
    expect(weightsError(resealed(bytes))).toMatch(/^w\.sgw: header is not valid JSON: /);
  });

  it('another format name is an unsupported header', () => {
    expect(weightsError(forgedWeights({ ...header([]), format: 'keras-weights' }, new Uint8Array(0)))).toBe(
      'w.sgw: unsupported header (expected a JSON object with format "shadergrad-weights", version 2 and a weights list)',
    );
  });

  it('a file that ends inside the padding after its header is refused', () => {
    const padded = forgedWeights(`${JSON.stringify(header([]))} `, new Uint8Array(0)); // 57 bytes of header
    const length = new DataView(padded.buffer).getUint32(8, true);
    expect((16 + length) % 4).not.toBe(0); // the header needs padding
    expect(weightsError(resealed(padded.slice(0, 16 + length)))).toBe('w.sgw: padding after the header is missing or not zero');
  });

  it('weight names of 1 to 1000 characters: an empty name is refused, one of exactly 1000 is read', () => {
    const named = (name: string) => forgedWeights(header([{ name, shape: [1], offset: 0, length: 1 }]), new Uint8Array(4));
    expect(weightsError(named(''))).toBe('w.sgw: entry 0: name must be a string of 1 to 1000 characters');
    expect(weightsError(named('n'.repeat(1001)))).toBe('w.sgw: entry 0: name must be a string of 1 to 1000 characters');
    expect(decodeWeights(named('n'.repeat(1000))).map((w) => w.name)).toEqual(['n'.repeat(1000)]);
  });

  it('data of 6 bytes is not whole float32s', () => {
    expect(weightsError(forgedWeights(header([{ name: 'a', shape: [1], offset: 0, length: 1 }]), new Uint8Array(6)))).toBe('w.sgw: data is 6 bytes, not a whole number of float32s');
  });

  it('an entry running past the data names where it ends', () => {
    expect(weightsError(forgedWeights(header([{ name: 'a', shape: [4], offset: 0, length: 4 }]), new Uint8Array(8)))).toBe(
      "w.sgw: entry 0 (a): ends at float 4, past the data's 2 floats (truncated file?)",
    );
  });
});

describe('model file: refusals say what was found and what is read', () => {
  const architecture = [{ className: 'Dense', config: { name: 'dense', units: 1 } }];
  const modelError = (model: unknown) => thrown(ModelFileError, () => decodeModel(encodeWeights(WEIGHTS, { model }), 'm.sgm')).message;
  const model = (changes: object) => ({ format: 'shadergrad-model', version: 1, architecture, ...changes });

  it('without a name given, the file is called "model"', () => {
    expect(thrown(ModelFileError, () => decodeModel(new Uint8Array(4))).message).toBe('model: not a shadergrad weights file (expected magic "SGWTS002")');
  });

  it('another format', () => {
    expect(modelError(model({ format: 'keras' }))).toBe('m.sgm: not a model file (format "keras", expected "shadergrad-model")');
  });

  it.each([
    ['0', 0, 'a version 0 model file; this shadergrad reads version 1'],
    ['the string "2" (not called newer)', '2', 'a version "2" model file; this shadergrad reads version 1'],
    ['3', 3, 'a version 3 model file; this shadergrad reads version 1 (written by a newer shadergrad)'],
  ])('version %s', (_, version, message) => {
    expect(modelError(model({ version }))).toBe(`m.sgm: ${message}`);
  });

  it.each([
    ['null', null],
    ['a list', []],
    ['with an empty class name', { className: '', config: {} }],
    ['with a null config', { className: 'Dense', config: null }],
  ])('an architecture layer that is %s', (_, layer) => {
    expect(modelError(model({ architecture: [layer] }))).toBe('m.sgm: architecture layer 0 must be {className, config}');
  });

  it('a null model, or a vectorizer that is not {config, vocabulary}', () => {
    expect(modelError(null)).toMatch(/^m\.sgm: a weights file without a model description/);
    expect(modelError(model({ vectorizer: 'x' }))).toBe('m.sgm: vectorizer must hold a config object and a vocabulary list');
  });
});

const SLOTS = ['momentum', 'velocity'];
const PARAMS: TrainParams = { epochs: 5, batchSize: 4, samples: 16, steps: 4, shuffle: true, seed: 3 };
const FILE = 'checkpoint.sgw';
const REFUSING = '; refusing to resume from it (delete it to start over)';

/** A checkpoint as BackupAndRestore writes it after two epochs, its state changed by `change` and its entries by `entries`. */
function checkpoint(change: (state: Record<string, any>) => void = () => {}, entries: (list: NamedWeights[]) => NamedWeights[] = (l) => l): Uint8Array {
  const all = [...WEIGHTS, ...SLOTS.flatMap((slot) => WEIGHTS.map((w) => ({ ...w, name: `optimizer/${slot}/${w.name}` })))];
  const state: Record<string, any> = {
    kind: 'shadergrad-checkpoint',
    epoch: 2,
    history: { loss: [0.7, 0.6] },
    params: { ...PARAMS },
    iterations: 8,
    optimizer: { name: 'adam', slots: SLOTS },
  };
  change(state);
  return encodeWeights(entries(all), state);
}

const read = (bytes: Uint8Array, shapes = SHAPES, slots = SLOTS, params = PARAMS) => readCheckpoint(bytes, FILE, shapes, { ...params }, slots);
const checkpointError = (bytes: Uint8Array, shapes = SHAPES, slots = SLOTS) => thrown(CheckpointError, () => read(bytes, shapes, slots)).message;

describe('checkpoint: refusals name the file and the mismatch', () => {
  it("another model's weights are listed against this model's shapes", () => {
    expect(checkpointError(checkpoint(), [[4, 2], [2, 1], [2]])).toBe(
      `${FILE}: its weights (embedding/embeddings [4, 2], dense/kernel [2, 1], dense/bias [1]) are not this model's ([4, 2], [2, 1], [2])`,
    );
  });

  it("a weights file of another kind is not a checkpoint, before its weights are compared with this model's", () => {
    const notOurs = checkpoint((s) => (s.kind = 'keras-weights'));
    const message = `${FILE}: not a shadergrad checkpoint (a weights file without training state?)${REFUSING}`;
    expect(checkpointError(notOurs)).toBe(message);
    expect(checkpointError(notOurs, [[4, 2], [2, 1], [2]])).toBe(message);
  });

  it("another optimizer's slots", () => {
    expect(checkpointError(checkpoint(), SHAPES, ['momentum'])).toBe(
      `${FILE}: written with an optimizer whose slots are (momentum, velocity); this run's has (momentum): resume with the same optimizer`,
    );
    const sgd = checkpoint((s) => (s.optimizer.slots = ['momentum']), (list) => list.slice(0, 6));
    expect(checkpointError(sgd)).toBe(`${FILE}: written with an optimizer whose slots are (momentum); this run's has (momentum, velocity): resume with the same optimizer`);
  });

  it('a slot missing one of its weights', () => {
    expect(checkpointError(checkpoint(undefined, (list) => list.slice(0, -1)))).toBe(`${FILE}: its optimizer slots do not have the model's 3 weight shapes each`);
  });

  it('a NaN at index 0 of a weight', () => {
    const poisoned = (list: NamedWeights[]) => list.map((w, i) => (i === 1 ? { ...w, values: Float32Array.of(NaN, 1) } : w));
    expect(checkpointError(checkpoint(undefined, poisoned))).toBe(`${FILE}: dense/kernel holds a value that is not a finite number at index 0${REFUSING}`);
  });

  it.each([
    ['no epoch', (s: any) => delete s.epoch, 'epoch must be a positive integer, found nothing'],
    ['an epoch that is true', (s: any) => (s.epoch = true), 'epoch must be a positive integer, found true'],
    ['a negative batch size', (s: any) => (s.params.batchSize = -4), 'params.batchSize must be a non-negative integer, found -4'],
    ['shuffle that is a string', (s: any) => (s.params.shuffle = 'yes'), "params.shuffle must be true or false, found the string 'yes'"],
    ['an optimizer named by a number', (s: any) => (s.optimizer.name = 7), 'optimizer must name itself and list its slots as strings, found an object'],
    ['a slot that is a number', (s: any) => (s.optimizer.slots = ['momentum', 7]), 'optimizer must name itself and list its slots as strings, found an object'],
    ['65 history series', (s: any) => (s.history = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`m${i}`, [1, 2]]))), 'history holds 65 series, more than 64'],
  ])('%s', (_, change, problem) => {
    expect(checkpointError(checkpoint(change))).toBe(`${FILE}: ${problem}${REFUSING}`);
  });

  it('1e400 in a history list (Infinity once parsed) is not a finite number', () => {
    const bytes = checkpoint();
    const length = new DataView(bytes.buffer).getUint32(8, true);
    const text = new TextDecoder().decode(bytes.subarray(16, 16 + length));
    expect(text).toContain('"loss":[0.7,0.6]');
    const forged = forgedWeights(text.replace('"loss":[0.7,0.6]', '"loss":[0.7,1e400]'), bytes.slice((16 + length + 3) & ~3));
    expect(checkpointError(forged)).toBe(`${FILE}: history 'loss' must be a list of finite numbers, found a list of 2 items${REFUSING}`);
  });
});

describe('checkpoint: the boundaries that are allowed', () => {
  it('iterations 0, a seed of 0 and 64 history series restore', () => {
    const series = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`m${i}`, [1, 2]]));
    const bytes = checkpoint((s) => ((s.iterations = 0), (s.params.seed = 0), (s.history = series)));
    const { state } = read(bytes, SHAPES, SLOTS, { ...PARAMS, seed: 0 });
    expect([state.iterations, state.params.seed, Object.keys(state.history).length]).toEqual([0, 0, 64]);
  });
});

/** A stand-in for a compiled model: the three weights and an Adam-like optimizer, held in memory. */
function standIn(values: Float32Array[] = WEIGHTS.map((w) => w.values)): CallbackModel & { restored: Float32Array[] | null } {
  return {
    stopTraining: false,
    initialEpoch: 0,
    weightNames: NAMES,
    weightShapes: SHAPES,
    optimizerName: 'adam',
    restored: null,
    getWeights: async () => values,
    setWeights(w) {
      this.restored = w;
    },
    getOptimizerState: async () => ({ iterations: 8, slots: SLOTS.map((name) => ({ name, values })) }),
    setOptimizerState: () => {},
  };
}

function memory(): BackupStorage & { bytes: Uint8Array | null } {
  const store = {
    bytes: null as Uint8Array | null,
    description: 'memory://checkpoint',
    read: async () => store.bytes,
    write: async (pieces: readonly Uint8Array[]) => void (store.bytes = new Uint8Array(Buffer.concat(pieces))),
    remove: async () => void (store.bytes = null),
  };
  return store;
}

describe('BackupAndRestore on a stand-in model', () => {
  it('logs the restore: epochs done of those asked, and the epoch it goes on from', async () => {
    const storage = memory();
    const first = new BackupAndRestore(storage);
    await first.onTrainBegin(standIn(), PARAMS);
    await first.onEpochEnd(0, { loss: 0.7 });
    await first.onEpochEnd(1, { loss: 0.6 });
    await first.written();
    const lines: string[] = [];
    const model = standIn();
    await new BackupAndRestore(storage, { log: (line) => lines.push(line) }).onTrainBegin(model, PARAMS);
    expect(lines).toEqual(['Restored memory://checkpoint: 2 of 5 epochs done, going on from epoch 3.']);
    expect(model.initialEpoch).toBe(2);
  });

  it('a NaN at index 0 of the first epoch stops training and says no checkpoint was written', async () => {
    const storage = memory();
    const backup = new BackupAndRestore(storage);
    await backup.onTrainBegin(standIn([WEIGHTS[0].values, Float32Array.of(NaN, 1), WEIGHTS[2].values]), PARAMS);
    const error = await backup.onEpochEnd(0, { loss: 0.7 }).catch((e) => e);
    expect(error).toBeInstanceOf(TrainingError);
    expect(error.message).toBe('after epoch 1, dense/kernel holds NaN at index 0: training stopped; no checkpoint was written');
    expect(storage.bytes).toBeNull();
  });

  it('deleteCheckpoint: false keeps the checkpoint when training ends; the default removes it', async () => {
    for (const [deleteCheckpoint, kept] of [[false, true], [undefined, false]] as const) {
      const storage = memory();
      const backup = new BackupAndRestore(storage, { deleteCheckpoint });
      await backup.onTrainBegin(standIn(), PARAMS);
      await backup.onEpochEnd(0, { loss: 0.7 });
      await backup.onTrainEnd();
      expect(storage.bytes !== null, `deleteCheckpoint ${deleteCheckpoint}`).toBe(kept);
    }
  });
});
