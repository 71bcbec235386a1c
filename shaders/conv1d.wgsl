// Keras Conv1D (channels last, strides 1, dilation 1) without activation:
//   y[b, t, f] = bias[f] + Σ_k Σ_c x[b, t + k - padLeft, c] · W[k, c, f]
// with W as Keras stores it, [K, C, F]; positions outside [0, T) read as zero (padding 'same':
// padLeft = floor((K - 1) / 2), the rest on the right, as TensorFlow pads for stride 1;
// 'valid': padLeft = 0 and T' = T - K + 1). Forward and the x and W gradients; the bias
// gradient is Dense's (rows of dy). One invocation per output element summing in a fixed
// order (k, then c or f, then b, t), so results are deterministic with no atomics.
// Dispatched as linearWorkgroups(outputs, WORKGROUP_SIZE).
//
// Bindings are shared by role so that every entry point uses a prefix of them
// ('auto' layouts hold only the bindings an entry point uses):
//   entry point     a                 out                b                 bias
//   forward         x   [B, T, C]     y   [B, T', F]     W  [K, C, F]      b [F] (read only when useBias)
//   inputGradient   dy  [B, T', F]    dx  [B, T, C]      W  [K, C, F]      -
//   kernelGradient  x   [B, T, C]     dW  [K, C, F]      dy [B, T', F]     -

const WORKGROUP_SIZE = 64u;

struct Params {
  count: u32,      // invocations: outputs of the entry point
  batch: u32,      // B
  steps: u32,      // T: steps of x
  outSteps: u32,   // T': steps of y
  channels: u32,   // C: features of x
  filters: u32,    // F: features of y
  kernelSize: u32, // K
  padLeft: u32,    // zeros before the first step
  useBias: u32,    // 1 when the forward pass adds the bias
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;         // first operand (see the table above)
@group(0) @binding(2) var<storage, read_write> out: array<f32>; // the result (see the table above)
@group(0) @binding(3) var<storage, read> b: array<f32>;         // second operand (see the table above)
@group(0) @binding(4) var<storage, read> bias: array<f32>;      // [F] forward only

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.count) { return; }
  let F = params.filters;
  let C = params.channels;
  let f = i % F;
  let t = (i / F) % params.outSteps;
  let row = i / (F * params.outSteps);
  var acc = 0.0;
  for (var k = 0u; k < params.kernelSize; k++) {
    let s = i32(t + k) - i32(params.padLeft);
    if (s < 0 || s >= i32(params.steps)) { continue; }
    let xFirst = (row * params.steps + u32(s)) * C;
    for (var c = 0u; c < C; c++) {
      acc += a[xFirst + c] * b[(k * C + c) * F + f];
    }
  }
  if (params.useBias == 1u) { acc += bias[f]; }
  out[i] = acc;
}

// dx[b, s, c] = Σ_k Σ_f dy[b, s - k + padLeft, f] · W[k, c, f]
@compute @workgroup_size(WORKGROUP_SIZE)
fn inputGradient(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.count) { return; }
  let F = params.filters;
  let C = params.channels;
  let c = i % C;
  let s = (i / C) % params.steps;
  let row = i / (C * params.steps);
  var acc = 0.0;
  for (var k = 0u; k < params.kernelSize; k++) {
    let t = i32(s + params.padLeft) - i32(k);
    if (t < 0 || t >= i32(params.outSteps)) { continue; }
    let dyFirst = (row * params.outSteps + u32(t)) * F;
    for (var f = 0u; f < F; f++) {
      acc += a[dyFirst + f] * b[(k * C + c) * F + f];
    }
  }
  out[i] = acc;
}

// dW[k, c, f] = Σ_b Σ_t x[b, t + k - padLeft, c] · dy[b, t, f], rows and steps in index order
@compute @workgroup_size(WORKGROUP_SIZE)
fn kernelGradient(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.count) { return; }
  let F = params.filters;
  let C = params.channels;
  let f = i % F;
  let c = (i / F) % C;
  let k = i / (F * C);
  var acc = 0.0;
  for (var row = 0u; row < params.batch; row++) {
    for (var t = 0u; t < params.outSteps; t++) {
      let s = i32(t + k) - i32(params.padLeft);
      if (s < 0 || s >= i32(params.steps)) { continue; }
      acc += a[(row * params.steps + u32(s)) * C + c] * b[(row * params.outSteps + t) * F + f];
    }
  }
  out[i] = acc;
}
