// Global average pooling over the unmasked steps of [B, T, D] (Keras GlobalAveragePooling1D
// with a mask, keras/src/layers/pooling/global_average_pooling1d.py):
//   out[b, d] = Σ_t where(mask[b, t], x[b, t, d], 0) / Σ_t mask[b, t]
// A row with every step masked gives NaN, as Keras' 0 / 0 does (written from `nanBits`: WGSL
// leaves a runtime 0 / 0 undefined). Backward: dx[b, t, d] = mask[b, t] ? dOut[b, d] / count[b] : 0
// (0 for masked steps, also in an all-masked row, as TensorFlow's `where` gradient gives).
// One invocation per (b, d) in both passes, looping over t in order (backward writes its T
// gradients), so results are deterministic. Dispatched as linearWorkgroups(B·D, WORKGROUP_SIZE).
//
// Where the mask is Embedding(mask_zero)'s, (ids != 0) of the embedding's own ids (src/nn/ops.ts),
// the [B, T, D] rows between the two are never written: forwardGathered reads them through the
// ids (the same sums), and the gradient goes on *expanded* (src/nn/gradient-forms.ts): each sample's
// share dOut[b, d] / count[b] once ([B, 1, D], backwardExpanded), every unmasked step's gradient;
// broadcast writes the whole dx from it (what backward writes).
//
// Bindings ('auto' layouts hold only the bindings an entry point uses):
//   entry point        src                out              mask / ids
//   forward            x    [B, T, D]     out [B, D]       mask [B, T]
//   backward           dOut [B, D]        dx  [B, T, D]    mask [B, T]
//   forwardGathered    table [V, D]       out [B, D]       ids [B, T] (binding 4)
//   backwardExpanded   dOut [B, D]        shares [B, D]    mask [B, T]
//   broadcast          shares [B, D]      dx  [B, T, D]    mask [B, T]

const WORKGROUP_SIZE = 256u;

struct Params {
  count: u32,   // invocations: B·D
  steps: u32,   // T: the pooled axis
  dim: u32,     // D: features
  nanBits: u32, // 0x7fc00000: a quiet NaN, for all-masked rows
  vocab: u32,   // forwardGathered: V, the table's rows
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;       // forward: x [B, T, D]; backward: dOut [B, D]
@group(0) @binding(2) var<storage, read_write> out: array<f32>; // forward: out [B, D]; backward: dx [B, T, D]
@group(0) @binding(3) var<storage, read> mask: array<f32>;      // [B, T] 1 where a step counts, 0 where it is masked
@group(0) @binding(4) var<storage, read> ids: array<i32>;       // forwardGathered: [B, T] token ids, 0 masked

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

// dOut[b, d] / count[b]: every unmasked step's gradient (dOut / 1 in an all-masked row, whose steps
// all take 0).
fn share(i: u32) -> f32 {
  let b = i / params.dim;
  var kept = 0.0;
  for (var t = 0u; t < params.steps; t++) {
    kept += select(0.0, 1.0, mask[b * params.steps + t] != 0.0);
  }
  return src[i] / max(kept, 1.0);
}

// dx[b, t, d] = the share at unmasked steps, 0 at masked ones, from `value` (the share).
fn spread(i: u32, value: f32) {
  let b = i / params.dim;
  let first = b * params.steps * params.dim + i % params.dim;
  for (var t = 0u; t < params.steps; t++) {
    out[first + t * params.dim] = select(0.0, value, mask[b * params.steps + t] != 0.0);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.count) { return; }
  spread(i, share(i));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backwardExpanded(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.count) { return; }
  out[i] = share(i);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn broadcast(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.count) { return; }
  spread(i, src[i]);
}

// forward over the rows table[ids[b, t], :], skipping id 0 as the mask (ids != 0) does: the same
// adds in the same order (a masked step adds 0.0, as forward's select does). One invocation per
// (sample, column quad), params.count = B·ceil(D/4), each id read once per quad (shaders/row-quads.wgsl,
// put in front). Ids outside [0, V) read as zero rows, as the embedding gives them.
@compute @workgroup_size(WORKGROUP_SIZE)
fn forwardGathered(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.count) { return; }
  let quads = (params.dim + 3u) / 4u;
  let b = i / quads;
  let d = 4u * (i % quads);
  let last = params.dim - 1u;
  var sum = vec4f(0.0);
  var kept = 0.0;
  for (var t = 0u; t < params.steps; t++) {
    let id = u32(ids[b * params.steps + t]); // a negative id becomes >= vocab
    let on = id != 0u;
    var row = vec4f(0.0);
    if (id < params.vocab) { row = loadQuad(id * params.dim, d, last); }
    sum += select(vec4f(0.0), row, on);
    kept += select(0.0, 1.0, on);
  }
  storeQuad(b * params.dim, d, last, select(vec4f(bitcast<f32>(params.nanBits)), sum / kept, kept > 0.0));
}
