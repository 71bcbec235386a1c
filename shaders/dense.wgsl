// Dense (Keras layout, no activation): y = x·W + b with W as Keras stores it, [inputs, units].
// Forward and the three gradients, one invocation per output element with a plain loop
// (no shared memory: SwiftShader runs invocations on CPU threads).
// Dispatched as linearWorkgroups(outputs, WORKGROUP_SIZE).
// Inputs of any rank are rows of their last axis (Keras' Dense): B is the product of the
// leading dimensions, e.g. B = batch · steps for x [batch, steps, I].
//
// Bindings are shared by role so that every entry point uses a prefix of them
// ('auto' layouts hold only the bindings an entry point uses):
//   entry point     a               out             b               bias
//   forward         x   [B, I]      y   [B, O]      W   [I, O]      b [O]
//   inputGradient   dy  [B, O]      dx  [B, I]      W   [I, O]      -
//   kernelGradient  x   [B, I]      dW  [I, O]      dy  [B, O]      -
//   biasGradient    dy  [B, O]      db  [O]         -               -

const WORKGROUP_SIZE = 64u;

struct Params {
  batch: u32,  // B: rows of x and dy (the product of their leading dimensions)
  inputs: u32, // I: columns of x, rows of W
  units: u32,  // O: columns of W and dy
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;         // first operand (see the table above)
@group(0) @binding(2) var<storage, read_write> out: array<f32>; // the result (see the table above)
@group(0) @binding(3) var<storage, read> b: array<f32>;         // second operand (see the table above)
@group(0) @binding(4) var<storage, read> bias: array<f32>;      // [O] forward only

// y[r, o] = Σ_k x[r, k] · W[k, o] + bias[o]
@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.batch * params.units) { return; }
  let row = i / params.units;
  let o = i % params.units;
  var acc = 0.0;
  for (var k = 0u; k < params.inputs; k++) {
    acc += a[row * params.inputs + k] * b[k * params.units + o];
  }
  out[i] = acc + bias[o];
}

// dx[r, k] = Σ_o dy[r, o] · W[k, o]
@compute @workgroup_size(WORKGROUP_SIZE)
fn inputGradient(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.batch * params.inputs) { return; }
  let row = i / params.inputs;
  let k = i % params.inputs;
  var acc = 0.0;
  for (var o = 0u; o < params.units; o++) {
    acc += a[row * params.units + o] * b[k * params.units + o];
  }
  out[i] = acc;
}

// dW[k, o] = Σ_r x[r, k] · dy[r, o], rows in index order
@compute @workgroup_size(WORKGROUP_SIZE)
fn kernelGradient(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.inputs * params.units) { return; }
  let k = i / params.units;
  let o = i % params.units;
  var acc = 0.0;
  for (var row = 0u; row < params.batch; row++) {
    acc += a[row * params.inputs + k] * b[row * params.units + o];
  }
  out[i] = acc;
}

// db[o] = Σ_r dy[r, o], rows in index order
@compute @workgroup_size(WORKGROUP_SIZE)
fn biasGradient(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let o = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (o >= params.units) { return; }
  var acc = 0.0;
  for (var row = 0u; row < params.batch; row++) {
    acc += a[row * params.units + o];
  }
  out[o] = acc;
}
