/** Keras' callbacks that the tutorial uses or names: History and EarlyStopping (BackupAndRestore: backup.ts). */
import type { OptimizerState } from './parameter-store.js';

export type Logs = Record<string, number>;

/** What a callback may ask of the model it is attached to. */
export interface CallbackModel {
  stopTraining: boolean;
  /** Set in onTrainBegin to start at a later epoch (what BackupAndRestore does on resume). */
  initialEpoch: number;
  /** Keras' weight names and shapes, in the order of getWeights. */
  readonly weightNames: string[];
  readonly weightShapes: number[][];
  getWeights(): Promise<Float32Array[]>;
  setWeights(weights: Float32Array[]): void;
  /** The compiled optimizer's Keras name ('adam', ...): checkpoints record it. */
  readonly optimizerName: string;
  /** The compiled optimizer's variables: its step count and each slot it declares. */
  getOptimizerState(): Promise<OptimizerState>;
  setOptimizerState(state: OptimizerState): void;
}

/** Keras' `callback.params`: how fit was called. */
export interface TrainParams {
  epochs: number;
  batchSize: number;
  samples: number;
  steps: number;
  shuffle: boolean;
  seed: number;
}

export interface Callback {
  onTrainBegin?(model: CallbackModel, params: TrainParams): void | Promise<void>;
  onEpochEnd?(epoch: number, logs: Logs): void | Promise<void>;
  onTrainEnd?(): void | Promise<void>;
}

/** `model.fit(...)`'s return value: every metric, one value per epoch. */
export class History implements Callback {
  readonly epoch: number[] = [];
  readonly history: Record<string, number[]> = {};

  onEpochEnd(epoch: number, logs: Logs): void {
    this.epoch.push(epoch);
    for (const [name, value] of Object.entries(logs)) (this.history[name] ??= []).push(value);
  }
}

export interface EarlyStoppingOptions {
  monitor?: string;
  minDelta?: number;
  patience?: number;
  mode?: 'auto' | 'min' | 'max';
  restoreBestWeights?: boolean;
  startFromEpoch?: number;
  verbose?: 0 | 1;
  /** Where the messages go (default stdout). */
  log?: (line: string) => void;
}

/**
 * keras/src/callbacks/early_stopping.py: stop when `monitor` has not improved by
 * more than `minDelta` for `patience` epochs; optionally restore the weights of
 * the best epoch when training ends.
 */
export class EarlyStopping implements Callback {
  readonly monitor: string;
  readonly minDelta: number;
  readonly patience: number;
  readonly restoreBestWeights: boolean;
  readonly startFromEpoch: number;
  private readonly maximise: boolean;
  private readonly log: (line: string) => void;
  private readonly verbose: number;
  private model: CallbackModel | null = null;
  private wait = 0;
  /** null until the first epoch counted (Keras' `best = None`): that epoch is always an improvement. */
  private best: number | null = null;
  private bestWeights: Float32Array[] | null = null;
  bestEpoch = 0;
  stoppedEpoch = 0;

  constructor(options: EarlyStoppingOptions = {}) {
    this.monitor = options.monitor ?? 'val_loss';
    this.minDelta = Math.abs(options.minDelta ?? 0);
    this.patience = options.patience ?? 0;
    this.restoreBestWeights = options.restoreBestWeights ?? false;
    this.startFromEpoch = options.startFromEpoch ?? 0;
    this.verbose = options.verbose ?? 0;
    this.log = options.log ?? ((line) => console.log(line));
    const mode = options.mode ?? 'auto';
    // 'auto' maximises accuracy-like metrics and minimises the rest, as Keras does.
    this.maximise = mode === 'max' || (mode === 'auto' && /acc/.test(this.monitor));
  }

  onTrainBegin(model: CallbackModel): void {
    this.model = model;
    this.wait = 0;
    this.stoppedEpoch = 0;
    this.best = null;
    this.bestWeights = null;
    this.bestEpoch = 0;
  }

  async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    const current = logs[this.monitor];
    if (current === undefined) {
      throw new RangeError(`EarlyStopping: metric '${this.monitor}' is not among ${Object.keys(logs).join(', ')}`);
    }
    if (epoch < this.startFromEpoch) return;
    // Keras also takes the weights here when it has none yet; the first epoch counted always
    // improves on `best = None` and takes them below, so that step is left out.
    this.wait++;
    if (this.improves(current)) {
      this.best = current;
      this.bestEpoch = epoch;
      if (this.restoreBestWeights) this.bestWeights = await this.model!.getWeights();
      this.wait = 0;
      return;
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      this.model!.stopTraining = true;
    }
  }

  private improves(current: number): boolean {
    if (this.best === null) return true;
    return this.maximise ? current - this.minDelta > this.best : current + this.minDelta < this.best;
  }

  onTrainEnd(): void {
    if (this.stoppedEpoch > 0 && this.verbose > 0) this.log(`Epoch ${this.stoppedEpoch + 1}: early stopping`);
    if (this.restoreBestWeights && this.bestWeights) {
      if (this.verbose > 0) this.log(`Restoring model weights from the end of the best epoch: ${this.bestEpoch + 1}.`);
      this.model!.setWeights(this.bestWeights);
    }
  }
}
