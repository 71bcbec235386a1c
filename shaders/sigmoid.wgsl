// Sigmoid: forward y = 1 / (1 + exp(-x)); backward dx = dy · y · (1 - y), from the forward output.
// One invocation per element; dispatched as linearWorkgroups(n, WORKGROUP_SIZE).
// Prefixed with binary-classification.wgsl (stableSigmoid).

const WORKGROUP_SIZE = 256u;

struct Params {
  count: u32, // elements in x (and y, dy, dx)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;     // [count] forward: x; backward: y, the forward output
@group(0) @binding(2) var<storage, read_write> out: array<f32>; // [count] forward: y; backward: dx
@group(0) @binding(3) var<storage, read> dy: array<f32>;        // [count] backward only: gradient of y

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.count) { return; }
  out[i] = stableSigmoid(input[i]);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.count) { return; }
  let y = input[i];
  out[i] = dy[i] * y * (1.0 - y);
}
