/**
 * One home for every trainable weight: flat GPU buffers ("shards", each at most one storage
 * binding) holding the values, with a gradient buffer and one buffer per optimizer slot in the
 * same layout. A layer's weight is a view into its shard (`Gpu.view`), bound like any tensor, so
 * weights files, checkpoints, `getWeights`/`setWeights` and every way of running a step read and
 * write the same floats: nothing is copied between two homes.
 *
 * Layout: each weight starts at the device's storage offset alignment (256 bytes), so its view
 * can be bound; a shard's length is a whole number of vec4s and the gaps are zeros with zero
 * gradients, so an optimizer updates a shard with one vec4 dispatch and leaves the gaps at zero.
 * A weight past the room left in a shard starts a new one; a weight past one binding is split by
 * rows of its first dimension over several shards, as a split tensor is (src/gpu/gpu.ts).
 * A weight whose gradient comes row-sparse (an embedding table: gradient-forms.ts) gets shards of
 * its own, so that a lazy optimizer can leave those shards to its row updates (execution.ts).
 */
import type { Gpu, PreparedDispatch, Tensor, TensorChunk } from '../gpu/gpu.js';
import { prepareOptimizerUpdate } from '../kernels/optimizer-update.js';
import type { Weight } from './layers.js';
import type { Optimizer } from './optimizers/index.js';

/** Bytes of one optimizer uniform block (the contract of src/nn/optimizers: at most 64). */
export const OPTIMIZER_PARAMS_BYTES = 64;

/** Where a run of a weight's rows lives: `rows` rows from `firstRow`, at `byteOffset` of shard `shard`. */
interface Placement {
  shard: number;
  firstRow: number;
  rows: number;
  /** Bytes into the shard. */
  shardOffset: number;
  /** Bytes into the weight. */
  weightOffset: number;
  byteLength: number;
}

interface Shard {
  values: Tensor;
  grads: Tensor;
  /** One per optimizer slot, once an optimizer is attached. */
  slots: Tensor[];
}

/** An optimizer's variables: Keras' `iterations` and, per slot, one array per weight in the model's order. */
export interface OptimizerState {
  iterations: number;
  slots: { name: string; values: Float32Array[] }[];
}

export class ParameterStore {
  readonly shards: Shard[] = [];
  /** The weights' gradients, views into the gradient shards, in the weights' order. */
  readonly gradients: Tensor[];
  private optimizer: Optimizer | null = null;
  private slotViews: Tensor[][] = [];
  private update: { uniform: GPUBuffer; dispatches: PreparedDispatch[] } | null = null;

  private constructor(
    readonly gpu: Gpu,
    readonly weights: readonly Weight[],
    private readonly placements: readonly Placement[][],
    shardBytes: readonly number[],
    /** Per weight: its gradient comes row-sparse (an embedding table). */
    readonly rowSparse: readonly boolean[],
  ) {
    for (const bytes of shardBytes) this.shards.push({ values: gpu.zeros([bytes / 4]), grads: gpu.zeros([bytes / 4]), slots: [] });
    // Move each weight in: copy its initial values into its view, then let the view stand for it.
    weights.forEach((w, i) => {
      const view = this.view(i, (s) => s.values);
      gpu.copy(w.tensor, view);
      w.tensor.dispose();
      w.tensor = view;
    });
    this.gradients = weights.map((_, i) => this.view(i, (s) => s.grads));
  }

  /**
   * Lay out `weights` (built, each a tensor of its own) in shards of at most one binding, and move
   * them in; `rowSparse` marks the weights whose gradients come row-sparse (own shards).
   */
  static adopt(gpu: Gpu, weights: readonly Weight[], rowSparse: readonly boolean[] = weights.map(() => false)): ParameterStore {
    const align = Math.max(256, gpu.device.limits.minStorageBufferOffsetAlignment);
    const capacity = gpu.maxBindingBytes;
    const shardBytes: number[] = [];
    let cursor = capacity; // no open shard yet
    const open = () => {
      shardBytes.push(0);
      cursor = 0;
    };
    const aligned = (bytes: number) => Math.ceil(bytes / align) * align;
    // Bytes the weights from i on take in a fresh shard, when none of them needs splitting.
    const tailBytes = weights.map((_, i) => weights.slice(i).reduce((n, w) => aligned(n) + w.tensor.size * 4, 0));
    const placements = weights.map((w, i) => {
      // Keep the small weights at the end together (the fused head binds them as one shard);
      // a row-sparse weight, and whatever follows it, starts a shard.
      if (rowSparse[i] || rowSparse[i - 1]) open();
      else if (tailBytes[i] <= capacity && aligned(cursor) + tailBytes[i] > capacity) open();
      const [rows = 1] = w.tensor.shape;
      const bytes = w.tensor.size * 4;
      const rowBytes = rows > 0 ? bytes / rows : 4;
      if (rowBytes > capacity) {
        throw new RangeError(`${w.name}: a row of ${rowBytes} bytes does not fit one storage binding of ${capacity} bytes`);
      }
      const runs: Placement[] = [];
      let firstRow = 0;
      // A weight that fits a shard whole is never split; one that does not fills shards row by row.
      if (Math.ceil(cursor / align) * align + bytes > capacity && bytes <= capacity) open();
      while (firstRow < rows || runs.length === 0) {
        let at = Math.ceil(cursor / align) * align;
        if (at + rowBytes > capacity && rows > 0) {
          open();
          at = 0;
        }
        const n = rows === 0 ? 0 : Math.min(rows - firstRow, Math.floor((capacity - at) / rowBytes));
        runs.push({ shard: shardBytes.length - 1, firstRow, rows: n, shardOffset: at, weightOffset: firstRow * rowBytes, byteLength: n * rowBytes });
        cursor = at + n * rowBytes;
        shardBytes[shardBytes.length - 1] = Math.ceil(cursor / 16) * 16;
        firstRow += n;
        if (rows === 0) break;
      }
      return runs;
    });
    return new ParameterStore(gpu, weights, placements, shardBytes.map((b) => Math.max(16, b)), rowSparse);
  }

  /** The shard a weight's first row lives in, and its element offset there (the fused head binds a shard whole). */
  locate(weightIndex: number): { shard: number; offset: number } {
    const first = this.placements[weightIndex][0];
    return { shard: first.shard, offset: first.shardOffset / 4 };
  }

  /** Weight `i`'s slots, as views, in the optimizer's slot order (a row-sparse update reads and writes their touched rows). */
  slotsOf(i: number): Tensor[] {
    return this.slotViews.map((views) => views[i]);
  }

  /** Runs of a weight's rows, each within one shard: where it is split (one run unless it passes a binding). */
  rowRuns(weightIndex: number): { firstRow: number; rows: number }[] {
    return this.placements[weightIndex].map(({ firstRow, rows }) => ({ firstRow, rows }));
  }

  /**
   * Rows [firstRow, firstRow + rows) of weight `weightIndex` as a flat view of its values or its
   * gradient; the rows must lie in one run and start at a multiple of `alignedRows(weightIndex)`
   * from it (the fused path binds a table shard by shard).
   */
  sliceRows(weightIndex: number, firstRow: number, rows: number, of: 'values' | 'grads'): Tensor {
    const run = this.placements[weightIndex].find((p) => p.firstRow <= firstRow && firstRow + rows <= p.firstRow + p.rows);
    if (!run) throw new RangeError(`sliceRows: rows [${firstRow}, ${firstRow + rows}) of ${this.weights[weightIndex].name} cross a shard`);
    const rowBytes = run.rows > 0 ? run.byteLength / run.rows : 0;
    const chunk: TensorChunk = {
      buffer: this.shards[run.shard][of].buffer,
      bufferOffset: run.shardOffset + (firstRow - run.firstRow) * rowBytes,
      firstRow: 0,
      rows,
      byteOffset: 0,
      byteLength: rows * rowBytes,
    };
    return this.gpu.view([(rows * rowBytes) / 4], [chunk]);
  }

  /** Rows per step at which `sliceRows` may start a slice of weight `weightIndex` (so that views stay aligned). */
  alignedRows(weightIndex: number): number {
    const w = this.weights[weightIndex].tensor;
    const rowBytes = (w.size * 4) / (w.shape[0] || 1);
    const align = Math.max(256, this.gpu.device.limits.minStorageBufferOffsetAlignment);
    return align / gcd(rowBytes, align);
  }

  /** Total floats in the shards (weights plus alignment gaps). */
  get byteLength(): number {
    return this.shards.reduce((n, s) => n + s.values.byteLength, 0);
  }

  /** Zero every gradient (before a step whose ops write only some of them). */
  clearGradients(): void {
    for (const s of this.shards) this.gpu.recordClear(s.grads);
  }

  /** Attach `optimizer`: its slots get buffers in the store's layout, filled with their initial values. */
  setOptimizer(optimizer: Optimizer): void {
    if (this.optimizer === optimizer) return;
    this.disposeOptimizer();
    this.optimizer = optimizer;
    for (const shard of this.shards) {
      shard.slots = optimizer.slotNames.map((_, k) => {
        const t = this.gpu.empty(shard.values.shape);
        this.gpu.write(t, new Float32Array(t.size).fill(optimizer.slotInitialValue(k)));
        return t;
      });
    }
    this.slotViews = optimizer.slotNames.map((_, k) => this.weights.map((_, i) => this.view(i, (s) => s.slots[k])));
  }

  /** One update of every weight from the gradient shards, the uniform filled for `optimizer.iterations`; counts the step. */
  async prepareUpdate(): Promise<{ uniform: GPUBuffer; dispatches: PreparedDispatch[] }> {
    const optimizer = this.requireOptimizer();
    if (!this.update) {
      const uniform = this.gpu.createUniform(new Uint8Array(OPTIMIZER_PARAMS_BYTES));
      // A row-sparse optimizer leaves the shards of row-sparse weights to its row updates.
      const lazy = new Set(optimizer.rowSparse ? this.placements.flatMap((runs, i) => (this.rowSparse[i] ? runs.map((r) => r.shard) : [])) : []);
      const dispatches = await Promise.all(
        this.shards
          .filter((_, k) => !lazy.has(k))
          .map((s) => prepareOptimizerUpdate(this.gpu, optimizer, { weights: s.values, grads: s.grads, slots: s.slots }, uniform)),
      );
      this.update = { uniform, dispatches };
    }
    return this.update;
  }

  /** The optimizer's uniform (made by `prepareUpdate`), filled before each step. */
  get uniform(): GPUBuffer {
    if (!this.update) throw new Error('ParameterStore: prepareUpdate() first');
    return this.update.uniform;
  }

  /** The optimizer's uniform for the update after `iterations` steps, padded to one block. */
  updateParams(iterations: number): Uint8Array {
    const bytes = this.requireOptimizer().params(iterations);
    if (bytes.byteLength > OPTIMIZER_PARAMS_BYTES) throw new RangeError(`${this.optimizer!.name}: params of ${bytes.byteLength} bytes pass ${OPTIMIZER_PARAMS_BYTES}`);
    const block = new Uint8Array(OPTIMIZER_PARAMS_BYTES);
    block.set(bytes);
    return block;
  }

  /** Record one optimizer step now (the eager path): write its uniform, dispatch, count it. */
  async applyUpdate(): Promise<void> {
    const optimizer = this.requireOptimizer();
    const { uniform, dispatches } = await this.prepareUpdate();
    this.gpu.flush();
    const params = this.updateParams(optimizer.iterations);
    this.gpu.device.queue.writeBuffer(uniform, 0, params.buffer, params.byteOffset, params.byteLength);
    this.gpu.record(dispatches);
    // The uniform is rewritten before the next update: submit this one first.
    this.gpu.flush();
    optimizer.iterations++;
  }

  async getOptimizerState(): Promise<OptimizerState> {
    const optimizer = this.requireOptimizer();
    const values = await this.gpu.readAll(this.slotViews.flat());
    const n = this.weights.length;
    return {
      iterations: optimizer.iterations,
      slots: optimizer.slotNames.map((name, k) => ({ name, values: values.slice(k * n, (k + 1) * n) as Float32Array[] })),
    };
  }

  setOptimizerState(state: OptimizerState): void {
    const optimizer = this.requireOptimizer();
    const names = state.slots.map((s) => s.name).join(', ');
    if (names !== optimizer.slotNames.join(', ')) {
      throw new RangeError(`setOptimizerState: slots (${names}) are not ${optimizer.name}'s (${optimizer.slotNames.join(', ')})`);
    }
    state.slots.forEach((slot, k) => {
      if (slot.values.length !== this.weights.length) throw new RangeError(`setOptimizerState: ${slot.name} holds ${slot.values.length} arrays for ${this.weights.length} weights`);
      slot.values.forEach((v, i) => this.gpu.write(this.slotViews[k][i], v));
    });
    optimizer.iterations = state.iterations;
  }

  dispose(): void {
    this.disposeOptimizer();
    for (const s of this.shards) for (const t of [s.values, s.grads]) t.dispose();
    this.shards.length = 0;
  }

  private disposeOptimizer(): void {
    for (const s of this.shards) for (const t of s.slots) t.dispose();
    for (const s of this.shards) s.slots = [];
    this.slotViews = [];
    this.update?.uniform.destroy();
    this.update = null;
    this.optimizer = null;
  }

  private requireOptimizer(): Optimizer {
    if (!this.optimizer) throw new Error('ParameterStore: no optimizer attached (compile first)');
    return this.optimizer;
  }

  /** Weight `i` as a view into the buffers `pick` chooses from each shard. */
  private view(i: number, pick: (s: Shard) => Tensor): Tensor {
    const w = this.weights[i];
    const chunks = this.placements[i].map(
      (p): TensorChunk => ({
        buffer: pick(this.shards[p.shard]).buffer,
        bufferOffset: p.shardOffset,
        firstRow: p.firstRow,
        rows: p.rows,
        byteOffset: p.weightOffset,
        byteLength: p.byteLength,
      }),
    );
    return this.gpu.view(w.tensor.shape, chunks);
  }
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
