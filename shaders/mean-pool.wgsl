// Global average pooling over the steps of [B, T, D] without a mask (Keras
// GlobalAveragePooling1D: padding positions count): forward out[b, d] = (Σ_t x[b, t, d]) / T;
// backward dx[b, t, d] = dOut[b, d] / T.
// One invocation per output element with a plain loop (no shared memory: SwiftShader runs
// invocations on CPU threads). Dispatched as linearWorkgroups(params.count, WORKGROUP_SIZE).
//
// Bindings are shared by role ('auto' layouts hold only the bindings an entry point uses):
//   entry point   src               out
//   forward       x    [B, T, D]    out [B, D]
//   backward      dOut [B, D]       dx  [B, T, D]

const WORKGROUP_SIZE = 256u;

struct Params {
  count: u32, // invocations: B·D forward, B·T·D backward
  steps: u32, // T: the pooled axis
  dim: u32,   // D: features
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;       // forward: x [B, T, D]; backward: dOut [B, D]
@group(0) @binding(2) var<storage, read_write> out: array<f32>; // forward: out [B, D]; backward: dx [B, T, D]

// Summed over t in order, then divided (as Keras' ops.mean does), so results are reproducible.
@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.count) { return; }
  let b = i / params.dim;
  let d = i % params.dim;
  let first = b * params.steps * params.dim + d;
  var sum = 0.0;
  for (var t = 0u; t < params.steps; t++) {
    sum += src[first + t * params.dim];
  }
  out[i] = sum / f32(params.steps);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.count) { return; }
  let b = i / (params.steps * params.dim);
  let d = i % params.dim;
  out[i] = src[b * params.dim + d] / f32(params.steps);
}
