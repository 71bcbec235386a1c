// Embedding lookup (Keras Embedding): forward out[n, :] = table[ids[n], :] over the N = B·T
// tokens; backward sums the output gradient's rows by id into a row-sparse gradient (row u for
// the batch's u-th distinct id), which src/kernels/rows.ts scatters into the table's shape where a
// dense gradient is wanted. Plain loops (no shared memory, no atomics: WGSL has no float atomics,
// and a fixed summation order keeps results deterministic). Dispatched as
// linearWorkgroups(params.count, WORKGROUP_SIZE).
//
// The backward pass reads a CSR index built on the host (src/kernels/embedding.ts): for each of
// the U distinct ids of the batch, the token positions that hold it, grouped by id in `positions`.
// It runs in two dispatches so that no invocation sums more than params.piece values, however many
// positions one id holds (the padding id can hold most of a batch: summed by one invocation, it
// was 92% of a step on a real GPU): `positions` is cut into windows of params.piece indexes;
// backwardPieces sums each id's run inside each window into `partials` at the run's first index,
// then backward adds an id's runs window by window. Both in ascending order (the reference,
// embeddingBackwardReference, adds in the same order).
//
// A table larger than one storage binding is split by rows into chunks (src/gpu/gpu.ts): forward
// is dispatched once per chunk, bound as `values`: rows firstRow .. firstRow + rows of [V, D], and
// writes the tokens whose id lies in the chunk. With one chunk, firstRow = 0 and rows = V.
//
// Bindings are shared by role ('auto' layouts hold only the bindings an entry point uses):
//   entry point   values              ids       out               rowStarts   positions   uniqueCount
//   forward       table chunk [R, D]  ids [N]   out [N, D]        -           -           -
//   backwardPieces dOut [N, D] (*)    -         partials [N, D]   [U + 1]     [N]         [1]
//   backward      partials [N, D]     -         rows [U, D]       [U + 1]     -           [1]
// (*) or [N / expand, D]: an expanded gradient (src/nn/gradient-forms.ts), one row per sample
// standing for its `expand` positions; position n reads row n / expand.
// forward4, backwardPieces4 and backward4 bind values4 and out4 (the same buffers as vec4s) in
// place of values and out.

const WORKGROUP_SIZE = 256u;

struct Params {
  count: u32,    // invocations: N tokens forward, windows x columns backwardPieces, ids backward
  dim: u32,      // D: columns of the table
  vocab: u32,    // V: rows of the whole table
  firstRow: u32, // the chunk's first row of the table
  rows: u32,     // R: rows in the chunk
  tokens: u32,   // N: backward only, the index's positions
  piece: u32,    // backward only: the window of positions one invocation sums
  expand: u32,   // backwardPieces: dOut holds one row per `expand` positions (an expanded gradient: T; else 1)
  zeroId0: u32,  // backward: 1 when id 0's steps are masked (the expanded gradient stands for zeros there)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> values: array<f32>;    // forward: table chunk [R, D]; backward: dOut [N, D]
@group(0) @binding(2) var<storage, read> ids: array<i32>;       // forward: token ids [N]
@group(0) @binding(3) var<storage, read_write> out: array<f32>; // forward: out [N, D]; backward: the row-sparse gradient [U, D]
@group(0) @binding(4) var<storage, read> rowStarts: array<i32>; // [U + 1] backward only: rowIds[u]'s positions are rowStarts[u] .. rowStarts[u + 1]
@group(0) @binding(5) var<storage, read> positions: array<i32>; // [N] backward only: token positions grouped by id, ascending within each
@group(0) @binding(6) var<storage, read> uniqueCount: array<i32>; // [1] backward only: U (a captured step's index has room for more)
@group(0) @binding(7) var<storage, read> values4: array<vec4f>;       // forward4, backward4: values as vec4s (D a multiple of 4)
@group(0) @binding(8) var<storage, read_write> out4: array<vec4f>;    // forward4, backward4: out as vec4s
@group(0) @binding(9) var<storage, read> rowIds: array<i32>;          // backward: [U] the distinct ids, ascending

// out[n, d] = table[ids[n], d] for the ids in the chunk; an id outside [0, V) reads as a zero row
// (as TF's GPU gather does), written by the chunk at row 0, rather than out of bounds: ids live
// on the GPU, so the wrapper cannot check them.
// One invocation per token n copies its row (params.count = N): SwiftShader pays per invocation.
@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let n = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (n >= params.count) { return; }
  let id = u32(ids[n]); // bit reinterpretation: a negative id becomes >= vocab
  if (id >= params.firstRow && id < params.firstRow + params.rows) {
    for (var d = 0u; d < params.dim; d++) { out[n * params.dim + d] = values[(id - params.firstRow) * params.dim + d]; }
  } else if (id >= params.vocab && params.firstRow == 0u) {
    for (var d = 0u; d < params.dim; d++) { out[n * params.dim + d] = 0.0; }
  }
}

// Where id u's run inside the window that holds index k starts: its partial sum's index.
fn runStart(u: u32, k: u32) -> u32 {
  return max(u32(rowStarts[u]), k / params.piece * params.piece);
}

// The next window's first index after k.
fn nextWindow(k: u32) -> u32 {
  return (k / params.piece + 1u) * params.piece;
}

// The id u whose run of positions holds index k: rowStarts[u] <= k < rowStarts[u + 1], by binary
// search over the U + 1 starts (rowStarts[0] = 0, rowStarts[U] = N).
fn rowOf(k: u32) -> u32 {
  var lo = 0u;
  var hi = u32(uniqueCount[0]);
  while (hi - lo > 1u) {
    let mid = (lo + hi) / 2u;
    if (u32(rowStarts[mid]) <= k) { lo = mid; } else { hi = mid; }
  }
  return lo;
}

// partials[runStart(u, k), d] = Σ dOut[positions[k] / expand, d] over id u's indexes k in window w,
// for every id with indexes in w; one invocation per (window w, column d) (params.count = windows x
// D): neighbouring invocations read neighbouring columns.
@compute @workgroup_size(WORKGROUP_SIZE)
fn backwardPieces(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.count) { return; }
  let d = i % params.dim;
  var k = i / params.dim * params.piece;
  let end = min(nextWindow(k), params.tokens);
  for (var u = rowOf(k); k < end; u++) {
    let runEnd = min(u32(rowStarts[u + 1u]), end);
    let first = k;
    var sum = 0.0;
    for (; k < runEnd; k++) { sum += values[u32(positions[k]) / params.expand * params.dim + d]; }
    out[first * params.dim + d] = sum;
  }
}

// rows[u, d] = Σ partials[runStart(u, k), d] over the windows holding id u's indexes, in order;
// one invocation per id u, looping over its D columns (params.count = ids): SwiftShader pays per
// invocation, and a captured step dispatches for its index's capacity, past U.
@compute @workgroup_size(WORKGROUP_SIZE)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let u = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (u >= params.count || u >= u32(uniqueCount[0])) { return; }
  let first = u32(rowStarts[u]);
  let end = select(u32(rowStarts[u + 1u]), first, maskedId(u)); // a masked id sums nothing: 0
  for (var d = 0u; d < params.dim; d++) {
    var sum = 0.0;
    for (var k = first; k < end; k = nextWindow(k)) {
      sum += values[runStart(u, k) * params.dim + d];
    }
    out[u * params.dim + d] = sum;
  }
}

// Whether the batch's u-th id is the padding id whose steps a mask_zero mask hides (params.zeroId0).
fn maskedId(u: u32) -> bool {
  return params.zeroId0 != 0u && rowIds[u] == 0;
}

// forward for D a multiple of 4: one invocation per token copies its row, a vec4 at a time
// (params.count = N). The same values as forward, with a quarter of the invocations or fewer.
@compute @workgroup_size(WORKGROUP_SIZE)
fn forward4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let n = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (n >= params.count) { return; }
  let dim4 = params.dim / 4u;
  let id = u32(ids[n]);
  if (id >= params.firstRow && id < params.firstRow + params.rows) {
    for (var q = 0u; q < dim4; q++) { out4[n * dim4 + q] = values4[(id - params.firstRow) * dim4 + q]; }
  } else if (id >= params.vocab && params.firstRow == 0u) {
    for (var q = 0u; q < dim4; q++) { out4[n * dim4 + q] = vec4f(0.0); }
  }
}

// backwardPieces and backward for D a multiple of 4: the same sums four columns at a time, each
// column in the same order.
@compute @workgroup_size(WORKGROUP_SIZE)
fn backwardPieces4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.count) { return; }
  let dim4 = params.dim / 4u;
  let q = i % dim4;
  var k = i / dim4 * params.piece;
  let end = min(nextWindow(k), params.tokens);
  for (var u = rowOf(k); k < end; u++) {
    let runEnd = min(u32(rowStarts[u + 1u]), end);
    let first = k;
    var sum = vec4f(0.0);
    for (; k < runEnd; k++) { sum += values4[u32(positions[k]) / params.expand * dim4 + q]; }
    out4[first * dim4 + q] = sum;
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let u = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (u >= params.count || u >= u32(uniqueCount[0])) { return; }
  let dim4 = params.dim / 4u;
  let first = u32(rowStarts[u]);
  let end = select(u32(rowStarts[u + 1u]), first, maskedId(u));
  for (var q = 0u; q < dim4; q++) {
    var sum = vec4f(0.0);
    for (var k = first; k < end; k = nextWindow(k)) {
      sum += values4[runStart(u, k) * dim4 + q];
    }
    out4[u * dim4 + q] = sum;
  }
}
