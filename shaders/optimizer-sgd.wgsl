// SGD, as keras/src/optimizers/sgd.py `update_step` writes it:
//   momentum 0:  w <- w - g lr                                       (no slot: Keras creates none)
//   momentum:    m <- m momentum - g lr;  w <- w + m
//   nesterov:    m <- m momentum - g lr;  w <- w + (m momentum - g lr)
// Prefixed with shaders/optimizer-common.wgsl (weights, grads, vec4Index, decayed).

struct Params {
  learningRate: f32,  // the current learning rate (schedule applied)
  weightDecay: f32,   // Keras' weight_decay
  decayWeights: u32,  // 1 when weight_decay is set
  momentum: f32,      // Keras' momentum hyperparameter
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(3) var<storage, read_write> momentum: array<vec4f>; // [n / 4] Keras' "momentum" slot (sgdMomentum, sgdNesterov)

@compute @workgroup_size(WORKGROUP_SIZE)
fn sgd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = vec4Index(gid, nwg);
  if (i >= arrayLength(&weights)) { return; }
  let w = decayed(weights[i], params.weightDecay, params.learningRate, params.decayWeights);
  weights[i] = w - grads[i] * params.learningRate;
}

/** The new momentum slot, stored; the caller adds it (or its Nesterov look-ahead) to the weight. */
fn nextMomentum(i: u32) -> vec4f {
  let m = momentum[i] * params.momentum - grads[i] * params.learningRate;
  momentum[i] = m;
  return m;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn sgdMomentum(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = vec4Index(gid, nwg);
  if (i >= arrayLength(&weights)) { return; }
  let w = decayed(weights[i], params.weightDecay, params.learningRate, params.decayWeights);
  weights[i] = w + nextMomentum(i);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn sgdNesterov(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = vec4Index(gid, nwg);
  if (i >= arrayLength(&weights)) { return; }
  let w = decayed(weights[i], params.weightDecay, params.learningRate, params.decayWeights);
  let m = nextMomentum(i);
  weights[i] = w + (m * params.momentum - grads[i] * params.learningRate);
}
