// One dense Adam step, as keras/src/optimizers/adam.py `update_step` (amsgrad off) writes it:
//   m <- m + (g - m)(1 - beta1);  v <- v + (g^2 - v)(1 - beta2);  w <- w - m alpha / (sqrt(v) + epsilon)
// with alpha = lr sqrt(1 - beta2^t) / (1 - beta1^t) computed on the host. The bias correction lives in alpha,
// so epsilon is added to the UNcorrected sqrt(v) (Kingma & Ba's "epsilon hat"), unlike Algorithm 1 of the paper.
// update: one invocation per element, dispatched as linearWorkgroups(count, WORKGROUP_SIZE).
// updateVec4: one invocation per four elements (count a multiple of 4; the fused path pads its flat
// buffers), linearWorkgroups(count / 4, WORKGROUP_SIZE): SwiftShader pays per invocation. It takes its
// count from the binding, not from params.count, so that one uniform serves a weight split over buffers.

const WORKGROUP_SIZE = 256u;

struct Params {
  count: u32,         // elements in weights (and grad, m, v)
  alpha: f32,         // step size with both bias corrections folded in
  oneMinusBeta1: f32, // 1 - beta1, rounded from double as Keras' Python float is
  oneMinusBeta2: f32, // 1 - beta2, likewise
  epsilon: f32,       // added to sqrt(v)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> weights: array<f32>; // [count] the variable, updated in place
@group(0) @binding(2) var<storage, read> grad: array<f32>;          // [count] its gradient
@group(0) @binding(3) var<storage, read_write> m: array<f32>;       // [count] first moment, updated in place
@group(0) @binding(4) var<storage, read_write> v: array<f32>;       // [count] second moment, updated in place
@group(0) @binding(5) var<storage, read_write> weights4: array<vec4f>; // updateVec4: the same four buffers as vec4s
@group(0) @binding(6) var<storage, read> grad4: array<vec4f>;
@group(0) @binding(7) var<storage, read_write> m4: array<vec4f>;
@group(0) @binding(8) var<storage, read_write> v4: array<vec4f>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn update(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.count) { return; }
  let g = grad[i];
  let mi = m[i] + (g - m[i]) * params.oneMinusBeta1;
  let vi = v[i] + (g * g - v[i]) * params.oneMinusBeta2;
  m[i] = mi;
  v[i] = vi;
  weights[i] = weights[i] - (mi * params.alpha) / (sqrt(vi) + params.epsilon);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn updateVec4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= arrayLength(&weights4)) { return; }
  let g = grad4[i];
  let mi = m4[i] + (g - m4[i]) * params.oneMinusBeta1;
  let vi = v4[i] + (g * g - v4[i]) * params.oneMinusBeta2;
  m4[i] = mi;
  v4[i] = vi;
  weights4[i] = weights4[i] - (mi * params.alpha) / (sqrt(vi) + params.epsilon);
}
