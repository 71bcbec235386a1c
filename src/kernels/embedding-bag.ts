/**
 * Embedding followed by GlobalAveragePooling1D as one op (shaders/embedding-bag.wgsl), from each
 * review's token counts, with plain TypeScript references written from the padded ids (the layers'
 * own definition), so tests check the count form against it.
 *
 * `tokenBags` counts each review's tokens on the host, once: the data never changes, so the GPU
 * keeps the counts resident and each step only names its reviews (`order[first .. first + rows)`).
 */
import shader from '../../shaders/embedding-bag.wgsl';
import { BATCH_WGSL, withShared } from './shader-library.js';
import { linearWorkgroups, type Gpu, type PreparedDispatch, type Tensor } from '../gpu/gpu.js';

const source = withShared(shader, BATCH_WGSL);

const WORKGROUP_SIZE = 64;
const BITS_PER_WORD = 32;

/** Each review's entries start at a multiple of this: the forward pass reads them as vec4s. */
export const ENTRY_ALIGN = 4;

/**
 * Each review's distinct tokens (ascending) with their counts, packed for the GPU, then padded
 * to a multiple of ENTRY_ALIGN entries with count-0 entries of the largest token field.
 */
export interface TokenBags {
  /** [reviews + 1] review r's entries are entries[offsets[r] .. offsets[r + 1]). */
  offsets: Uint32Array;
  /** token | count << tokenBits. */
  entries: Uint32Array;
  tokenBits: number;
  vocab: number;
  /** T: the padded length every review had. */
  steps: number;
}

/** The bits a token id needs (ids < vocab). */
export function tokenBitsFor(vocab: number): number {
  return Math.max(1, Math.ceil(Math.log2(vocab)));
}

/** Count the tokens of each row of `ids` ([samples, steps], row-major). Ids must lie in [0, vocab). */
export function tokenBags(ids: Int32Array, samples: number, steps: number, vocab: number): TokenBags {
  if (!Number.isInteger(vocab) || vocab < 1) throw new RangeError(`tokenBags: vocab must be a positive integer, found ${vocab}`);
  if (ids.length !== samples * steps) throw new RangeError(`tokenBags: ${ids.length} ids do not fill [${samples}, ${steps}]`);
  const tokenBits = tokenBitsFor(vocab);
  if (tokenBits > 24 || steps >= 2 ** (32 - tokenBits)) {
    throw new RangeError(`tokenBags: a vocabulary of ${vocab} and sequences of ${steps} do not fit 32-bit entries`);
  }
  const offsets = new Uint32Array(samples + 1);
  // At most one entry per position plus the padding; trimmed below.
  const entries = new Uint32Array(samples * (steps + ENTRY_ALIGN - 1));
  const padding = 2 ** tokenBits - 1; // the largest token field, count 0: keeps tokens ascending, adds nothing
  const counts = new Int32Array(vocab);
  const distinct = new Int32Array(steps);
  let written = 0;
  for (let r = 0; r < samples; r++) {
    let n = 0;
    for (let t = r * steps; t < (r + 1) * steps; t++) {
      const id = ids[t];
      if (!(id >= 0 && id < vocab)) throw new RangeError(`tokenBags: token id ${id} at sample ${r}, position ${t - r * steps} is outside [0, ${vocab})`);
      if (counts[id]++ === 0) distinct[n++] = id;
    }
    const sorted = distinct.subarray(0, n).sort();
    for (const id of sorted) {
      entries[written++] = (id | (counts[id] << tokenBits)) >>> 0;
      counts[id] = 0;
    }
    while (written % ENTRY_ALIGN !== 0) entries[written++] = padding;
    offsets[r + 1] = written;
  }
  return { offsets, entries: entries.slice(0, written), tokenBits, vocab, steps };
}

/** A range of reviews' bags in buffers of their own: offsets count from the chunk's first entry. */
export interface BagChunk {
  readonly firstReview: number;
  readonly reviews: number;
  /** [reviews + 1] u32. */
  readonly offsets: Tensor;
  readonly entries: Tensor;
}

/** Token bags on the GPU, in chunks of whole reviews that each fit one binding (one chunk, unless the data is large). */
export interface ResidentBags {
  readonly chunks: readonly BagChunk[];
  readonly reviews: number;
  readonly tokenBits: number;
  readonly vocab: number;
  readonly steps: number;
  dispose(): void;
}

/**
 * Upload `bags`, split into chunks of whole reviews whose offsets and entries each fit
 * `maxBytes` (the binding limit). A single review past it cannot be split: a RangeError names it.
 */
export function uploadTokenBags(gpu: Gpu, bags: TokenBags, maxBytes = gpu.maxBindingBytes): ResidentBags {
  const reviews = bags.offsets.length - 1;
  const maxWords = Math.floor(maxBytes / 4);
  const chunks: BagChunk[] = [];
  let first = 0;
  do {
    const base = bags.offsets[first];
    let end = first;
    while (end < reviews && end - first + 2 <= maxWords && bags.offsets[end + 1] - base <= maxWords) end++;
    if (end === first && reviews > 0) {
      throw new RangeError(`uploadTokenBags: review ${first} has ${bags.offsets[first + 1] - base} entries, more than one binding of ${maxBytes} bytes holds`);
    }
    const offsets = Int32Array.from(bags.offsets.subarray(first, end + 1), (o) => o - base);
    const entries = bags.entries.subarray(base, bags.offsets[end]);
    // An empty entry list (no reviews) still needs a bindable buffer, of one vec4 at least.
    const entryWords = entries.length ? new Int32Array(entries.buffer, entries.byteOffset, entries.length) : new Int32Array(ENTRY_ALIGN);
    chunks.push({ firstReview: first, reviews: end - first, offsets: gpu.upload(offsets), entries: gpu.upload(entryWords) });
    first = end;
  } while (first < reviews);
  return {
    chunks,
    reviews,
    tokenBits: bags.tokenBits,
    vocab: bags.vocab,
    steps: bags.steps,
    dispose: () => {
      for (const c of chunks) {
        c.offsets.dispose();
        c.entries.dispose();
      }
    },
  };
}

/** Bitmap words per vocabulary row for batches of up to `capacity` rows (at most 32: one summary word). */
export function presenceWords(capacity: number): number {
  return Math.ceil(capacity / BITS_PER_WORD);
}

/** The widest table the fused embedding-bag takes: its backward pass sums a row's columns in registers (MAX_DIM4 quads). */
export const MAX_BAG_DIM = 64;
/** backwardWords' invocations per vocabulary row (shaders/embedding-bag.wgsl ROW_LANES). */
const ROW_LANES = 8;

/** Most rows a batch may have on the fused path: the summary word has a bit per bitmap word. */
export const MAX_BAG_BATCH = BITS_PER_WORD * BITS_PER_WORD;

/** The presence bitmap's shape: [3·words + 1, V]: presence, a summary row, 2-bit count codes (shaders/embedding-bag.wgsl). */
export function presenceShape(vocab: number, markRows: number): [number, number] {
  return [3 * presenceWords(markRows) + 1, vocab];
}

/** The batch descriptor the shaders read: [first, rows, slot, mark]. */
export function batchWords(first: number, rows: number, slot = 0, mark = false): Int32Array {
  return Int32Array.of(first, rows, slot, mark ? 1 : 0);
}

/** Rows [firstToken, firstToken + rows) of the table, with their gradient and their bitmap. */
export interface TableShard {
  firstToken: number;
  rows: number;
  /** Forward reads the shard's table [rows, D] (the start of the buffer). */
  table: Tensor;
  /** Backward writes its gradient [rows, D] (the start of the buffer). */
  dTable: Tensor;
  /** `presenceShape(rows, markRows)` u32, zero before each marking forward pass. */
  presence: Tensor;
}

export interface EmbeddingBagBindings {
  bags: ResidentBags;
  /** Embedding dimension D (a multiple of 4). */
  dim: number;
  /** Most rows a pass covers: sizes the forward dispatch. */
  capacity: number;
  /** Most rows a marking (training) batch has: sizes the bitmap (at most MAX_BAG_BATCH). */
  markRows: number;
  /** [4] i32: first, rows, slot, mark (`batchWords`). */
  batch: Tensor;
  /** Review indices; a batch takes order[first .. first + rows). */
  order: Tensor;
  /** The table in shards of rows, in order (one shard, `wholeTable`, unless it is larger than one binding). */
  shards: readonly TableShard[];
  /** Forward writes pooled [capacity, D]; backward reads dPooled [capacity, D]. */
  pooled: Tensor;
  dPooled: Tensor;
  /**
   * The backward pass: eight lanes per vocabulary row, each summing every eighth presence word,
   * the lane sums added in order (true: `backwardWords`); or one invocation walking the row's
   * words (false: `backward`). Default: workgroups on a hardware adapter, which wants the threads; one invocation
   * on a software one, where barriers are dear. Both are deterministic; their sums are grouped
   * differently, so they agree to float rounding.
   */
  rowWorkgroups?: boolean;
}

/** The whole table as one shard. */
export function wholeTable(vocab: number, table: Tensor, dTable: Tensor, presence: Tensor): TableShard[] {
  return [{ firstToken: 0, rows: vocab, table, dTable, presence }];
}

/** The uniform of one (data chunk, shard) dispatch: shaders/embedding-bag.wgsl's Params. */
export function embeddingBagParams(bags: ResidentBags, chunk: BagChunk, shard: Pick<TableShard, 'firstToken' | 'rows'>, accumulate: boolean): Uint32Array {
  return Uint32Array.of(shard.rows, bags.steps, bags.tokenBits, shard.firstToken, chunk.firstReview, chunk.reviews, accumulate ? 1 : 0);
}

/** Both passes, prepared once, as dispatches to record in order; `dispose` frees their uniforms. */
export interface EmbeddingBagPasses {
  /** Per data chunk, per shard: each shard adds its tokens to the rows the chunk holds. */
  forward: PreparedDispatch[];
  /** Per shard, per data chunk: each chunk adds its rows to the shard's gradient. */
  backward: PreparedDispatch[];
  dispose(): void;
}

export async function prepareEmbeddingBag(gpu: Gpu, b: EmbeddingBagBindings): Promise<EmbeddingBagPasses> {
  if (b.dim % 4 !== 0) throw new RangeError(`embeddingBag: the embedding dimension must be a multiple of 4, found ${b.dim}`);
  if (b.markRows > MAX_BAG_BATCH) throw new RangeError(`embeddingBag: batches of ${b.markRows} rows exceed ${MAX_BAG_BATCH}`);
  if (b.dim > MAX_BAG_DIM) throw new RangeError(`embeddingBag: the embedding dimension must be at most ${MAX_BAG_DIM}, found ${b.dim}`);
  const dim4 = b.dim / 4;
  const rowWorkgroups = b.rowWorkgroups ?? !gpu.report?.isSoftware;
  const constants = { DIM4: dim4, WORDS: presenceWords(b.markRows), CHUNKED: b.bags.chunks.length > 1 ? 1 : 0, SHARDED: b.shards.length > 1 ? 1 : 0 };
  const uniforms: GPUBuffer[] = [];
  const uniform = (chunk: BagChunk, shard: TableShard, accumulate: boolean) => {
    const u = gpu.createUniform(embeddingBagParams(b.bags, chunk, shard, accumulate));
    uniforms.push(u);
    return u;
  };
  const forward = b.bags.chunks.flatMap((chunk) =>
    b.shards.map((shard, s) => {
      const bindings = { 1: b.batch, 2: b.order, 3: chunk.offsets, 9: chunk.entries, 5: shard.table, 6: b.pooled, 7: shard.presence };
      return gpu.prepare('embedding-bag', source, 'forward', bindings, linearWorkgroups(b.capacity * dim4, WORKGROUP_SIZE), uniform(chunk, shard, s > 0), constants);
    }),
  );
  const backward = b.shards.flatMap((shard) =>
    b.bags.chunks.map((chunk, c) => {
      const bindings = { 1: b.batch, 2: b.order, 3: chunk.offsets, 4: chunk.entries, 5: b.dPooled, 6: shard.dTable, 8: shard.presence };
      return rowWorkgroups
        ? gpu.prepare('embedding-bag', source, 'backwardWords', bindings, linearWorkgroups(shard.rows * ROW_LANES, WORKGROUP_SIZE), uniform(chunk, shard, c > 0), constants)
        : gpu.prepare('embedding-bag', source, 'backward', bindings, linearWorkgroups(shard.rows, WORKGROUP_SIZE), uniform(chunk, shard, c > 0), constants);
    }),
  );
  return {
    forward: await Promise.all(forward),
    backward: await Promise.all(backward),
    dispose: () => uniforms.forEach((u) => u.destroy()),
  };
}

/** The forward pass as the unfused layers define it: pooled[b, :] = mean_t table[ids[order[first + b], t], :]. */
export function embeddingBagForwardReference(
  table: ArrayLike<number>,
  dim: number,
  ids: Int32Array,
  steps: number,
  rows: ArrayLike<number>,
): Float32Array {
  const out = new Float32Array(rows.length * dim);
  for (let b = 0; b < rows.length; b++) {
    for (let d = 0; d < dim; d++) {
      let sum = 0;
      for (let t = 0; t < steps; t++) sum += table[ids[rows[b] * steps + t] * dim + d];
      out[b * dim + d] = sum / steps;
    }
  }
  return out;
}

/** dTable[v, :] = Σ over the batch's positions holding v of dPooled[b, :] / T. */
export function embeddingBagBackwardReference(
  dPooled: ArrayLike<number>,
  dim: number,
  vocab: number,
  ids: Int32Array,
  steps: number,
  rows: ArrayLike<number>,
): Float64Array {
  const out = new Float64Array(vocab * dim);
  for (let b = 0; b < rows.length; b++) {
    for (let t = 0; t < steps; t++) {
      const v = ids[rows[b] * steps + t];
      for (let d = 0; d < dim; d++) out[v * dim + d] += dPooled[b * dim + d] / steps;
    }
  }
  return out;
}
