// Embedding followed by GlobalAveragePooling1D, fused (torch.nn.EmbeddingBag, mode 'mean'), working from
// each review's token COUNTS rather than its padded positions. The mean is linear in the counts:
//   pooled[b, :] = (Σ_t table[ids[b, t], :]) / T = (Σ_token count(b, token) · table[token, :]) / T
// and the data never changes, so the host counts each review's tokens once (src/kernels/embedding-bag.ts):
// `entries` hold, per review, its distinct tokens ascending, packed as token | count << tokenBits.
// Padding is token 0 like any other: Keras' pooling has no mask here, so padding positions count.
//
// The gradient needs, for each vocabulary row, the batch rows whose reviews hold that token. WGSL has
// no float atomics, and the order of a float sum must not depend on scheduling (a seed reproduces a
// run), so the forward pass marks a presence bitmap with integer atomics (atomicOr: order-free) and the
// backward pass walks each row's set bits in ascending batch order:
//   dTable[v, :] = (Σ_b count(b, v) · dPooled[b, :]) / T,   b ascending
// Bitmap layout, [3·words + 1, V], token v's words side by side with its neighbours':
//   rows 0 .. words          presence: bit b % 32 of row b / 32 says batch row b holds v
//   row words                summary: bit w says presence row w of v is not zero (rare tokens skip the rest)
//   rows words + 1 ..        count codes, 2 bits per batch row (16 per word): count - 1, where 3 means
//                            "4 or more": only then does the backward pass binary-search the review.
// Count 1 (three entries in four) is implied by the presence bit and costs no atomic.
// The bitmap must be zero before a marking forward pass (the caller clears it each step).
//
// Larger than one binding (src/nn/fused-training.ts): the table is split into shards of vocabulary
// rows, each with its own bitmap, and the resident data into chunks of reviews, each with its own
// offsets and entries. Each (data chunk, shard) pair is one dispatch with its own Params: the forward
// pass takes the rows whose review lies in the chunk and the tokens in the shard, adding to what the
// shard before it wrote; the backward pass takes the shard's rows, adding to what the chunk before
// it wrote. Unsplit (one shard, one chunk), each pass is one dispatch, as the comments below describe.
//
// Plain loops, no shared memory (SwiftShader runs invocations on CPU threads): forward one invocation
// per output vec4, linearWorkgroups(rows·D/4, WORKGROUP_SIZE); backward one per vocabulary row,
// linearWorkgroups(V, WORKGROUP_SIZE). On a GPU the backward pass is backwardWords instead,
// ROW_LANES invocations per row sharing a workgroup (its only barrier), linearWorkgroups(V·ROW_LANES,
// WORKGROUP_SIZE).
//
// Bindings are shared by role ('auto' layouts hold only the bindings an entry point uses):
//   entry point   values                 out
//   forward       table   [V, D]         pooled [rows, D]
//   backward      dPooled [rows, D]      dTable [V, D]

const WORKGROUP_SIZE = 64u;
const MAX_DIM4 = 16u;  // D <= 64 (src/kernels/embedding-bag.ts checks it)
const ROW_LANES = 8u;   // backwardWords: lanes per vocabulary row
const GROUP_ROWS = WORKGROUP_SIZE / ROW_LANES; // backwardWords: rows per workgroup

// Compiled into the pipeline (loops over them unroll, divisions become shifts):
override DIM4: u32;  // D / 4: the table's columns in vec4s
override WORDS: u32; // bitmap words per token: ceil(training batch size / 32), at most 32
override CHUNKED: bool; // the data is split into chunks: the backward pass checks each row's chunk
override SHARDED: bool; // the table is split into shards: the forward pass skips other shards' tokens

struct Params {
  vocab: u32,       // V: rows of the table (of this shard)
  steps: u32,       // T: the padded length, the mean's divisor
  tokenBits: u32,   // entries hold token | count << tokenBits
  firstToken: u32,  // the shard's first row: table row v holds token firstToken + v
  firstReview: u32, // the data chunk's first review: offsets[r] is review firstReview + r's
  reviews: u32,     // the data chunk's reviews; rows whose review lies outside are left alone
  accumulate: u32,  // 1: add to `out` (a later shard forward, a later data chunk backward)
}

// Which reviews this batch holds: order[first .. first + rows) (the Batch struct: batch.wgsl, put in front).

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> batch: Batch;
@group(0) @binding(2) var<storage, read> order: array<u32>;                 // review indices, in the epoch's order
@group(0) @binding(3) var<storage, read> offsets: array<u32>;               // [reviews + 1] review firstReview + r's entries: offsets[r] .. offsets[r + 1]
@group(0) @binding(4) var<storage, read> entries: array<u32>;               // backward: token | count << tokenBits, tokens ascending per review
@group(0) @binding(9) var<storage, read> entries4: array<vec4u>;            // forward: the same buffer, four entries at a time
@group(0) @binding(5) var<storage, read> values: array<vec4f>;              // forward: table [V, D]; backward: dPooled [rows, D]
@group(0) @binding(6) var<storage, read_write> out: array<vec4f>;           // forward: pooled [rows, D]; backward: dTable [V, D]
@group(0) @binding(7) var<storage, read_write> presence: array<atomic<u32>>; // [3·words + 1, V] forward: marked (see the layout above)
@group(0) @binding(8) var<storage, read> presenceBits: array<u32>;          // the same buffer, read plainly by the backward pass

fn tokenOf(entry: u32) -> u32 {
  return entry & ((1u << params.tokenBits) - 1u);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  let b = i / DIM4;
  if (b >= batch.rows) { return; }
  let review = order[batch.first + b] - params.firstReview; // wraps past `reviews` below the chunk
  if (review >= params.reviews) { return; }
  let q = i % DIM4;
  let lastRow = params.vocab - 1u;
  let mask = (1u << params.tokenBits) - 1u;
  var sum = vec4f(0.0);
  // Four entries per iteration (each review's entries are padded to a multiple of 4 with count-0 ones).
  for (var k = offsets[review] / 4u; k < offsets[review + 1u] / 4u; k++) {
    let packed = entries4[k];
    var row = packed & vec4u(mask);
    var count = vec4f(packed >> vec4u(params.tokenBits));
    if (SHARDED) {
      row -= vec4u(params.firstToken); // wraps past `vocab` below the shard
      count = select(vec4f(0.0), count, row < vec4u(params.vocab));
    }
    // The host checks ids; clamped all the same, so nothing is read outside the table.
    let token = min(row, vec4u(lastRow));
    sum += count.x * values[token.x * DIM4 + q] + count.y * values[token.y * DIM4 + q]
         + count.z * values[token.z * DIM4 + q] + count.w * values[token.w * DIM4 + q];
    if (batch.mark != 0u) {
      // The row's D/4 invocations share the marking: entry j of the four is marked by invocation j mod D/4.
      for (var j = q; j < 4u; j += DIM4) {
        if (count[j] > 0.0) {
          let v = token[j];
          atomicOr(&presence[(b / 32u) * params.vocab + v], 1u << (b % 32u));
          atomicOr(&presence[WORDS * params.vocab + v], 1u << (b / 32u));
          if (count[j] > 1.0) {
            let code = u32(min(count[j], 4.0)) - 1u;
            atomicOr(&presence[(WORDS + 1u + b / 16u) * params.vocab + v], code << (2u * (b % 16u)));
          }
        }
      }
    }
  }
  var pooled = sum / f32(params.steps);
  if (SHARDED && params.accumulate != 0u) { pooled += out[i]; }
  out[i] = pooled;
}

// The count of `token` in `review` (of the data chunk; present: its bit was set), by binary search over the review's entries.
fn countIn(review: u32, token: u32) -> u32 {
  var lo = offsets[review];
  var hi = offsets[review + 1u];
  while (lo < hi) {
    let mid = (lo + hi) / 2u;
    if (tokenOf(entries[mid]) < token) { lo = mid + 1u; } else { hi = mid; }
  }
  return entries[lo] >> params.tokenBits;
}

// The batch rows of presence word w of row v, each with its count (a binary search only for counts
// of 4 or more), times their dPooled rows, added to `sum` (all D/4 column quads).
fn addWord(v: u32, w: u32, sum: ptr<function, array<vec4f, MAX_DIM4>>) {
  var bits = presenceBits[w * params.vocab + v];
  let codes = vec2u(presenceBits[(WORDS + 1u + 2u * w) * params.vocab + v], presenceBits[(WORDS + 2u + 2u * w) * params.vocab + v]);
  while (bits != 0u) {
    let j = firstTrailingBit(bits);
    bits &= bits - 1u;
    let b = w * 32u + j;
    if (CHUNKED && order[batch.first + b] - params.firstReview >= params.reviews) { continue; } // another chunk's dispatch takes it
    let code = (codes[j / 16u] >> (2u * (j % 16u))) & 3u;
    var count = code + 1u;
    if (code == 3u) { count = countIn(order[batch.first + b] - params.firstReview, params.firstToken + v); }
    for (var q = 0u; q < DIM4; q++) {
      (*sum)[q] += f32(count) * values[b * DIM4 + q];
    }
  }
}

// Row v's gradient quad q from its sum: the mean's 1/T, and what an earlier data chunk wrote.
fn storeRow(v: u32, q: u32, sum: vec4f) {
  var gradient = sum / f32(params.steps);
  if (CHUNKED && params.accumulate != 0u) { gradient += out[v * DIM4 + q]; }
  out[v * DIM4 + q] = gradient;
}

// One invocation per vocabulary row, its set words in order (SwiftShader: CPU threads, no barriers).
@compute @workgroup_size(WORKGROUP_SIZE)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let v = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (v >= params.vocab) { return; }
  var sum: array<vec4f, MAX_DIM4>;
  var words = presenceBits[WORDS * params.vocab + v];
  while (words != 0u) {
    let w = firstTrailingBit(words);
    words &= words - 1u;
    addWord(v, w, &sum);
  }
  for (var q = 0u; q < DIM4; q++) { storeRow(v, q, sum[q]); }
}

// A GPU's form: ROW_LANES lanes per vocabulary row, GROUP_ROWS rows per workgroup. Lane l sums the
// row's presence words l, l + ROW_LANES, ... in order (a frequent token's 512 batch rows, each with
// a binary search, become 8 short walks instead of one long one); then the row's lanes share its
// column quads and add the lane sums in lane order, so the result is deterministic. Absent rows
// cost their lanes one read of the summary word and a zero write.
var<workgroup> laneSums: array<vec4f, WORKGROUP_SIZE * MAX_DIM4>; // [GROUP_ROWS, ROW_LANES, D/4]

@compute @workgroup_size(WORKGROUP_SIZE)
fn backwardWords(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lane: u32) {
  let r = lane / ROW_LANES;
  let l = lane % ROW_LANES;
  let v = (wid.x + wid.y * nwg.x) * GROUP_ROWS + r;
  var sum: array<vec4f, MAX_DIM4>;
  if (v < params.vocab) {
    let summary = presenceBits[WORDS * params.vocab + v];
    for (var w = l; w < WORDS; w += ROW_LANES) {
      if ((summary & (1u << w)) != 0u) { addWord(v, w, &sum); }
    }
  }
  for (var q = 0u; q < DIM4; q++) { laneSums[lane * MAX_DIM4 + q] = sum[q]; }
  workgroupBarrier();
  if (v < params.vocab) {
    for (var q = l; q < DIM4; q += ROW_LANES) {
      var total = vec4f(0.0);
      for (var k = 0u; k < ROW_LANES; k++) { total += laneSums[(r * ROW_LANES + k) * MAX_DIM4 + q]; }
      storeRow(v, q, total);
    }
  }
}
