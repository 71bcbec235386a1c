// Keras' binary accuracy, after keras/src/metrics/accuracy_metrics.py `binary_accuracy`:
// y_pred = cast(p > THRESHOLD, y_true.dtype), correct where equal(y_true, y_pred); p exactly 0.5 predicts 0.
// Writes the COUNT of correct predictions (as f32) so callers can sum batches and divide by the sample count.
// ONE invocation loops over the batch (dispatch 1 workgroup): batches are small and a count needs no barriers.
// Prefixed with binary-classification.wgsl (THRESHOLD, correctPrediction).

struct Params {
  count: u32, // samples in the batch
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> probs: array<f32>;         // [count] predicted probabilities
@group(0) @binding(2) var<storage, read> labels: array<f32>;        // [count] targets y (0 or 1)
@group(0) @binding(3) var<storage, read_write> correct: array<f32>; // [1] number of correct predictions

@compute @workgroup_size(1)
fn countCorrect() {
  var n = 0.0;
  for (var i = 0u; i < params.count; i++) {
    n += correctPrediction(probs[i], labels[i]);
  }
  correct[0] = n;
}
