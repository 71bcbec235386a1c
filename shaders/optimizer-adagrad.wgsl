// Adagrad, as keras/src/optimizers/adagrad.py `update_step` writes it:
//   a <- a + g^2;  w <- w - lr g / sqrt(a + epsilon)      (epsilon inside the square root)
// The accumulator starts at initial_accumulator_value (0.1), not zero: the store fills the slot.
// Prefixed with shaders/optimizer-common.wgsl (weights, grads, vec4Index, decayed).

struct Params {
  learningRate: f32,  // the current learning rate (schedule applied)
  weightDecay: f32,   // Keras' weight_decay
  decayWeights: u32,  // 1 when weight_decay is set
  epsilon: f32,       // added to the accumulator under the square root
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(3) var<storage, read_write> accumulator: array<vec4f>; // [n / 4] Keras' "accumulator" slot

@compute @workgroup_size(WORKGROUP_SIZE)
fn adagrad(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = vec4Index(gid, nwg);
  if (i >= arrayLength(&weights)) { return; }
  let g = grads[i];
  let w = decayed(weights[i], params.weightDecay, params.learningRate, params.decayWeights);
  let a = accumulator[i] + g * g;
  accumulator[i] = a;
  weights[i] = w - (params.learningRate * g) / sqrt(a + params.epsilon);
}
