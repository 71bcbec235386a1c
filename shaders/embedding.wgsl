// Embedding lookup (Keras Embedding): forward out[n, :] = table[ids[n], :] over the N = B·T
// tokens; backward sums the output gradient's rows by id into a row-sparse gradient (row u for
// the batch's u-th distinct id), which src/kernels/rows.ts scatters into the table's shape where a
// dense gradient is wanted. One invocation per token (forward) or per distinct id (backward) with
// plain loops (no shared memory, no atomics: WGSL has no float atomics, and a fixed summation
// order keeps results deterministic). Dispatched as linearWorkgroups(params.count, WORKGROUP_SIZE).
//
// The backward pass reads a CSR index built on the host (src/kernels/embedding.ts): for each of
// the U distinct ids of the batch, the token positions that hold it.
//
// A table larger than one storage binding is split by rows into chunks (src/gpu/gpu.ts): forward
// is dispatched once per chunk, bound as `values`: rows firstRow .. firstRow + rows of [V, D], and
// writes the tokens whose id lies in the chunk. With one chunk, firstRow = 0 and rows = V.
//
// Bindings are shared by role ('auto' layouts hold only the bindings an entry point uses):
//   entry point   values              ids       out               rowStarts   positions   uniqueCount
//   forward       table chunk [R, D]  ids [N]   out [N, D]        -           -           -
//   backward      dOut [N, D]         -         rows [U, D]       [U + 1]     [N]         [1]
// forward4 and backward4 bind values4 and out4 (the same buffers as vec4s) in place of values and out.

const WORKGROUP_SIZE = 256u;

struct Params {
  count: u32,    // invocations: N tokens forward, ids to cover backward
  dim: u32,      // D: columns of the table
  vocab: u32,    // V: rows of the whole table
  firstRow: u32, // the chunk's first row of the table
  rows: u32,     // R: rows in the chunk
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

// The row-sparse gradient: out[u, d] = Σ_k dOut[positions[k], d] for k in rowStarts[u] .. rowStarts[u + 1],
// in that order, the gradient of table row rowIds[u]; one invocation per id u < U (params.count ids at most).
@compute @workgroup_size(WORKGROUP_SIZE)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let u = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (u >= params.count || u >= u32(uniqueCount[0])) { return; }
  for (var d = 0u; d < params.dim; d++) {
    var sum = 0.0;
    for (var k = rowStarts[u]; k < rowStarts[u + 1u]; k++) {
      sum += values[u32(positions[k]) * params.dim + d];
    }
    out[u * params.dim + d] = sum;
  }
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

// backward for D a multiple of 4: the same sums four columns at a time, one invocation per (id u,
// column quad q) (params.count = ids x D/4), so that an id held by many positions (the padding)
// is shared by D/4 invocations; each column in backward's order.
@compute @workgroup_size(WORKGROUP_SIZE)
fn backward4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  let dim4 = params.dim / 4u;
  let u = i / dim4;
  let q = i % dim4;
  if (i >= params.count || u >= u32(uniqueCount[0])) { return; }
  var sum = vec4f(0.0);
  for (var k = rowStarts[u]; k < rowStarts[u + 1u]; k++) {
    sum += values4[u32(positions[k]) * dim4 + q];
  }
  out4[i] = sum;
}
