// The maths of a sigmoid output with binary cross-entropy and binary accuracy, written once for
// the per-op kernels (sigmoid, binary-crossentropy, accuracy .wgsl) and the fused classifier head
// (classifier-head.wgsl): src/kernels/shader-library.ts puts it in front of each of them.
//   loss from the logit z (TF's sigmoid_cross_entropy_with_logits): max(z, 0) - z y + log(1 + exp(-|z|))
//   its gradient sigmoid(z) - y, arranged as TF's gradient of the stable loss
//   keras binary_accuracy: p > 0.5 predicts 1 (p exactly 0.5 predicts 0)

const THRESHOLD = 0.5;
const LOG1P_SERIES_BELOW = 1e-3; // below this u, log(1 + u) would lose u's low digits: use the series

// log(1 + u) for u in [0, 1]; WGSL has no log1p.
fn logOnePlus(u: f32) -> f32 {
  if (u < LOG1P_SERIES_BELOW) { return u * (1.0 - u * (1.0 / 2.0 - u / 3.0)); }
  return log(1.0 + u);
}

// exp of a non-positive argument only: it cannot overflow, so large |z| gives exactly 0 or 1, never inf/NaN.
fn stableSigmoid(z: f32) -> f32 {
  let e = exp(-abs(z));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), z >= 0.0);
}

fn lossFromLogits(z: f32, y: f32) -> f32 {
  return max(z, 0.0) - z * y + logOnePlus(exp(-abs(z)));
}

// sigmoid(z) - y: for z >= 0 it is (1 - y) - sigmoid(-z), so 0/1 labels never cancel against a sigmoid near 1.
fn sigmoidMinusLabel(z: f32, y: f32) -> f32 {
  let e = exp(-abs(z));
  let small = e / (1.0 + e); // sigmoid(-|z|)
  return select(small - y, (1.0 - y) - small, z >= 0.0);
}

// 1 where the prediction p (a probability) matches the 0/1 label y, else 0.
fn correctPrediction(p: f32, y: f32) -> f32 {
  return select(0.0, 1.0, select(0.0, 1.0, p > THRESHOLD) == y);
}
