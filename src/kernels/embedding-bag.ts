/**
 * Embedding followed by GlobalAveragePooling1D as one op (shaders/embedding-bag.wgsl), from each
 * review's token counts, with plain TypeScript references written from the padded ids (the layers'
 * own definition), so tests check the count form against it.
 *
 * `tokenBags` counts each review's tokens on the host, once: the data never changes, so the GPU
 * keeps the counts resident and each step only names its reviews (`order[first .. first + rows)`).
 */
import source from '../../shaders/embedding-bag.wgsl';
import { linearWorkgroups, type Gpu, type PreparedDispatch, type Tensor } from '../gpu/gpu.js';

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

/** Token bags on the GPU. */
export interface ResidentBags {
  readonly offsets: Tensor;
  readonly entries: Tensor;
  readonly reviews: number;
  readonly tokenBits: number;
  readonly vocab: number;
  readonly steps: number;
  dispose(): void;
}

export function uploadTokenBags(gpu: Gpu, bags: TokenBags): ResidentBags {
  const offsets = gpu.upload(new Int32Array(bags.offsets.buffer, bags.offsets.byteOffset, bags.offsets.length));
  // An empty entry list (no reviews) still needs a bindable buffer, of one vec4 at least.
  const entries = gpu.upload(bags.entries.length ? new Int32Array(bags.entries.buffer, bags.entries.byteOffset, bags.entries.length) : new Int32Array(ENTRY_ALIGN));
  return {
    offsets,
    entries,
    reviews: bags.offsets.length - 1,
    tokenBits: bags.tokenBits,
    vocab: bags.vocab,
    steps: bags.steps,
    dispose: () => {
      offsets.dispose();
      entries.dispose();
    },
  };
}

/** Bitmap words per vocabulary row for batches of up to `capacity` rows (at most 32: one summary word). */
export function presenceWords(capacity: number): number {
  return Math.ceil(capacity / BITS_PER_WORD);
}

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
  /** `presenceShape(V, capacity)` u32, zero before each marking forward pass. */
  presence: Tensor;
  /** Forward: reads the table [V, D] (the start of the buffer) and writes pooled [capacity, D]. */
  table: Tensor;
  pooled: Tensor;
  /** Backward: reads dPooled [capacity, D] and writes dTable [V, D] (at the start of the buffer). */
  dPooled: Tensor;
  dTable: Tensor;
}

/** The constant uniform of both passes (the rest is compiled in: see `prepareEmbeddingBag`). */
export function embeddingBagParams(bags: Pick<ResidentBags, 'vocab' | 'steps' | 'tokenBits'>): Uint32Array {
  return Uint32Array.of(bags.vocab, bags.steps, bags.tokenBits);
}

/** Both passes, prepared once; `params` is a uniform holding `embeddingBagParams(b.bags)`. */
export async function prepareEmbeddingBag(gpu: Gpu, b: EmbeddingBagBindings, params: GPUBuffer): Promise<{ forward: PreparedDispatch; backward: PreparedDispatch }> {
  if (b.dim % 4 !== 0) throw new RangeError(`embeddingBag: the embedding dimension must be a multiple of 4, found ${b.dim}`);
  if (b.markRows > MAX_BAG_BATCH) throw new RangeError(`embeddingBag: batches of ${b.markRows} rows exceed ${MAX_BAG_BATCH}`);
  const { vocab } = b.bags;
  const dim4 = b.dim / 4;
  const constants = { DIM4: dim4, WORDS: presenceWords(b.markRows) };
  const common = { 1: b.batch, 2: b.order, 3: b.bags.offsets, 4: b.bags.entries };
  const [forward, backward] = await Promise.all([
    gpu.prepare('embedding-bag', source, 'forward', { 1: b.batch, 2: b.order, 3: b.bags.offsets, 9: b.bags.entries, 5: b.table, 6: b.pooled, 7: b.presence }, linearWorkgroups(b.capacity * dim4, WORKGROUP_SIZE), params, constants),
    gpu.prepare('embedding-bag', source, 'backward', { ...common, 5: b.dPooled, 6: b.dTable, 8: b.presence }, linearWorkgroups(vocab, WORKGROUP_SIZE), params, constants),
  ]);
  return { forward, backward };
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
