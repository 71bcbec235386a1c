// Keras' inverted dropout (keras/src/layers/regularization/dropout.py, keras/src/random/random.py
// `dropout`): each element is kept with probability 1 - rate and kept values are scaled by
// 1 / (1 - rate); dropped ones are 0. The backward pass is the same map applied to dy (the
// mask and the scale again), so one entry point serves both.
//
// The mask needs no host work per step: each element's draw is a counter-based hash of
// (the layer's seed, the training step, the element's noise index). The step is read from a
// GPU tensor the engine writes before each step (not from the uniform), so a step recorded
// once and replayed draws a fresh mask every time, and a seed or a resumed run reproduces it.
// src/kernels/dropout.ts has the same hash for the reference, bit for bit.
//
// noise_shape: the mask has the noise shape and is broadcast over the axes where that shape
// is 1. The element's coordinates (x's shape right-aligned into 4 axes) are mapped to a noise
// index with `noiseStrides` (0 on broadcast axes).
// One invocation per element; dispatched as linearWorkgroups(params.count, WORKGROUP_SIZE).

const WORKGROUP_SIZE = 256u;

struct Params {
  count: u32,          // elements of x
  seed: u32,           // the layer's seed
  dropBelow: u32,      // an element is dropped when its 24-bit draw is below this: round(rate · 2^24)
  scale: f32,          // 1 / (1 - rate), rounded to f32 on the host
  dims: vec4u,         // x's shape right-aligned into 4 axes (leading 1s)
  noiseStrides: vec4u, // per axis, the stride of the noise tensor, 0 where the mask is broadcast
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;       // [count] forward: x; backward: dy
@group(0) @binding(2) var<storage, read_write> out: array<f32>; // [count] forward: y; backward: dx
@group(0) @binding(3) var<storage, read> step: array<i32>;      // [1] the training step (the optimizer's iteration count)

// A 32-bit integer finaliser (Chris Wellons' "lowbias32"): every input bit affects every output bit.
fn mix32(v: u32) -> u32 {
  var x = v;
  x ^= x >> 16u;
  x *= 0x7feb352du;
  x ^= x >> 15u;
  x *= 0x846ca68bu;
  x ^= x >> 16u;
  return x;
}

// The golden-ratio constant keeps (seed, step, index) = (0, 0, 0) off mix32's fixed point 0.
const SEED_OFFSET = 0x9e3779b9u;

// A 24-bit draw: an element is dropped when its draw is below params.dropBelow.
fn draw(seed: u32, stepValue: u32, index: u32) -> u32 {
  return mix32(mix32(mix32(seed ^ SEED_OFFSET) ^ stepValue) ^ index) >> 8u;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.count) { return; }
  let d = params.dims;
  // x of one axis (dims (1, 1, 1, count), always so without broadcasting): no divisions needed.
  var noiseIndex = i * params.noiseStrides.w;
  if (any(d.xyz != vec3u(1u))) {
    let coords = vec4u(i / (d.y * d.z * d.w), (i / (d.z * d.w)) % d.y, (i / d.w) % d.z, i % d.w);
    noiseIndex = dot(coords, params.noiseStrides);
  }
  let kept = draw(params.seed, bitcast<u32>(step[0]), noiseIndex) >= params.dropBelow;
  out[i] = select(0.0, src[i] * params.scale, kept);
}
