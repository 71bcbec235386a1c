// Global max pooling over the steps of [B, T, D] (Keras GlobalMaxPooling1D, `ops.max(inputs, axis=1)`):
// forward out[b, d] = max_t x[b, t, d]; backward as TensorFlow's reduce_max gradient
// (tensorflow/python/ops/math_grad.py `_MinOrMaxGrad`): the steps equal to the maximum share the
// gradient equally, dx[b, t, d] = (x[b, t, d] == out[b, d]) / (number of such t) · dOut[b, d].
// One invocation per (b, d) in both passes, looping over t in order (backward writes its T
// gradients), so results are deterministic. Dispatched as linearWorkgroups(B·D, WORKGROUP_SIZE).
//
// Bindings ('auto' layouts hold only the bindings an entry point uses):
//   entry point   x              out              pooled       dOut
//   forward       x [B, T, D]    out [B, D]       -            -
//   backward      x [B, T, D]    dx  [B, T, D]    out [B, D]   dOut [B, D]

const WORKGROUP_SIZE = 256u;

struct Params {
  count: u32, // invocations: B·D
  steps: u32, // T: the pooled axis
  dim: u32,   // D: features
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;         // [B, T, D] the pooled input
@group(0) @binding(2) var<storage, read_write> out: array<f32>; // forward: out [B, D]; backward: dx [B, T, D]
@group(0) @binding(3) var<storage, read> pooled: array<f32>;    // [B, D] backward only: the forward's output
@group(0) @binding(4) var<storage, read> dOut: array<f32>;      // [B, D] backward only: gradient of the output

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.count) { return; }
  let first = (i / params.dim) * params.steps * params.dim + i % params.dim;
  var best = x[first];
  for (var t = 1u; t < params.steps; t++) {
    best = max(best, x[first + t * params.dim]);
  }
  out[i] = best;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.count) { return; }
  let first = (i / params.dim) * params.steps * params.dim + i % params.dim;
  let best = pooled[i];
  var ties = 0u;
  for (var t = 0u; t < params.steps; t++) {
    ties += select(0u, 1u, x[first + t * params.dim] == best);
  }
  // TensorFlow's order: (indicator / count) · grad.
  let share = (1.0 / f32(ties)) * dOut[i];
  for (var t = 0u; t < params.steps; t++) {
    let at = first + t * params.dim;
    out[at] = select(0.0, share, x[at] == best);
  }
}
