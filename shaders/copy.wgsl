// Plain copy out = x, the practical bandwidth ceiling the kernel bench page compares every kernel with;
// and takeRows, a copy of rows picked by an order.
// Bits are moved as u32 (never as floats), so f32 and i32 tensors copy exactly, NaN payloads included.
// copyVec4: one invocation per 16 bytes, for lengths that are a multiple of 4 elements;
// copyScalar: one invocation per element, for the rest.
// Dispatched as linearWorkgroups(params.count, WORKGROUP_SIZE).
//
// The two entry points view the same bindings with different element types; 'auto' layouts
// hold only what an entry point uses, so each sees just one of the two views.

const WORKGROUP_SIZE = 256u;

struct Params {
  count: u32, // invocations: vec4s for copyVec4 and takeRows4, elements for copyScalar and takeRows
  width: u32, // takeRows, takeRows4: a row's elements (vec4s for takeRows4)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x4: array<vec4u>;         // copyVec4: [count] source
@group(0) @binding(2) var<storage, read_write> out4: array<vec4u>; // copyVec4: [count] destination
@group(0) @binding(1) var<storage, read> x: array<u32>;            // copyScalar: [count] source
@group(0) @binding(2) var<storage, read_write> out: array<u32>;    // copyScalar: [count] destination
@group(0) @binding(3) var<storage, read> order: array<u32>;        // takeRows(4): the rows of x to take, in order
@group(0) @binding(4) var<storage, read> start: array<u32>;        // takeRows(4): [1] where in `order` this batch starts

@compute @workgroup_size(WORKGROUP_SIZE)
fn copyVec4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.count) { return; }
  out4[i] = x4[i];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn copyScalar(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.count) { return; }
  out[i] = x[i];
}

// takeRows: out[r, :] = x[order[start[0] + r], :] for the rows of out (a batch in an epoch's order, from
// data resident on the GPU: src/nn/execution.ts); one invocation per element (per vec4 for takeRows4).
@compute @workgroup_size(WORKGROUP_SIZE)
fn takeRows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.count) { return; }
  out[i] = x[order[start[0] + i / params.width] * params.width + i % params.width];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn takeRows4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.count) { return; }
  out4[i] = x4[order[start[0] + i / params.width] * params.width + i % params.width];
}
