// RMSprop, as keras/src/optimizers/rmsprop.py `update_step` writes it:
//   v <- rho v + (1 - rho) g^2
//   centered:  a <- rho a + (1 - rho) g;  denominator = v - a^2 + epsilon   (else v + epsilon)
//   increment = lr g / sqrt(denominator)      (epsilon INSIDE the square root, unlike Adam's)
//   momentum > 0:  s <- momentum s + increment;  w <- w - s                  (else w <- w - increment)
// Keras creates the slots the options need, in this order: velocity, momentum (momentum > 0),
// average_gradient (centered). Bindings follow that order from 3, so average_gradient sits at 4
// without momentum and at 5 with it: two names for its two places, each entry point using one.
// Prefixed with shaders/optimizer-common.wgsl (weights, grads, vec4Index, decayed).

struct Params {
  learningRate: f32,  // the current learning rate (schedule applied)
  weightDecay: f32,   // Keras' weight_decay
  decayWeights: u32,  // 1 when weight_decay is set
  rho: f32,           // Keras' rho
  oneMinusRho: f32,   // 1 - rho, rounded from double as Keras' Python float is
  momentum: f32,      // Keras' momentum hyperparameter
  epsilon: f32,       // added to the denominator under the square root
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(3) var<storage, read_write> velocity: array<vec4f>;                     // [n / 4] "velocity"
@group(0) @binding(4) var<storage, read_write> momentum: array<vec4f>;                     // [n / 4] "momentum" (momentum > 0)
@group(0) @binding(4) var<storage, read_write> averageGradientAfterVelocity: array<vec4f>; // [n / 4] "average_gradient" (centered, momentum 0)
@group(0) @binding(5) var<storage, read_write> averageGradientAfterMomentum: array<vec4f>; // [n / 4] "average_gradient" (centered, momentum > 0)

/** The new velocity, stored. */
fn nextVelocity(i: u32, g: vec4f) -> vec4f {
  let v = params.rho * velocity[i] + params.oneMinusRho * (g * g);
  velocity[i] = v;
  return v;
}

fn nextAverageGradient(a: vec4f, g: vec4f) -> vec4f {
  return params.rho * a + params.oneMinusRho * g;
}

fn centeredDenominator(v: vec4f, a: vec4f) -> vec4f {
  return v - a * a + params.epsilon;
}

fn increment(g: vec4f, denominator: vec4f) -> vec4f {
  return (params.learningRate * g) / sqrt(denominator);
}

/** The new momentum slot from this step's increment, stored. */
fn nextMomentum(i: u32, step: vec4f) -> vec4f {
  let s = params.momentum * momentum[i] + step;
  momentum[i] = s;
  return s;
}

fn decayedWeight(i: u32) -> vec4f {
  return decayed(weights[i], params.weightDecay, params.learningRate, params.decayWeights);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn rmsprop(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = vec4Index(gid, nwg);
  if (i >= arrayLength(&weights)) { return; }
  let g = grads[i];
  let w = decayedWeight(i);
  weights[i] = w - increment(g, nextVelocity(i, g) + params.epsilon);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn rmspropMomentum(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = vec4Index(gid, nwg);
  if (i >= arrayLength(&weights)) { return; }
  let g = grads[i];
  let w = decayedWeight(i);
  weights[i] = w - nextMomentum(i, increment(g, nextVelocity(i, g) + params.epsilon));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn rmspropCentered(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = vec4Index(gid, nwg);
  if (i >= arrayLength(&weights)) { return; }
  let g = grads[i];
  let w = decayedWeight(i);
  let v = nextVelocity(i, g);
  let a = nextAverageGradient(averageGradientAfterVelocity[i], g);
  averageGradientAfterVelocity[i] = a;
  weights[i] = w - increment(g, centeredDenominator(v, a));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn rmspropCenteredMomentum(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = vec4Index(gid, nwg);
  if (i >= arrayLength(&weights)) { return; }
  let g = grads[i];
  let w = decayedWeight(i);
  let v = nextVelocity(i, g);
  let a = nextAverageGradient(averageGradientAfterMomentum[i], g);
  averageGradientAfterMomentum[i] = a;
  weights[i] = w - nextMomentum(i, increment(g, centeredDenominator(v, a)));
}
