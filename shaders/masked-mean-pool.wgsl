// Global average pooling over the unmasked steps of [B, T, D] (Keras GlobalAveragePooling1D
// with a mask, keras/src/layers/pooling/global_average_pooling1d.py):
//   out[b, d] = Σ_t where(mask[b, t], x[b, t, d], 0) / Σ_t mask[b, t]
// A row with every step masked gives NaN, as Keras' 0 / 0 does (written from `nanBits`: WGSL
// leaves a runtime 0 / 0 undefined). Backward: dx[b, t, d] = mask[b, t] ? dOut[b, d] / count[b] : 0
// (0 for masked steps, also in an all-masked row, as TensorFlow's `where` gradient gives).
// One invocation per (b, d) in both passes, looping over t in order (backward writes its T
// gradients), so results are deterministic. Dispatched as linearWorkgroups(B·D, WORKGROUP_SIZE).
//
// Bindings ('auto' layouts hold only the bindings an entry point uses):
//   entry point   src              out              mask
//   forward       x    [B, T, D]   out [B, D]       mask [B, T]
//   backward      dOut [B, D]      dx  [B, T, D]    mask [B, T]

const WORKGROUP_SIZE = 256u;

struct Params {
  count: u32,   // invocations: B·D
  steps: u32,   // T: the pooled axis
  dim: u32,     // D: features
  nanBits: u32, // 0x7fc00000: a quiet NaN, for all-masked rows
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;       // forward: x [B, T, D]; backward: dOut [B, D]
@group(0) @binding(2) var<storage, read_write> out: array<f32>; // forward: out [B, D]; backward: dx [B, T, D]
@group(0) @binding(3) var<storage, read> mask: array<f32>;      // [B, T] 1 where a step counts, 0 where it is masked

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.count) { return; }
  let b = i / params.dim;
  let first = b * params.steps * params.dim + i % params.dim;
  var sum = 0.0;
  var kept = 0.0;
  for (var t = 0u; t < params.steps; t++) {
    let on = mask[b * params.steps + t] != 0.0;
    sum += select(0.0, src[first + t * params.dim], on);
    kept += select(0.0, 1.0, on);
  }
  out[i] = select(bitcast<f32>(params.nanBits), sum / kept, kept > 0.0);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.count) { return; }
  let b = i / params.dim;
  let first = b * params.steps * params.dim + i % params.dim;
  var kept = 0.0;
  for (var t = 0u; t < params.steps; t++) {
    kept += select(0.0, 1.0, mask[b * params.steps + t] != 0.0);
  }
  let share = src[i] / max(kept, 1.0);
  for (var t = 0u; t < params.steps; t++) {
    out[first + t * params.dim] = select(0.0, share, mask[b * params.steps + t] != 0.0);
  }
}
