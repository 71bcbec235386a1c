/**
 * BackupAndRestore: checkpoints every epoch, resume after an interruption (an exception, a
 * lost device) to the same final weights, bit for bit, on both training paths; damaged or
 * mismatched checkpoints refused; NaN weights stop the run and keep the last good checkpoint.
 */
import { describe, expect, it } from 'vitest';
import { Gpu } from '../src/gpu/gpu.js';
import { BackupAndRestore, CheckpointError, type BackupStorage } from '../src/nn/backup.js';
import type { Callback, CallbackModel } from '../src/nn/callbacks.js';
import { Dense, Embedding, GlobalAveragePooling1D } from '../src/nn/layers.js';
import { Sequential, TrainingError, type TokenMatrix } from '../src/nn/model.js';
import { Adam } from '../src/nn/optimizers/index.js';
import { encodeWeights } from '../src/nn/weights-file.js';
import { useGpu } from './gpu-helpers.js';

const VOCAB = 40;
const STEPS = 10;

function data(samples: number, seed: number): { x: TokenMatrix; y: Uint8Array } {
  let s = seed;
  const next = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 8) / 2 ** 24;
  const x = Int32Array.from({ length: samples * STEPS }, () => Math.floor(next() * VOCAB));
  const y = Uint8Array.from({ length: samples }, (_, r) => (x.subarray(r * STEPS, (r + 1) * STEPS).reduce((a, b) => a + b, 0) > (VOCAB * STEPS) / 2 ? 1 : 0));
  return { x: { data: x, shape: [samples, STEPS] }, y };
}

const train = data(90, 1);
const val = data(30, 2);

function memory(): BackupStorage & { bytes: Uint8Array | null; writes: number } {
  const store = {
    bytes: null as Uint8Array | null,
    writes: 0,
    description: 'memory://checkpoint',
    read: async () => store.bytes,
    write: async (pieces: readonly Uint8Array[]) => void ((store.bytes = new Uint8Array(Buffer.concat(pieces))), store.writes++),
    remove: async () => void (store.bytes = null),
  };
  return store;
}

function model(gpu: Gpu, jitCompile: boolean, seed = 3): Sequential {
  const m = new Sequential([new Embedding(VOCAB, 8), new GlobalAveragePooling1D(), new Dense(4, { activation: 'relu' }), new Dense(1, { activation: 'sigmoid' })]);
  m.build(gpu, [STEPS], { seed });
  m.compile({ optimizer: new Adam({ learningRate: 0.02 }), jitCompile });
  return m;
}

const options = { epochs: 5, batchSize: 16, validationData: [val.x, val.y] as [TokenMatrix, Uint8Array], verbose: 0 as const, seed: 11 };

/** Throws at the end of `epoch` (0-based), after the callbacks before it (the backup) ran. */
const interruptAfter = (epoch: number): Callback => ({
  onEpochEnd: (e) => {
    if (e === epoch) throw new Error('interrupted');
  },
});

async function weightsOf(m: Sequential): Promise<number[][]> {
  return (await m.getWeights()).map((w) => Array.from(w));
}

describe('BackupAndRestore', () => {
  const gpu = useGpu();

  for (const jitCompile of [true, false]) {
    const path = jitCompile ? 'fused path' : 'general path';

    it(`resumes an interrupted run to the same weights and history as an uninterrupted one (${path})`, async () => {
      const whole = model(gpu(), jitCompile);
      const wholeBackup = new BackupAndRestore(memory());
      await whole.fit(train.x, train.y, { ...options, callbacks: [wholeBackup] });

      const storage = memory();
      const first = model(gpu(), jitCompile);
      await expect(first.fit(train.x, train.y, { ...options, callbacks: [new BackupAndRestore(storage), interruptAfter(1)] })).rejects.toThrow('interrupted');
      expect(storage.writes).toBe(2);

      // A fresh model with other initial weights and a fresh optimizer: everything comes from the checkpoint.
      const second = model(gpu(), jitCompile, 99);
      const backup = new BackupAndRestore(storage);
      const history = await second.fit(train.x, train.y, { ...options, callbacks: [backup] });
      expect(history.epoch).toEqual([2, 3, 4]);
      expect(await weightsOf(second)).toEqual(await weightsOf(whole));
      expect(backup.history).toEqual(wholeBackup.history);
      expect(storage.bytes).toBeNull(); // Keras' delete_checkpoint: gone once training ends
    });
  }

  it('resumes after the GPU device was lost, on a new device, to the same weights', async () => {
    const whole = model(gpu(), true);
    await whole.fit(train.x, train.y, options);

    const storage = memory();
    const lost = await Gpu.create();
    let target: CallbackModel | null = null;
    const loseDevice: Callback = {
      onTrainBegin: (m) => void (target = m),
      onEpochEnd: (e) => {
        if (e === 2) (target as Sequential).weights[0].tensor.gpu.device.destroy();
      },
    };
    const error = await model(lost, true).fit(train.x, train.y, { ...options, callbacks: [new BackupAndRestore(storage), loseDevice] }).catch((e) => e);
    expect(error).toBeInstanceOf(TrainingError);
    expect(error.message).toMatch(/GPU failure at epoch 4, steps 1-\d+ \(submitted together; compiled steps read back once per epoch\): .*lost/);

    const fresh = await Gpu.create();
    try {
      const resumed = model(fresh, true, 42);
      await resumed.fit(train.x, train.y, { ...options, callbacks: [new BackupAndRestore(storage)] });
      expect(await weightsOf(resumed)).toEqual(await weightsOf(whole));
    } finally {
      fresh.device.destroy();
    }
  });

  it('stops on a NaN weight before writing it, naming the tensor, and keeps the last good checkpoint', async () => {
    const storage = memory();
    let target: CallbackModel | null = null;
    const poison: Callback = {
      onTrainBegin: (m) => void (target = m),
      onEpochEnd: async (e) => {
        if (e !== 2) return;
        const weights = await target!.getWeights();
        weights[2][1] = Number.NaN; // the first Dense bias, index 1
        target!.setWeights(weights);
      },
    };
    const m = model(gpu(), true);
    // The poison runs before the backup, as a bad step would have left the weights.
    const error = await m.fit(train.x, train.y, { ...options, callbacks: [poison, new BackupAndRestore(storage)] }).catch((e) => e);
    expect(error).toBeInstanceOf(TrainingError);
    expect(error.message).toMatch(/after epoch 3, dense(_\d+)?\/bias holds NaN at index 1: training stopped; the last good checkpoint \(after epoch 2\) is kept at memory:\/\/checkpoint/);
    expect(storage.writes).toBe(2);
    // The kept checkpoint is whole: a resume from it goes on.
    const resumed = model(gpu(), true);
    const history = await resumed.fit(train.x, train.y, { ...options, epochs: 3, callbacks: [new BackupAndRestore(storage)] });
    expect(history.epoch).toEqual([2]);
  });

  // The write runs behind the next epoch: each checkpoint waits for the one before, fit's end waits
  // for the last, checkpointEpoch counts only writes that finished, and a failed write is thrown.
  it('writes each checkpoint behind the next epoch, in order, finished before fit returns', async () => {
    const store = memory();
    const events: string[] = [];
    let release: (() => void) | null = null;
    const slow: BackupStorage = {
      ...store,
      read: store.read,
      write: (bytes) => {
        events.push(`write ${store.writes + 1} begins`);
        return new Promise<void>((resolve) => {
          release = () => void store.write(bytes).then(() => (events.push(`write ${store.writes} ends`), resolve()));
        });
      },
    };
    const backup = new BackupAndRestore(slow);
    const epochs: number[] = [];
    const watch: Callback = {
      onEpochEnd: (epoch) => {
        epochs.push(epoch);
        events.push(`epoch ${epoch + 1} ends, ${backup.checkpointEpoch} written`);
        // Let the write go on only after training has moved past the epoch that started it.
        setTimeout(() => release?.(), 20);
      },
    };
    const m = model(gpu(), true);
    await m.fit(train.x, train.y, { ...options, epochs: 3, callbacks: [backup, watch] });
    expect(events).toEqual([
      'write 1 begins', 'epoch 1 ends, 0 written',
      'write 1 ends', 'write 2 begins', 'epoch 2 ends, 1 written',
      'write 2 ends', 'write 3 begins', 'epoch 3 ends, 2 written',
      'write 3 ends',
    ]);
    expect(backup.checkpointEpoch).toBe(3);
    expect(store.bytes).toBeNull(); // delete_checkpoint after the last write, not before it

    const failing = new BackupAndRestore({ ...memory(), write: async () => { throw new Error('disk full'); } });
    await expect(model(gpu(), true).fit(train.x, train.y, { ...options, epochs: 2, callbacks: [failing] })).rejects.toThrow('disk full');
    expect(failing.checkpointEpoch).toBe(0);
  });

  it('refuses a damaged checkpoint, one of another model or other settings, and a plain weights file', async () => {
    const storage = memory();
    const m = model(gpu(), true);
    await expect(m.fit(train.x, train.y, { ...options, callbacks: [new BackupAndRestore(storage), interruptAfter(0)] })).rejects.toThrow('interrupted');
    const good = storage.bytes!;
    const resume = async (bytes: Uint8Array, changes: Partial<typeof options> = {}, other?: Sequential) => {
      const s = memory();
      s.bytes = bytes;
      return (other ?? model(gpu(), true)).fit(train.x, train.y, { ...options, ...changes, callbacks: [new BackupAndRestore(s)] });
    };
    const flipped = (at: number) => {
      const b = good.slice();
      b[at] ^= 0x40;
      return b;
    };
    await expect(resume(flipped(good.length - 5))).rejects.toThrow(/CRC-32 of the data does not match.*refusing to resume/);
    const metaAt = new TextDecoder().decode(good).indexOf('"epoch":1') + 8;
    await expect(resume(flipped(metaAt))).rejects.toThrow(CheckpointError);
    await expect(resume(good.subarray(0, good.length - 100))).rejects.toThrow(/truncated/);
    await expect(resume(good, { batchSize: 32 })).rejects.toThrow(/written by a run with batchSize 16; this run has 32/);
    await expect(resume(good, { seed: 12 })).rejects.toThrow(/seed 11; this run has 12/);
    await expect(resume(good, { epochs: 1 }).then(() => 'ok')).resolves.toBe('ok'); // 1 epoch done of 1: nothing to train
    const wider = new Sequential([new Embedding(VOCAB, 12), new GlobalAveragePooling1D(), new Dense(4, { activation: 'relu' }), new Dense(1, { activation: 'sigmoid' })]);
    wider.build(gpu(), [STEPS]);
    wider.compile({ jitCompile: true });
    await expect(resume(good, {}, wider)).rejects.toThrow(/are not this model's \(\[40, 12\]/);
    const names = m.weightNames;
    const plain = encodeWeights((await m.getWeights()).map((values, i) => ({ name: names[i], shape: [values.length], values })));
    await expect(resume(plain)).rejects.toThrow(/not a shadergrad checkpoint/);
    const otherNames = encodeWeights([{ name: 'x', shape: [1], values: new Float32Array(1) }], JSON.parse(JSON.stringify({ kind: 'shadergrad-checkpoint', epoch: 1, iterations: 6, history: {}, params: {} })));
    await expect(resume(otherNames)).rejects.toThrow(/are not this model's/);
  });

  it('checks fit: initialEpoch', async () => {
    await expect(model(gpu(), true).fit(train.x, train.y, { ...options, initialEpoch: -1 })).rejects.toThrow(/initialEpoch must be a non-negative integer/);
  });
});
