/**
 * keras.callbacks.BackupAndRestore (keras/src/callbacks/backup_and_restore.py): at the end of
 * every epoch, save the weights, the optimizer's variables and the epoch; when a fit begins and
 * a backup exists, restore them and start at the next epoch, so an interrupted run (a killed
 * process, a lost GPU) resumed to the end gives the same weights as an uninterrupted one.
 *
 * The checkpoint is a `.sgw` weights file (weights-file.ts) whose entries are the model's
 * weights then, for each slot the optimizer declares (Adam: `momentum`, `velocity`; SGD without
 * momentum: none), `optimizer/<slot>/<name>` for every weight, with the training state (the
 * optimizer's name, slots and iterations included) in its checksummed `meta`. Before writing, every weight and moment is checked to be finite: a NaN
 * stops the run and the last good checkpoint stays. Where the bytes live is the storage's
 * business (Node: backup-file.ts writes then renames, so a checkpoint is never half-written).
 *
 * Unlike Keras, the write runs behind the next epoch (a fastText table's checkpoint is 720 MB):
 * the weights are read and encoded at the epoch's end, and the next checkpoint, the end of fit
 * and `written()` wait for the write. A run killed meanwhile resumes from the checkpoint before,
 * which is whole and gives the same weights in the end.
 */
import type { Callback, CallbackModel, Logs, TrainParams } from './callbacks.js';
import { TrainingError } from './model.js';
import { excerpt } from '../data/errors.js';
import { decodeWeightsFile, encodeWeightsPieces, WeightsFileError, type NamedWeights } from './weights-file.js';

/** Where a checkpoint is kept. */
export interface BackupStorage {
  /** The checkpoint's bytes, or null when there is none. */
  read(): Promise<Uint8Array | null>;
  /** Replace the checkpoint, all at once, with these pieces back to back (weights-file.ts `encodeWeightsPieces`). */
  write(pieces: readonly Uint8Array[]): Promise<void>;
  remove(): Promise<void>;
  /** Names it in messages, e.g. its path. */
  readonly description: string;
}

/** The index of the first NaN or infinity in `values`, or -1 (a plain loop: 180M floats in a fraction of a second). */
function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v - v !== 0) return i; // NaN - NaN and Infinity - Infinity are NaN
  }
  return -1;
}

/** A checkpoint that cannot be used: damaged, or from another model or run. */
export class CheckpointError extends WeightsFileError {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

const KIND = 'shadergrad-checkpoint';

/** What a checkpoint's meta holds. */
export interface CheckpointState {
  kind: typeof KIND;
  /** Epochs completed. */
  epoch: number;
  /** Every epoch's logs so far. */
  history: Record<string, number[]>;
  /** How fit was called: a resume must match (the epochs may grow). */
  params: Omit<TrainParams, 'epochs'> & { epochs: number };
  /** The optimizer's step count and the slots whose entries follow the weights, in order. */
  iterations: number;
  optimizer: { name: string; slots: string[] };
}

export interface BackupAndRestoreOptions {
  /** Keras' delete_checkpoint: remove the backup when training ends normally (default true, as Keras). */
  deleteCheckpoint?: boolean;
  log?: (line: string) => void;
}

export class BackupAndRestore implements Callback {
  /** Every epoch's logs, those restored included (the History callback only sees this fit's). */
  readonly history: Record<string, number[]> = {};
  /** Epochs completed when the last checkpoint was written or read (0: none). */
  checkpointEpoch = 0;
  private model: CallbackModel | null = null;
  private params: TrainParams | null = null;
  private readonly deleteCheckpoint: boolean;
  private readonly log: (line: string) => void;
  /** The checkpoint being written behind training, if any. */
  private pending: Promise<void> | null = null;

  constructor(
    readonly storage: BackupStorage,
    options: BackupAndRestoreOptions = {},
  ) {
    this.deleteCheckpoint = options.deleteCheckpoint ?? true;
    this.log = options.log ?? (() => {});
  }

  async onTrainBegin(model: CallbackModel, params: TrainParams): Promise<void> {
    this.model = model;
    this.params = params;
    for (const key of Object.keys(this.history)) delete this.history[key];
    this.checkpointEpoch = 0;
    const bytes = await this.storage.read();
    if (!bytes) return;
    const current = await model.getOptimizerState();
    const slotNames = current.slots.map((s) => s.name);
    const { weights, state } = readCheckpoint(bytes, this.storage.description, model.weightShapes, params, slotNames);
    const count = model.weightShapes.length;
    model.setWeights(weights.slice(0, count).map((w) => w.values));
    model.setOptimizerState({
      iterations: state.iterations,
      slots: slotNames.map((name, k) => ({ name, values: weights.slice((k + 1) * count, (k + 2) * count).map((w) => w.values) })),
    });
    model.initialEpoch = state.epoch;
    Object.assign(this.history, state.history);
    this.checkpointEpoch = state.epoch;
    this.log(`Restored ${this.storage.description}: ${state.epoch} of ${params.epochs} epochs done, going on from epoch ${state.epoch + 1}.`);
  }

  async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    const model = this.model!;
    for (const [key, value] of Object.entries(logs)) (this.history[key] ??= []).push(value);
    const [names, shapes] = [model.weightNames, model.weightShapes];
    const [values, optimizer] = [await model.getWeights(), await model.getOptimizerState()];
    const named = (prefix: string, list: Float32Array[]) => list.map((v, i): NamedWeights => ({ name: `${prefix}${names[i]}`, shape: shapes[i], values: v }));
    const entries = [...named('', values), ...optimizer.slots.flatMap((slot) => named(`optimizer/${slot.name}/`, slot.values))];
    for (const entry of entries) {
      const bad = firstNonFinite(entry.values);
      if (bad >= 0) {
        await this.written().catch(() => {}); // which checkpoint is the last good one
        const kept = this.checkpointEpoch > 0 ? `the last good checkpoint (after epoch ${this.checkpointEpoch}) is kept at ${this.storage.description}` : 'no checkpoint was written';
        throw new TrainingError(`after epoch ${epoch + 1}, ${entry.name} holds ${entry.values[bad]} at index ${bad}: training stopped; ${kept}`);
      }
    }
    const state: CheckpointState = {
      kind: KIND,
      epoch: epoch + 1,
      history: this.history,
      params: this.params!,
      iterations: optimizer.iterations,
      optimizer: { name: model.optimizerName, slots: optimizer.slots.map((s) => s.name) },
    };
    const pieces = encodeWeightsPieces(entries, state as unknown as Record<string, unknown>);
    await this.written();
    this.pending = this.storage.write(pieces).then(() => void (this.checkpointEpoch = epoch + 1));
    this.pending.catch(() => {}); // handled: written() rethrows it
  }

  /** Wait for the checkpoint being written, if any (a failed write throws here). */
  async written(): Promise<void> {
    const pending = this.pending;
    this.pending = null;
    await pending;
  }

  async onTrainEnd(): Promise<void> {
    await this.written();
    if (this.deleteCheckpoint) await this.storage.remove();
  }
}

/**
 * Decode and check a checkpoint against the model's weights and the fit's settings. Weights match
 * by order and shape, as Keras restores them (names carry a per-process counter: `dense_3`).
 * Every field of the training state is checked (a file whose checksum was recomputed after
 * editing gets here), and every weight must be finite: a refused file is never called good.
 */
export function readCheckpoint(
  bytes: Uint8Array,
  file: string,
  weightShapes: readonly number[][],
  params: TrainParams,
  slotNames: readonly string[],
): { weights: NamedWeights[]; state: CheckpointState } {
  const refuse = (problem: string) => new CheckpointError(`${excerpt(file)}: ${problem}; refusing to resume from it (delete it to start over)`);
  let decoded: ReturnType<typeof decodeWeightsFile>;
  try {
    decoded = decodeWeightsFile(bytes, file);
  } catch (error) {
    throw new CheckpointError(`${(error as Error).message}; refusing to resume from it (delete it to start over)`);
  }
  if (!isRecord(decoded.meta) || decoded.meta.kind !== KIND) throw refuse('not a shadergrad checkpoint (a weights file without training state?)');
  // Another model's checkpoint is named as such before its state is looked at.
  const describe = (shapes: readonly (readonly number[])[]) => shapes.map((s) => `[${s.join(', ')}]`).join(', ');
  const model = decoded.weights.slice(0, weightShapes.length);
  if (describe(model.map((w) => w.shape)) !== describe(weightShapes)) {
    const saved = model.map((w) => `${w.name} [${w.shape.join(', ')}]`).join(', ');
    throw new CheckpointError(`${file}: its weights (${excerpt(saved, 400)}) are not this model's (${describe(weightShapes)})`);
  }
  const state = checkState(decoded.meta, (problem) => {
    throw refuse(problem);
  });
  const savedSlots = state.optimizer.slots;
  if (savedSlots.join(',') !== slotNames.join(',')) {
    throw new CheckpointError(
      `${file}: written with an optimizer whose slots are (${excerpt(savedSlots.join(', '))}); this run's has (${slotNames.join(', ')}): resume with the same optimizer`,
    );
  }
  if (describe(decoded.weights.map((w) => w.shape)) !== describe(Array.from({ length: slotNames.length + 1 }, () => weightShapes).flat())) {
    throw new CheckpointError(`${file}: its optimizer slots do not have the model's ${weightShapes.length} weight shapes each`);
  }
  for (const key of ['batchSize', 'samples', 'shuffle', 'seed'] as const) {
    if (state.params[key] !== params[key]) {
      throw new CheckpointError(`${file}: written by a run with ${key} ${state.params[key]}; this run has ${params[key]}: resume with the same settings`);
    }
  }
  if (state.epoch > params.epochs) {
    throw new CheckpointError(`${file}: ${state.epoch} epochs are done already, more than the ${params.epochs} asked for`);
  }
  // Written only when finite (onEpochEnd checks): a value that is not was put there by hand.
  for (const w of decoded.weights) {
    const bad = w.values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw refuse(`${excerpt(w.name)} holds a value that is not a finite number at index ${bad}`);
  }
  return { weights: decoded.weights, state };
}

/** Keys that would reach an object's prototype when copied (history is Object.assign-ed into the callback's). */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** More history series than any fit logs (loss, metrics and their val_ twins). */
const MAX_HISTORY_KEYS = 64;

/** Every field of a checkpoint's meta, checked; `fail` throws. */
function checkState(meta: unknown, fail: (problem: string) => never): CheckpointState {
  if (!isRecord(meta) || meta.kind !== KIND) {
    fail('not a shadergrad checkpoint (a weights file without training state?)');
  }
  const state = meta as Record<string, unknown>;
  const { epoch, iterations, history, optimizer } = state;
  if (!Number.isSafeInteger(epoch) || (epoch as number) < 1) fail(`epoch must be a positive integer, found ${describeValue(epoch)}`);
  if (!Number.isSafeInteger(iterations) || (iterations as number) < 0) fail(`iterations must be a non-negative integer, found ${describeValue(iterations)}`);
  if (!isRecord(history)) fail(`history must be an object of number lists, found ${describeValue(history)}`);
  const series = Object.keys(history);
  if (series.length > MAX_HISTORY_KEYS) fail(`history holds ${series.length} series, more than ${MAX_HISTORY_KEYS}`);
  for (const key of series) {
    if (PROTOTYPE_KEYS.has(key)) fail(`history has a key named '${key}'`);
    const values = history[key];
    if (!Array.isArray(values) || !values.every((v) => typeof v === 'number' && Number.isFinite(v))) fail(`history '${excerpt(key, 100)}' must be a list of finite numbers, found ${describeValue(values)}`);
    if (values.length !== epoch) fail(`history '${excerpt(key, 100)}' has ${values.length} values for ${epoch} completed epochs`);
  }
  if (!isRecord(state.params)) fail(`params must be an object, found ${describeValue(state.params)}`);
  for (const key of ['epochs', 'batchSize', 'samples', 'seed'] as const) {
    const value = state.params[key];
    if (!Number.isSafeInteger(value) || (value as number) < 0) fail(`params.${key} must be a non-negative integer, found ${describeValue(value)}`);
  }
  if (typeof state.params.shuffle !== 'boolean') fail(`params.shuffle must be true or false, found ${describeValue(state.params.shuffle)}`);
  if (!isRecord(optimizer) || typeof optimizer.name !== 'string' || !Array.isArray(optimizer.slots) || !optimizer.slots.every((s) => typeof s === 'string')) {
    fail(`optimizer must name itself and list its slots as strings, found ${describeValue(optimizer)}`);
  }
  for (const record of [state, state.params, optimizer]) {
    const key = Object.keys(record as object).find((k) => PROTOTYPE_KEYS.has(k));
    if (key) fail(`its state has a key named '${key}'`);
  }
  return state as unknown as CheckpointState;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A value from a checkpoint named for a message, never serialised whole. */
function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return `the string '${excerpt(value, 100)}'`;
  if (Array.isArray(value)) return `a list of ${value.length} items`;
  if (typeof value === 'object') return 'an object';
  // JSON.parse reads 1e400 as Infinity: say what the file holds.
  if (typeof value === 'number' && !Number.isFinite(value)) return 'a number past the float64 range';
  return String(value);
}
