// Adam and AdamW (one entry point; AdamW is Adam with weight decay switched on), as
// keras/src/optimizers/adam.py `update_step` (amsgrad off) writes it:
//   m <- m + (g - m)(1 - beta1);  v <- v + (g^2 - v)(1 - beta2);  w <- w - m alpha / (sqrt(v) + epsilon)
// with alpha = lr sqrt(1 - beta2^t) / (1 - beta1^t) computed on the host (t = iterations + 1). The bias
// correction lives in alpha, so epsilon is added to the UNcorrected sqrt(v) (Kingma & Ba's "epsilon hat").
// The same float32 operations in the same order as shaders/adam.wgsl `updateVec4` (bit-identical).
// Prefixed with shaders/optimizer-common.wgsl (weights, grads, vec4Index, decayed).

struct Params {
  learningRate: f32,  // the current learning rate (schedule applied), for weight decay
  weightDecay: f32,   // Keras' weight_decay (AdamW: 0.004)
  decayWeights: u32,  // 1 when weight_decay is set
  alpha: f32,         // step size with both bias corrections folded in
  oneMinusBeta1: f32, // 1 - beta1, rounded from double as Keras' Python float is
  oneMinusBeta2: f32, // 1 - beta2, likewise
  epsilon: f32,       // added to sqrt(v)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(3) var<storage, read_write> momentum: array<vec4f>; // [n / 4] Keras' "momentum" slot (m)
@group(0) @binding(4) var<storage, read_write> velocity: array<vec4f>; // [n / 4] Keras' "velocity" slot (v)

@compute @workgroup_size(WORKGROUP_SIZE)
fn adam(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = vec4Index(gid, nwg);
  if (i >= arrayLength(&weights)) { return; }
  let g = grads[i];
  let w = decayed(weights[i], params.weightDecay, params.learningRate, params.decayWeights);
  let m = momentum[i] + (g - momentum[i]) * params.oneMinusBeta1;
  let v = velocity[i] + (g * g - velocity[i]) * params.oneMinusBeta2;
  momentum[i] = m;
  velocity[i] = v;
  weights[i] = w - (m * params.alpha) / (sqrt(v) + params.epsilon);
}
