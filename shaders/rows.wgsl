// A row-sparse gradient whose row u belongs to table row rowIds[u] (the batch's distinct ids, ascending,
// from an embedding-gradient index: src/kernels/embedding.ts) scattered into the table [V, D]:
//   scatter  table[rowIds[u], d] = g[u, d]
// with g[u, d] as shaders/row-gradients.wgsl (put in front of this) reads it: stored or factored.
// for u < uniqueCount[0] (a captured step's index has room for more rows than its batch holds). A table
// split into chunks (rows firstRow .. firstRow + rows, src/gpu/gpu.ts) takes one dispatch per chunk, each
// moving the ids it holds. One invocation per row u, looping over its D columns (SwiftShader pays per
// invocation): linearWorkgroups(count, WORKGROUP_SIZE).

const WORKGROUP_SIZE = 256u;

struct Params {
  count: u32,    // invocations: the rows the compact buffer has room for
  dim: u32,      // D
  firstRow: u32, // the chunk's first row of the table
  rows: u32,     // rows in the chunk
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> rowIds: array<i32>;            // [capacity] ascending ids
@group(0) @binding(2) var<storage, read> uniqueCount: array<i32>;       // [1] U: rows in use
@group(0) @binding(3) var<storage, read> gradientRows: array<f32>;      // [capacity, D] or [capacity, O] (or more: padding)
@group(0) @binding(4) var<storage, read_write> table: array<f32>;       // the chunk [rows, D]

// Where row u starts in the table chunk, or -1 where there is none (past U, or an id in another chunk).
fn tableRow(u: u32) -> i32 {
  if (u >= params.count || u >= u32(uniqueCount[0])) { return -1; }
  let id = u32(rowIds[u]);
  if (id < params.firstRow || id >= params.firstRow + params.rows) { return -1; }
  return i32((id - params.firstRow) * params.dim);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn scatter(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let u = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  let t = tableRow(u);
  if (t < 0) { return; }
  for (var d = 0u; d < params.dim; d++) { table[u32(t) + d] = rowGradientAt(u, d, params.dim); }
}
