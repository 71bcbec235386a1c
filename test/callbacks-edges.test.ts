// EarlyStopping and History against a fake model (no GPU): the edges that StrykerJS's run over
// src/nn/callbacks.ts left alive (README, "Mutation testing"), each checked against Keras'
// keras/src/callbacks/early_stopping.py.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EarlyStopping, History, type CallbackModel, type Logs } from '../src/nn/callbacks.js';

/** A model whose weights are the number of the epoch that ended last (weights[0][0]). */
function fakeModel() {
  let epoch = -1;
  const restored: number[] = [];
  const model: CallbackModel = {
    stopTraining: false,
    initialEpoch: 0,
    weightNames: ['w'],
    weightShapes: [[1]],
    getWeights: async () => [Float32Array.of(epoch)],
    setWeights: (w) => void restored.push(w[0][0]),
    optimizerName: 'adam',
    getOptimizerState: async () => ({ iterations: 0, slots: {} }) as never,
    setOptimizerState: () => {},
  };
  return { model, restored, setEpoch: (e: number) => void (epoch = e) };
}

/**
 * Runs `stop` over `values` of its monitor as fit would: onTrainBegin, then each epoch until the
 * model is told to stop, then onTrainEnd. Returns the epochs run and the weights restored.
 */
async function fit(stop: EarlyStopping, values: number[], monitor = 'val_loss', fake = fakeModel()) {
  fake.model.stopTraining = false;
  stop.onTrainBegin(fake.model);
  let ran = 0;
  for (let epoch = 0; epoch < values.length && !fake.model.stopTraining; epoch++) {
    fake.setEpoch(epoch);
    const logs: Logs = { loss: 1, [monitor]: values[epoch] };
    await stop.onEpochEnd(epoch, logs);
    ran++;
  }
  stop.onTrainEnd();
  return { ran, restored: fake.restored };
}

afterEach(() => vi.restoreAllMocks());

describe('EarlyStopping', () => {
  it("monitors val_loss by default, minimising it, and stops after patience 0 at the first epoch without improvement", async () => {
    const stop = new EarlyStopping();
    expect(stop.monitor).toBe('val_loss');
    expect(stop.patience).toBe(0);
    expect(stop.minDelta).toBe(0);
    expect(stop.restoreBestWeights).toBe(false);
    expect(stop.startFromEpoch).toBe(0);
    const { ran, restored } = await fit(stop, [0.5, 0.4, 0.4, 0.1]);
    // Equal is not an improvement (Keras: np.less).
    expect(ran).toBe(3);
    expect(stop.stoppedEpoch).toBe(2);
    expect(stop.bestEpoch).toBe(1);
    expect(restored).toEqual([]);
  });

  it("'auto' maximises a metric whose name has 'acc' in it, 'min' minimises it", async () => {
    const acc = new EarlyStopping({ monitor: 'val_accuracy' });
    expect((await fit(acc, [0.5, 0.6, 0.7, 0.65], 'val_accuracy')).ran).toBe(4);
    expect(acc.stoppedEpoch).toBe(3);
    const min = new EarlyStopping({ monitor: 'val_accuracy', mode: 'min' });
    expect((await fit(min, [0.5, 0.6, 0.7], 'val_accuracy')).ran).toBe(2);
    const max = new EarlyStopping({ monitor: 'val_loss', mode: 'max' });
    expect((await fit(max, [0.5, 0.6, 0.4], 'val_loss')).ran).toBe(3);
    expect(max.bestEpoch).toBe(1);
  });

  it('min_delta: a change of min_delta or less is no improvement, in either direction, and its sign is ignored', async () => {
    for (const minDelta of [0.1, -0.1]) {
      const down = new EarlyStopping({ minDelta, patience: 0 });
      expect(down.minDelta).toBe(0.1);
      // 1 -> 0.85 improves by 0.15 > 0.1; 0.85 -> 0.75 by 0.1 only (0.75 + 0.1 = 0.85 is not < 0.85).
      expect((await fit(down, [1, 0.85, 0.75, 0.5])).ran).toBe(3);
      expect(down.bestEpoch).toBe(1);
      const up = new EarlyStopping({ minDelta, monitor: 'acc', mode: 'max' });
      expect((await fit(up, [0.5, 0.65, 0.75, 0.9], 'acc')).ran).toBe(3);
      expect(up.bestEpoch).toBe(1);
    }
  });

  it('patience counts the epochs without improvement since the best, and an improvement resets it', async () => {
    const stop = new EarlyStopping({ patience: 2 });
    // Epoch 1 does not improve on 0.5, epoch 2 does, epochs 3 and 4 do not: it stops at 4.
    const { ran } = await fit(stop, [0.5, 0.6, 0.4, 0.45, 0.46, 0.1]);
    expect(ran).toBe(5);
    expect(stop.stoppedEpoch).toBe(4);
    expect(stop.bestEpoch).toBe(2);
  });

  it('start_from_epoch: the first epochs are ignored, even with a missing best', async () => {
    const stop = new EarlyStopping({ startFromEpoch: 2, restoreBestWeights: true });
    // Epochs 0 and 1 would stop it; from epoch 2 on, 0.9 is the first value and 0.8 improves on it.
    const { ran, restored } = await fit(stop, [0.1, 0.2, 0.9, 0.8, 0.85]);
    expect(ran).toBe(5);
    expect(stop.bestEpoch).toBe(3);
    expect(stop.stoppedEpoch).toBe(4);
    expect(restored).toEqual([3]);
  });

  it('restore_best_weights restores the best epoch, and with verbose says so (1-based epochs)', async () => {
    const log: string[] = [];
    const stop = new EarlyStopping({ patience: 1, restoreBestWeights: true, verbose: 1, log: (l) => log.push(l) });
    const { ran, restored } = await fit(stop, [0.5, 0.3, 0.4, 0.35, 0.2]);
    expect(ran).toBe(3);
    expect(restored).toEqual([1]);
    expect(log).toEqual(['Epoch 3: early stopping', 'Restoring model weights from the end of the best epoch: 2.']);
  });

  it('restores the best weights at the end of training even when it never stopped training, and says only that', async () => {
    const log: string[] = [];
    const stop = new EarlyStopping({ patience: 5, restoreBestWeights: true, verbose: 1, log: (l) => log.push(l) });
    const { ran, restored } = await fit(stop, [0.5, 0.3, 0.4]);
    expect(ran).toBe(3);
    expect(stop.stoppedEpoch).toBe(0);
    expect(restored).toEqual([1]);
    expect(log).toEqual(['Restoring model weights from the end of the best epoch: 2.']);
  });

  it('is silent without verbose, and writes to console.log by default', async () => {
    const spy = vi.spyOn(console, 'log').mockImplementation(() => {});
    await fit(new EarlyStopping({ restoreBestWeights: true }), [0.5, 0.6]);
    expect(spy).not.toHaveBeenCalled();
    await fit(new EarlyStopping({ verbose: 1 }), [0.5, 0.6]);
    expect(spy.mock.calls).toEqual([['Epoch 2: early stopping']]);
  });

  it('an epoch that improves on nothing (an infinite loss) keeps the first weights, and epoch 0 never stops it', async () => {
    // Keras takes the first weights as the best before comparing (best_weights is None), and does not
    // stop at epoch 0.
    const stop = new EarlyStopping({ restoreBestWeights: true });
    const { ran, restored } = await fit(stop, [Infinity, Infinity]);
    expect(ran).toBe(2);
    expect(stop.stoppedEpoch).toBe(1);
    expect(restored).toEqual([0]);
  });

  it('the first epoch counted is always the best so far, even an infinite or NaN one (Keras: best = None)', async () => {
    // patience 2: epoch 0 improves on nothing (wait 0), epochs 1 and 2 do not: it stops at 2.
    const inf = new EarlyStopping({ patience: 2, restoreBestWeights: true });
    const { ran, restored } = await fit(inf, [Infinity, Infinity, Infinity, Infinity]);
    expect(ran).toBe(3);
    expect(inf.stoppedEpoch).toBe(2);
    expect(inf.bestEpoch).toBe(0);
    expect(restored).toEqual([0]);
    // A NaN first: nothing compares better than NaN, so it stops after patience epochs.
    const nan = new EarlyStopping({ patience: 1 });
    expect((await fit(nan, [NaN, 0.5, 0.4])).ran).toBe(2);
    expect(nan.stoppedEpoch).toBe(1);
  });

  it('starts afresh on each fit: wait, best, best epoch, stopped epoch and best weights', async () => {
    const stop = new EarlyStopping({ patience: 1, restoreBestWeights: true });
    const fake = fakeModel();
    await fit(stop, [0.1, 0.5, 0.5], 'val_loss', fake);
    expect(stop.stoppedEpoch).toBe(1);
    expect(fake.restored).toEqual([0]);
    // A second fit whose values are all worse than the first's best: the first best is forgotten.
    const second = fakeModel();
    const { ran } = await fit(stop, [0.9, 0.8, 0.7], 'val_loss', second);
    expect(ran).toBe(3);
    expect(stop.stoppedEpoch).toBe(0);
    expect(stop.bestEpoch).toBe(2);
    expect(second.restored).toEqual([2]);
    // After a fit that ended waiting (patience 1, one bad epoch), the next starts with wait 0.
    const third = new EarlyStopping({ patience: 1 });
    await fit(third, [0.5, 0.6]);
    expect(third.stoppedEpoch).toBe(1);
    const again = await fit(third, [0.5, 0.4]);
    expect(again.ran).toBe(2);
    expect(third.stoppedEpoch).toBe(0);
    expect(third.bestEpoch).toBe(1);
  });

  it('reads the weights back (a GPU readback) only when it is to restore them', async () => {
    const fake = fakeModel();
    const reads = vi.spyOn(fake.model, 'getWeights');
    await fit(new EarlyStopping({ patience: 3 }), [0.5, 0.4, 0.3, 0.35], 'val_loss', fake);
    expect(reads).not.toHaveBeenCalled();
    await fit(new EarlyStopping({ patience: 3, restoreBestWeights: true }), [0.5, 0.4, 0.3, 0.35], 'val_loss', fake);
    expect(reads).toHaveBeenCalledTimes(3); // each improvement
  });

  it('names the metrics it was given when its monitor is not among them', async () => {
    const stop = new EarlyStopping({ monitor: 'val_acc' });
    stop.onTrainBegin(fakeModel().model);
    await expect(stop.onEpochEnd(0, { loss: 1, accuracy: 0.5 })).rejects.toThrow("EarlyStopping: metric 'val_acc' is not among loss, accuracy");
  });
});

describe('History', () => {
  it('records the epochs and each metric per epoch', () => {
    const history = new History();
    history.onEpochEnd(0, { loss: 0.7, accuracy: 0.5 });
    history.onEpochEnd(1, { loss: 0.6, accuracy: 0.6 });
    expect(history.epoch).toEqual([0, 1]);
    expect(history.history).toEqual({ loss: [0.7, 0.6], accuracy: [0.5, 0.6] });
  });
});
