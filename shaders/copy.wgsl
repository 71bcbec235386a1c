// Plain copy out = x, the practical bandwidth ceiling the kernel bench page compares every kernel with.
// Bits are moved as u32 (never as floats), so f32 and i32 tensors copy exactly, NaN payloads included.
// copyVec4: one invocation per 16 bytes, for lengths that are a multiple of 4 elements;
// copyScalar: one invocation per element, for the rest.
// Dispatched as linearWorkgroups(params.count, WORKGROUP_SIZE).
//
// The two entry points view the same bindings with different element types; 'auto' layouts
// hold only what an entry point uses, so each sees just one of the two views.

const WORKGROUP_SIZE = 256u;

struct Params {
  count: u32, // invocations: vec4s for copyVec4, elements for copyScalar
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x4: array<vec4u>;         // copyVec4: [count] source
@group(0) @binding(2) var<storage, read_write> out4: array<vec4u>; // copyVec4: [count] destination
@group(0) @binding(1) var<storage, read> x: array<u32>;            // copyScalar: [count] source
@group(0) @binding(2) var<storage, read_write> out: array<u32>;    // copyScalar: [count] destination

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
