// Global average pooling over the steps of [B, T, D] without a mask (Keras
// GlobalAveragePooling1D: padding positions count): forward out[b, d] = (Σ_t x[b, t, d]) / T;
// backward dx[b, t, d] = dOut[b, d] / T.
// The backward entry points write `steps` rows per sample, each dOut[b, :] / divisor: the whole
// gradient (steps = divisor = T), or its one distinct row per sample (steps = 1, divisor = T: the
// expanded gradient an embedding sums from directly, src/nn/gradient-forms.ts), or that row broadcast
// over the T steps (steps = T, divisor = 1: exact) where an op needs the whole gradient.
// One invocation per output element (forward) or per (b, t) row (backward), plain loops (no shared memory: SwiftShader runs
// invocations on CPU threads). Dispatched as linearWorkgroups(params.count, WORKGROUP_SIZE).
// When D is a multiple of 4, forward4 and backward4 do the same sums four columns at a time (a
// vec4 per invocation: forward one per (b, column quad), backward one per (b, t) row), in the same
// order, so their results are the same bit for bit with a quarter of the invocations or fewer.
//
// Bindings are shared by role ('auto' layouts hold only the bindings an entry point uses):
//   entry point   src               out
//   forward       x    [B, T, D]    out [B, D]
//   backward      dOut [B, D]       dx  [B, T, D]
//   forward4      src4 = x, out4 = out, as vec4s;  backward4: src4 = dOut, out4 = dx, as vec4s
//   forwardGathered(4)  src (src4) = the embedding table [V, D], ids [B, T], out (out4) [B, D]

const WORKGROUP_SIZE = 256u;

struct Params {
  count: u32,   // invocations: B·D forward, B·D/4 forward4, B·steps backward and backward4
  steps: u32,   // forward: T, the pooled axis; backward: the rows written per sample
  dim: u32,     // D: features
  divisor: f32, // backward: what dOut is divided by (T, or 1 to broadcast)
  vocab: u32,   // forwardGathered: V, the table's rows
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;       // forward: x [B, T, D]; backward: dOut [B, D]
@group(0) @binding(2) var<storage, read_write> out: array<f32>; // forward: out [B, D]; backward: dx [B, T, D]
@group(0) @binding(3) var<storage, read> src4: array<vec4f>;       // forward4, backward4: src as vec4s
@group(0) @binding(4) var<storage, read_write> out4: array<vec4f>; // forward4, backward4: out as vec4s
@group(0) @binding(5) var<storage, read> ids: array<i32>;          // forwardGathered: token ids [B, T]

// The mean of embedding rows read through their ids (src/nn/ops.ts: the embedding's output is then
// never written): x[b, t, :] = table[ids[b, t], :], table [V, D] bound as src (src4), ids outside
// [0, V) zero rows as the embedding gives them. The same sums in the same order as forward over x,
// four steps an iteration (a fifth less time on SwiftShader; the adds stay in order).
// Row `id`'s four columns from 4q (shaders/row-quads.wgsl, put in front), or zeros for an id outside
// [0, V).
fn gatheredQuad(b: u32, t: u32, q: u32) -> vec4f {
  let id = u32(ids[b * params.steps + t]); // a negative id becomes >= vocab
  if (id >= params.vocab) { return vec4f(0.0); }
  return loadQuad(id * params.dim, 4u * q, params.dim - 1u);
}

fn gathered4(b: u32, t: u32, q: u32) -> vec4f {
  let id = u32(ids[b * params.steps + t]);
  if (id >= params.vocab) { return vec4f(0.0); }
  return src4[id * (params.dim / 4u) + q];
}

// One invocation per (sample, column quad), params.count = B·ceil(D/4): each id read once per quad.
@compute @workgroup_size(WORKGROUP_SIZE)
fn forwardGathered(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.count) { return; }
  let quads = (params.dim + 3u) / 4u;
  let b = i / quads;
  let q = i % quads;
  var sum = vec4f(0.0);
  var t = 0u;
  for (; t + 4u <= params.steps; t += 4u) {
    sum += gatheredQuad(b, t, q);
    sum += gatheredQuad(b, t + 1u, q);
    sum += gatheredQuad(b, t + 2u, q);
    sum += gatheredQuad(b, t + 3u, q);
  }
  for (; t < params.steps; t++) {
    sum += gatheredQuad(b, t, q);
  }
  storeQuad(b * params.dim, 4u * q, params.dim - 1u, sum / f32(params.steps));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forwardGathered4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.count) { return; }
  let dim4 = params.dim / 4u;
  let b = i / dim4;
  let q = i % dim4;
  var sum = vec4f(0.0);
  var t = 0u;
  for (; t + 4u <= params.steps; t += 4u) {
    sum += gathered4(b, t, q);
    sum += gathered4(b, t + 1u, q);
    sum += gathered4(b, t + 2u, q);
    sum += gathered4(b, t + 3u, q);
  }
  for (; t < params.steps; t++) {
    sum += gathered4(b, t, q);
  }
  out4[i] = sum / f32(params.steps);
}

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

// One (b, t) row an invocation (params.count = B·steps).
@compute @workgroup_size(WORKGROUP_SIZE)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.count) { return; }
  let b = i / params.steps;
  for (var d = 0u; d < params.dim; d++) {
    out[i * params.dim + d] = src[b * params.dim + d] / params.divisor;
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.count) { return; }
  let dim4 = params.dim / 4u;
  let b = i / dim4;
  let q = i % dim4;
  let first = b * params.steps * dim4 + q;
  var sum = vec4f(0.0);
  for (var t = 0u; t < params.steps; t++) {
    sum += src4[first + t * dim4];
  }
  out4[i] = sum / f32(params.steps);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE; // one (b, t) row
  if (i >= params.count) { return; }
  let dim4 = params.dim / 4u;
  let b = i / params.steps;
  for (var q = 0u; q < dim4; q++) {
    out4[i * dim4 + q] = src4[b * dim4 + q] / params.divisor;
  }
}
