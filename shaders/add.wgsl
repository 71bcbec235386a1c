// Elementwise sum out = a + b of two same-shaped tensors (autograd accumulates gradients with it).
// One invocation per element; dispatched as linearWorkgroups(n, WORKGROUP_SIZE).

const WORKGROUP_SIZE = 256u;

struct Params {
  count: u32, // elements in a, b and out
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;         // [count] first addend
@group(0) @binding(2) var<storage, read> b: array<f32>;         // [count] second addend
@group(0) @binding(3) var<storage, read_write> out: array<f32>; // [count] a + b

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.count) { return; }
  out[i] = a[i] + b[i];
}
