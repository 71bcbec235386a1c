// The tutorial model's head as one op: Dense(H, relu) -> Dense(1, sigmoid) -> binary cross-entropy
// (from the logit, as Keras' TF backend does behind a sigmoid) and binary accuracy, forward and backward.
// The formulas are those of the unfused kernels (dense, relu, sigmoid, binary-crossentropy, accuracy
// .wgsl), so the fused path trains the same model:
//   z1 = x·W1 + b1;  h = relu(z1);  z = h·W2 + b2;  loss = max(z, 0) - z y + log(1 + exp(-|z|))
//   dz = (sigmoid(z) - y) / rows;  dz1 = (z1 > 0) W2 dz;  dx = W1 dz1
// Every weight lives in ONE flat buffer (model order: embeddings, W1, b1, W2, b2) and so does every
// gradient, so Adam updates all of them in one dispatch; Params give each weight's offset.
//
// Entry points (one invocation each, plain loops: batches are small, and SwiftShader runs
// invocations on CPU threads, where barriers are dear):
//   trainSample     per batch row: forward and backward, writing the row's record and dx
//   gradients       per weight of the head (+2 for the metrics) and piece of the rows: sums over them in order
//   sumPieces       per weight (+2): the pieces' sums in order, when there is more than one piece
//   evaluateSample  per row: forward only, loss and correct into the row's record
//   metricSums      per chunk of `chunk` rows: loss and correct sums (Keras evaluates batch by batch)
// Each row's record in `samples` (stride 2H + 3): h [H], dz1 [H], dz, loss, correct (0 or 1).
// Prefixed with binary-classification.wgsl (the loss, its gradient, the threshold) and batch.wgsl.

const WORKGROUP_SIZE = 64u;

// Compiled into the pipeline (loops over them unroll):
override DIM: u32;    // D: pooled features (inputs of the first dense layer)
override HIDDEN: u32; // H: units of the first dense layer
override PIECES: u32 = 1u; // gradients: the batch's rows in this many pieces (src/kernels/classifier-head.ts headPieces)

struct Params {
  relu: u32,    // 1: the first dense layer's activation is relu; 0: linear
  kernel1: u32, // offsets in weights (and grads) of W1 [D, H], b1 [H], W2 [H, 1], b2 [1]
  bias1: u32,
  kernel2: u32,
  bias2: u32,
  chunk: u32,   // metricSums: rows per chunk (the batch size)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> batch: Batch;
@group(0) @binding(3) var<storage, read> labels: array<f32>;         // 0 or 1, in the rows' order: row b's is labels[first + b]
@group(0) @binding(4) var<storage, read> pooled: array<f32>;         // [rows, D] the head's input
@group(0) @binding(5) var<storage, read> weights: array<f32>;        // every weight of the model, flat
@group(0) @binding(6) var<storage, read_write> samples: array<f32>;  // [rows, 2H + 3] per-row records
@group(0) @binding(7) var<storage, read_write> dPooled: array<f32>;  // [rows, D] trainSample: d loss / d input
@group(0) @binding(8) var<storage, read_write> grads: array<f32>;    // flat like weights; gradients writes the head's part
@group(0) @binding(9) var<storage, read_write> metrics: array<f32>;  // pairs (loss sum, correct count)
@group(0) @binding(2) var<storage, read_write> partials: array<f32>; // [PIECES, outputs] gradients' piece sums

fn stride() -> u32 { return 2u * HIDDEN + 3u; }

// The forward pass of row b: writes h into its record, returns the logit z.
fn logit(b: u32) -> f32 {
  let base = b * stride();
  var z = 0.0;
  for (var j = 0u; j < HIDDEN; j++) {
    var z1 = 0.0;
    for (var i = 0u; i < DIM; i++) {
      z1 += pooled[b * DIM + i] * weights[params.kernel1 + i * HIDDEN + j];
    }
    z1 += weights[params.bias1 + j];
    let h = select(z1, max(z1, 0.0), params.relu != 0u);
    samples[base + j] = h;
    z += h * weights[params.kernel2 + j];
  }
  return z + weights[params.bias2];
}

// Loss and correct (0 or 1) of row b from its logit, into its record.
fn score(b: u32, z: f32, y: f32) {
  let base = b * stride() + 2u * HIDDEN;
  samples[base + 1u] = lossFromLogits(z, y);
  samples[base + 2u] = correctPrediction(stableSigmoid(z), y);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn trainSample(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let b = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (b >= batch.rows) { return; }
  let y = labels[batch.first + b];
  let z = logit(b);
  score(b, z, y);
  // The mean's 1/rows folded in.
  let dz = sigmoidMinusLabel(z, y) * (1.0 / f32(batch.rows));
  let base = b * stride();
  samples[base + 2u * HIDDEN] = dz;
  for (var j = 0u; j < HIDDEN; j++) {
    let through = params.relu == 0u || samples[base + j] > 0.0;
    samples[base + HIDDEN + j] = select(0.0, weights[params.kernel2 + j] * dz, through);
  }
  for (var i = 0u; i < DIM; i++) {
    var dx = 0.0;
    for (var j = 0u; j < HIDDEN; j++) {
      dx += samples[base + HIDDEN + j] * weights[params.kernel1 + i * HIDDEN + j];
    }
    dPooled[b * DIM + i] = dx;
  }
}

// The head's outputs, in order: W1 [D, H], b1 [H], W2 [H], b2, then the step's loss sum and correct count.
fn outputs() -> u32 { return DIM * HIDDEN + 2u * HIDDEN + 3u; }

// Output p summed over the batch rows [start, end), in order.
fn outputSum(output: u32, start: u32, end: u32) -> f32 {
  let H = HIDDEN;
  let s = stride();
  var sum = 0.0;
  var p = output;
  if (p < DIM * H) { // W1[i, j] = Σ_b x[b, i] dz1[b, j]
    let i = p / H;
    let j = p % H;
    for (var b = start; b < end; b++) { sum += pooled[b * DIM + i] * samples[b * s + H + j]; }
    return sum;
  }
  p -= DIM * H;
  if (p < H) { // b1[j] = Σ_b dz1[b, j]
    for (var b = start; b < end; b++) { sum += samples[b * s + H + p]; }
    return sum;
  }
  p -= H;
  if (p < H) { // W2[j] = Σ_b h[b, j] dz[b]
    for (var b = start; b < end; b++) { sum += samples[b * s + p] * samples[b * s + 2u * H]; }
    return sum;
  }
  p -= H; // b2 = Σ_b dz[b]; then the loss sum and correct count
  for (var b = start; b < end; b++) { sum += samples[b * s + 2u * H + p]; }
  return sum;
}

fn storeOutput(output: u32, sum: f32) {
  let H = HIDDEN;
  var p = output;
  if (p < DIM * H) { grads[params.kernel1 + p] = sum; return; }
  p -= DIM * H;
  if (p < H) { grads[params.bias1 + p] = sum; return; }
  p -= H;
  if (p < H) { grads[params.kernel2 + p] = sum; return; }
  p -= H;
  if (p == 0u) { grads[params.bias2] = sum; } else { metrics[2u * batch.slot + p - 1u] = sum; }
}

// One invocation per output and piece of the batch's rows (a piece's invocations side by side).
// One piece: the output itself. More: the piece's sum into `partials`, which sumPieces adds up.
@compute @workgroup_size(WORKGROUP_SIZE)
fn gradients(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  let output = i / PIECES;
  if (output >= outputs()) { return; }
  let piece = i % PIECES;
  let per = (batch.rows + PIECES - 1u) / PIECES;
  let sum = outputSum(output, min(piece * per, batch.rows), min((piece + 1u) * per, batch.rows));
  if (PIECES == 1u) { storeOutput(output, sum); } else { partials[piece * outputs() + output] = sum; }
}

// Per output: its pieces' sums in order (gradients with PIECES > 1 runs first).
@compute @workgroup_size(WORKGROUP_SIZE)
fn sumPieces(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let output = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (output >= outputs()) { return; }
  var sum = 0.0;
  for (var k = 0u; k < PIECES; k++) { sum += partials[k * outputs() + output]; }
  storeOutput(output, sum);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn evaluateSample(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let b = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (b >= batch.rows) { return; }
  score(b, logit(b), labels[batch.first + b]);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn metricSums(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let c = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  let start = c * params.chunk; // rows are the pass's
  if (start >= batch.rows) { return; }
  let base = 2u * HIDDEN + 1u;
  var loss = 0.0;
  var correct = 0.0;
  for (var b = start; b < min(start + params.chunk, batch.rows); b++) {
    loss += samples[b * stride() + base];
    correct += samples[b * stride() + base + 1u];
  }
  metrics[2u * (batch.slot + c)] = loss;
  metrics[2u * (batch.slot + c) + 1u] = correct;
}
