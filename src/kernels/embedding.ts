/**
 * Embedding lookup (Keras Embedding) on the GPU (shaders/embedding.wgsl), with plain
 * TypeScript references.
 *
 * The backward pass is deterministic without float atomics (WGSL has none): the host groups
 * the batch's token positions by id (a CSR index, `embeddingGradientIndex`), and each distinct
 * id's positions' gradients are summed in ascending order, window by window (`GRADIENT_WINDOW`).
 *
 * A table larger than one storage binding is split by rows into chunks (src/gpu/gpu.ts): both
 * passes dispatch once per chunk, so a split table gives the same results bit for bit.
 */
import source from '../../shaders/embedding.wgsl';
import { linearWorkgroups, type Bindings, type DType, type Gpu, type Tensor } from '../gpu/gpu.js';
import { factorUnits, scatterRows } from './rows.js';

const WORKGROUP_SIZE = 256;
/**
 * The embedding gradient's summation window: no invocation adds more than this many positions, or
 * more than N / GRADIENT_WINDOW partial sums (about √N at the tutorial's N = 131,072 tokens).
 */
export const GRADIENT_WINDOW = 256;

/** The batch's token positions grouped by id (CSR), built on the host. */
export interface EmbeddingGradientCsr {
  /** [U] the distinct ids present, ascending. */
  rowIds: Int32Array;
  /** [U + 1] rowIds[u]'s positions are positions[rowStarts[u] .. rowStarts[u + 1]). */
  rowStarts: Int32Array;
  /** [N] flat token positions (b·T + t) grouped by id, ascending within each id. */
  positions: Int32Array;
}

/**
 * An `EmbeddingGradientCsr` on the GPU for `embeddingBackward`. Uploaded per batch on the eager
 * path; on a captured step (src/nn/execution.ts) the same tensors have a fixed capacity and are
 * refilled before each replay, so U lives on the GPU too (`uniqueCountTensor`).
 */
export interface EmbeddingGradientIndex {
  readonly rowIds: Tensor;
  readonly rowStarts: Tensor;
  readonly positions: Tensor;
  /** i32 [1]: U, the distinct ids present; rowIds past it are stale. */
  readonly uniqueCountTensor: Tensor;
  /** U: distinct ids in the batch, or the capacity when only the GPU knows U. */
  readonly uniqueCount: number;
  /** N: tokens in the batch (B·T). */
  readonly tokenCount: number;
  /** The largest id present (-1 for an empty batch), checked against the table's rows. */
  readonly maxId: number;
  dispose(): void;
}

/**
 * out[b, t, :] = table[ids[b, t], :]. Ids outside [0, V) give zero rows (they cannot be checked on the host).
 * `deferred`: the gather is recorded only when something first binds `out` (Tensor.defer), so a
 * reader that takes the rows through the ids (meanPoolGatheredForward) leaves it unwritten.
 */
export function embeddingForward(gpu: Gpu, table: Tensor, ids: Tensor, { deferred = false } = {}): Tensor {
  const op = 'embeddingForward';
  expectTensor(op, 'table', table, 'f32', 2, '[vocab, dim]');
  expectTensor(op, 'ids', ids, 'i32', 2, '[batch, steps]');
  const [vocab, dim] = table.shape;
  expectPositive(op, 'table vocab', vocab);
  expectPositive(op, 'table dim', dim);
  const out = gpu.empty([...ids.shape, dim]);
  const gather = () => {
    // A token's row an invocation, a vec4 at a time where D allows (forward4).
    const vec4 = dim % 4 === 0;
    const invocations = out.size / dim;
    for (const chunk of table.chunks) {
      const params = new Uint32Array([invocations, dim, vocab, chunk.firstRow, chunk.rows, 0, 0, 0, 0, 0, 0, 0]);
      const bindings: Bindings = vec4 ? { 7: chunk, 2: ids, 8: out } : { 1: chunk, 2: ids, 3: out };
      gpu.dispatch('embedding', source, vec4 ? 'forward4' : 'forward', bindings, linearWorkgroups(invocations, WORKGROUP_SIZE), params);
    }
  };
  if (deferred) out.defer(gather);
  else gather();
  return out;
}

/**
 * Group the token positions of `ids` (flattened [B, T]) by id with a stable counting sort.
 * O(N + U log U) time plus one zeroed Int32Array(vocabSize) of counts.
 */
export function embeddingGradientIndex(ids: Int32Array, vocabSize: number, scratch?: Int32Array): EmbeddingGradientCsr {
  expectPositive('embeddingGradientIndex', 'vocabSize', vocabSize);
  // cursor[id] counts id's positions first, then becomes its next write slot in `positions`. A caller
  // indexing many batches lends one zeroed array (`scratch`), left zeroed again: work then grows with
  // the batch, not with the vocabulary.
  const cursor = scratch ?? new Int32Array(vocabSize);
  if (cursor.length < vocabSize) throw new RangeError(`embeddingGradientIndex: a scratch array of ${cursor.length} for ${vocabSize} ids`);
  const seen: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (!(id >= 0 && id < vocabSize)) throw new RangeError(`embeddingGradientIndex: id ${id} at position ${i} is outside [0, ${vocabSize})`);
    if (cursor[id]++ === 0) seen.push(id);
  }
  const rowIds = Int32Array.from(seen).sort(); // typed arrays sort numerically
  const rowStarts = new Int32Array(rowIds.length + 1);
  for (let u = 0; u < rowIds.length; u++) {
    const id = rowIds[u];
    rowStarts[u + 1] = rowStarts[u] + cursor[id];
    cursor[id] = rowStarts[u];
  }
  const positions = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) positions[cursor[ids[i]]++] = i; // i ascending: stable
  if (scratch) for (const id of rowIds) scratch[id] = 0;
  return { rowIds, rowStarts, positions };
}

export function uploadEmbeddingGradientIndex(gpu: Gpu, index: EmbeddingGradientCsr): EmbeddingGradientIndex {
  const { rowIds, rowStarts, positions } = index;
  const uniqueCount = rowIds.length;
  if (rowStarts.length !== uniqueCount + 1 || rowStarts[uniqueCount] !== positions.length) {
    throw new RangeError(
      `uploadEmbeddingGradientIndex: rowStarts must be [${uniqueCount + 1}] ending at ${positions.length}, ` +
        `found [${rowStarts.length}] ending at ${rowStarts[rowStarts.length - 1]}`,
    );
  }
  const tensors = {
    rowIds: gpu.upload(rowIds),
    rowStarts: gpu.upload(rowStarts),
    positions: gpu.upload(positions),
    uniqueCountTensor: gpu.upload(Int32Array.of(uniqueCount)),
  };
  return {
    ...tensors,
    uniqueCount,
    tokenCount: positions.length,
    maxId: uniqueCount > 0 ? rowIds[uniqueCount - 1] : -1,
    dispose() {
      for (const t of Object.values(tensors)) t.dispose();
    },
  };
}

/**
 * Gradient of the table [vocabSize, dim] given dOut [B, T, dim], the gradient of
 * embeddingForward's output, and the uploaded index of the same ids. Rows of ids absent
 * from the batch are exactly zero; the others are summed in ascending token order.
 */
export function embeddingBackward(gpu: Gpu, dOut: Tensor, index: EmbeddingGradientIndex, vocabSize: number, dim: number): Tensor {
  const op = 'embeddingBackward';
  expectPositive(op, 'vocabSize', vocabSize);
  expectPositive(op, 'dim', dim);
  expectTensor(op, 'dOut', dOut, 'f32', 3, `[batch, steps, ${dim}]`);
  const [batch, steps, outDim] = dOut.shape;
  if (outDim !== dim || batch * steps !== index.tokenCount) {
    throw new RangeError(`${op}: dOut must be [batch, steps, ${dim}] with batch·steps = ${index.tokenCount} (the index's tokens), found [${dOut.shape.join(', ')}]`);
  }
  if (index.maxId >= vocabSize) throw new RangeError(`${op}: the index holds id ${index.maxId}, outside a table of ${vocabSize} rows`);
  // The row-sparse gradient, scattered into the table's shape (split past one binding like the table).
  const rows = embeddingBackwardRows(gpu, dOut, index, vocabSize, dim);
  const dTable = gpu.zeros([vocabSize, dim]);
  scatterRows(gpu, index, rows, dTable);
  rows.dispose();
  return dTable;
}

/**
 * The same gradient, row-sparse: row u of the result ([U·D] flat, padded to whole vec4s)
 * is the gradient of table row rowIds[u]; rows of ids absent from the batch are not there at all.
 * Work and memory grow with the batch's distinct ids, not with the table (src/kernels/rows.ts
 * scatters it into a dense gradient, or the lazy optimizer update uses it as it is).
 * `expand` > 1: dOut is [B, 1, D] standing for [B, expand, D] with the same row at every step (the
 * expanded gradient of GlobalAveragePooling1D, src/nn/gradient-forms.ts); each position then reads
 * its sample's row, the same floats in the same order.
 * `factor` K [D, O]: dOut is [B, T or 1, O] standing for its product with Kᵀ (a factored gradient,
 * gradient-forms.ts): the result is then the sums of its O columns, [U, O]; table row rowIds[u]'s
 * gradient is row u times Kᵀ, multiplied where it is used (rows.ts `scatterRows`, LazyAdam's
 * `adamRows`), so no kernel writes or reads U·D gradient values.
 * `zeroId0`: dOut stands for zeros at id 0's positions (an expanded gradient under Embedding(mask_zero)'s
 * mask): id 0's row is 0.
 */
export function embeddingBackwardRows(gpu: Gpu, dOut: Tensor, index: EmbeddingGradientIndex, vocabSize: number, dim: number, expand = 1, factor?: Tensor, { zeroId0 = false } = {}): Tensor {
  const op = 'embeddingBackwardRows';
  expectPositive(op, 'dim', dim);
  expectPositive(op, 'expand', expand);
  // The width of dOut's rows and of the result's: O for a factored gradient, else D.
  const width = factorUnits(op, factor, dim) || dim;
  const steps = expand > 1 ? '1' : 'steps';
  expectTensor(op, 'dOut', dOut, 'f32', 3, `[batch, ${steps}, ${width}]`);
  const [batch, dOutSteps, outDim] = dOut.shape;
  if (outDim !== width || batch * dOutSteps * expand !== index.tokenCount || (expand > 1 && dOutSteps !== 1)) {
    throw new RangeError(
      `${op}: dOut must be [batch, ${steps}, ${width}] with batch·${expand > 1 ? `${expand}` : 'steps'} = ${index.tokenCount} (the index's tokens), found [${dOut.shape.join(', ')}]`,
    );
  }
  // Rows past U (a captured step's index has room for more) are left as they are: nothing reads them.
  const rows = gpu.empty([Math.max(4, Math.ceil((index.uniqueCount * width) / 4) * 4)]);
  if (index.uniqueCount === 0) return rows;
  // Two dispatches (shaders/embedding.wgsl): each window of GRADIENT_WINDOW positions sums its runs
  // into `partials` (a row per position), per column or column quad where the width allows; then
  // each id, one invocation per id, adds its runs.
  const vec4 = width % 4 === 0;
  const columns = vec4 ? width / 4 : width;
  const tokens = index.tokenCount;
  const partials = gpu.empty([tokens * width]);
  const shared = { 4: index.rowStarts, 5: index.positions, 6: index.uniqueCountTensor };
  const [read, write] = vec4 ? [7, 8] : [1, 3];
  const pass = (entry: string, bindings: Bindings, count: number) =>
    gpu.dispatch('embedding', source, vec4 ? `${entry}4` : entry, bindings, linearWorkgroups(count, WORKGROUP_SIZE), new Uint32Array([count, width, vocabSize, 0, vocabSize, tokens, GRADIENT_WINDOW, expand, zeroId0 ? 1 : 0, 0, 0, 0]));
  pass('backwardPieces', { ...shared, [read]: dOut, [write]: partials }, Math.ceil(tokens / GRADIENT_WINDOW) * columns);
  pass('backward', { 4: index.rowStarts, 6: index.uniqueCountTensor, 9: index.rowIds, [read]: partials, [write]: rows }, index.uniqueCount);
  partials.dispose();
  return rows;
}

/** out[n, :] = table[ids[n], :] in the table's precision; ids outside the table give zero rows, as on the GPU. */
export function embeddingReference(table: Float32Array, ids: Int32Array, dim: number): Float32Array;
export function embeddingReference(table: Float64Array, ids: Int32Array, dim: number): Float64Array;
export function embeddingReference(table: Float32Array | Float64Array, ids: Int32Array, dim: number): Float32Array | Float64Array {
  const vocab = table.length / dim;
  const out = table instanceof Float64Array ? new Float64Array(ids.length * dim) : new Float32Array(ids.length * dim);
  ids.forEach((id, n) => {
    if (id >= 0 && id < vocab) out.set(table.subarray(id * dim, (id + 1) * dim), n * dim);
  });
  return out;
}

/**
 * Scatter-add of dOut [N, dim] into [vocabSize, dim] in float32, in the GPU's order, so that the two
 * agree exactly (float32 adds are correctly rounded in both): an id's positions in ascending order,
 * cut where the grouped positions cross a multiple of GRADIENT_WINDOW; each run summed, then the runs.
 */
export function embeddingBackwardReference(dOut: Float32Array, ids: Int32Array, vocabSize: number, dim: number): Float32Array {
  const { rowIds, rowStarts, positions } = embeddingGradientIndex(ids, vocabSize);
  const dTable = new Float32Array(vocabSize * dim);
  rowIds.forEach((id, u) => {
    for (let d = 0; d < dim; d++) {
      let total = 0;
      for (let k = rowStarts[u]; k < rowStarts[u + 1]; ) {
        const runEnd = Math.min(rowStarts[u + 1], (Math.floor(k / GRADIENT_WINDOW) + 1) * GRADIENT_WINDOW);
        let run = 0;
        for (; k < runEnd; k++) run = Math.fround(run + dOut[positions[k] * dim + d]);
        total = Math.fround(total + run);
      }
      dTable[id * dim + d] = total;
    }
  });
  return dTable;
}

function expectTensor(op: string, name: string, t: Tensor, dtype: DType, rank: number, shape: string): void {
  const found = `${t.dtype} [${t.shape.join(', ')}]`;
  if (t.dtype !== dtype) throw new TypeError(`${op}: ${name} must be ${dtype} ${shape}, found ${found}`);
  if (t.shape.length !== rank) throw new RangeError(`${op}: ${name} must be ${dtype} ${shape}, found ${found}`);
}

function expectPositive(op: string, name: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${op}: ${name} must be a positive integer, found ${n}`);
}
