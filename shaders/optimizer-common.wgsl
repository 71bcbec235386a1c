// Shared by every optimizer shader: src/nn/optimizers/optimizer.ts prepends this file to
// shaders/optimizer-<name>.wgsl. An update is one dispatch per shard of the parameter store: a flat
// buffer of whole vec4s (each weight's tail padded with zeros), one invocation per vec4, dispatched
// as linearWorkgroups(n / 4, WORKGROUP_SIZE). The length comes from the binding, not the uniform, so
// one uniform serves every shard.
// Each optimizer file declares binding 0 (its Params, which start with learningRate, weightDecay and
// decayWeights) and its slot variables from binding 3, in the order of the optimizer's slotNames.

const WORKGROUP_SIZE = 256u;

@group(0) @binding(1) var<storage, read_write> weights: array<vec4f>; // [n / 4] one shard's weights, updated in place
@group(0) @binding(2) var<storage, read> grads: array<vec4f>;         // [n / 4] their gradients

/** The vec4 this invocation updates (linearWorkgroups spreads the groups over x and y). */
fn vec4Index(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
}

// keras/src/optimizers/base_optimizer.py `_apply_weight_decay`: w - w * weight_decay * lr, applied
// before the update step with the same (current) learning rate; skipped when weight_decay is None
// (decayWeights 0), so an optimizer without decay computes exactly what it did before.
fn decayed(w: vec4f, weightDecay: f32, learningRate: f32, decayWeights: u32) -> vec4f {
  if (decayWeights == 0u) { return w; }
  return w - w * weightDecay * learningRate;
}
