// Binary cross-entropy averaged over the batch (Keras' default "sum_over_batch_size": sum / B), in two forms,
// after keras/src/backend/tensorflow/nn.py `binary_crossentropy`:
//  - from logits z: when the prediction comes straight from a sigmoid, Keras' TF backend takes the sigmoid's
//    input (`_get_logits`) and calls tf.nn.sigmoid_cross_entropy_with_logits:
//      loss = max(z, 0) - z y + log(1 + exp(-|z|)),  d loss / dz = sigmoid(z) - y;
//  - from probabilities p: p clipped to [CLIP_MIN, CLIP_MAX] (tf.clip_by_value, backend.epsilon() = 1e-7),
//      loss = -(y log p + (1 - y) log(1 - p)),  gradient zero where p was outside the range.
// forward*: ONE invocation (dispatch 1 workgroup) writes each sample's loss and the mean; batches are small
// and a serial sum needs no barriers. backward*: one invocation per sample, linearWorkgroups(count, WORKGROUP_SIZE).
// Prefixed with binary-classification.wgsl (lossFromLogits, sigmoidMinusLabel).

const WORKGROUP_SIZE = 256u;
const EPSILON = 1e-7;                // Keras backend.epsilon()
const CLIP_MIN: f32 = EPSILON;
const CLIP_MAX: f32 = 1.0 - EPSILON; // 1 - 1e-7 rounded to f32 (0.99999988), as in Keras' float32 clip

struct Params {
  count: u32,     // samples in the batch
  gradScale: f32, // backward only: caller's scale / count (the mean's 1/B folded in)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;          // [count] logits z, or probabilities p
@group(0) @binding(2) var<storage, read> labels: array<f32>;     // [count] targets y (0 or 1)
@group(0) @binding(3) var<storage, read_write> out: array<f32>;  // [count] forward: per-sample loss; backward: d(mean loss)/dx
@group(0) @binding(4) var<storage, read_write> mean: array<f32>; // [1] forward only: mean loss over the batch

fn lossFromProbability(p: f32, y: f32) -> f32 {
  let q = clamp(p, CLIP_MIN, CLIP_MAX);
  return -(y * log(q) + (1.0 - y) * log(1.0 - q));
}

@compute @workgroup_size(1)
fn forwardFromLogits() {
  var sum: f32 = 0.0;
  for (var i = 0u; i < params.count; i++) {
    let loss = lossFromLogits(x[i], labels[i]);
    out[i] = loss;
    sum += loss;
  }
  mean[0] = sum / f32(params.count);
}

@compute @workgroup_size(1)
fn forwardFromProbabilities() {
  var sum: f32 = 0.0;
  for (var i = 0u; i < params.count; i++) {
    let loss = lossFromProbability(x[i], labels[i]);
    out[i] = loss;
    sum += loss;
  }
  mean[0] = sum / f32(params.count);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backwardFromLogits(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.count) { return; }
  out[i] = sigmoidMinusLabel(x[i], labels[i]) * params.gradScale;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backwardFromProbabilities(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.count) { return; }
  let p = x[i];
  let y = labels[i];
  let q = clamp(p, CLIP_MIN, CLIP_MAX);
  // TF's ClipByValue gradient is zero only where p < min or p > max: the bounds themselves pass it.
  let inside = p >= CLIP_MIN && p <= CLIP_MAX;
  let d = (1.0 - y) / (1.0 - q) - y / q;
  out[i] = select(0.0, d * params.gradScale, inside);
}
