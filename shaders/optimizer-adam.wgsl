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

struct AdamStep {
  w: vec4f,
  m: vec4f,
  v: vec4f,
}

// One Adam step of four weights: the maths both entry points run.
fn adamStep(w0: vec4f, g: vec4f, m0: vec4f, v0: vec4f) -> AdamStep {
  let w = decayed(w0, params.weightDecay, params.learningRate, params.decayWeights);
  let m = m0 + (g - m0) * params.oneMinusBeta1;
  let v = v0 + (g * g - v0) * params.oneMinusBeta2;
  return AdamStep(w - (m * params.alpha) / (sqrt(v) + params.epsilon), m, v);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn adam(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = vec4Index(gid, nwg);
  if (i >= arrayLength(&weights)) { return; }
  let step = adamStep(weights[i], grads[i], momentum[i], velocity[i]);
  momentum[i] = step.m;
  velocity[i] = step.v;
  weights[i] = step.w;
}

// LazyAdam's row-sparse update (src/nn/optimizers/lazy-adam.ts), in place: the rows of one table chunk
// that a batch touched, from its row gradient (row u for table row rowIds[u], src/nn/gradient-forms.ts;
// stored or factored, as shaders/row-gradients.wgsl reads it),
// with the same step as `adam`. Rows need not start on a vec4 (D = 50), so an invocation loads each four
// columns of its row one by one and stores those that exist. One invocation per row u of the index's
// room (rowSpec[0]; SwiftShader pays for every invocation, and the room can be far past the batch's U),
// dispatched as linearWorkgroups(rowSpec[0], WORKGROUP_SIZE).
@group(0) @binding(5) var<storage, read_write> tableRows: array<f32>;    // the chunk [rows, D]
@group(0) @binding(6) var<storage, read> gradientRows: array<f32>;       // [capacity, D or O] the row gradient (row-gradients.wgsl)
@group(0) @binding(7) var<storage, read_write> momentumRows: array<f32>; // the momentum slot's same chunk
@group(0) @binding(8) var<storage, read_write> velocityRows: array<f32>; // the velocity slot's same chunk
@group(0) @binding(9) var<storage, read> rowIds: array<i32>;             // [capacity] ascending table rows
@group(0) @binding(10) var<storage, read> uniqueCount: array<i32>;       // [1] U: rows in use
@group(0) @binding(11) var<storage, read> rowSpec: array<u32>;           // [invocations, D, firstRow, rows]

@compute @workgroup_size(WORKGROUP_SIZE)
fn adamRows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let u = vec4Index(gid, nwg);
  if (u >= rowSpec[0] || u >= u32(uniqueCount[0])) { return; }
  let id = u32(rowIds[u]);
  let dim = rowSpec[1];
  let firstRow = rowSpec[2];
  if (id < firstRow || id >= firstRow + rowSpec[3]) { return; }
  let at = (id - firstRow) * dim;
  // Whole quads of the row, then the last one's columns that exist (lanes past D stay zero:
  // computed, never stored). Loads and stores name their lanes: a vector indexed by a loop
  // variable costs SwiftShader a trip through memory.
  var column = 0u;
  for (; column + 4u <= dim; column += 4u) {
    let c = at + column;
    let step = adamStep(
      vec4f(tableRows[c], tableRows[c + 1u], tableRows[c + 2u], tableRows[c + 3u]),
      rowGradientQuad(u, column, dim),
      vec4f(momentumRows[c], momentumRows[c + 1u], momentumRows[c + 2u], momentumRows[c + 3u]),
      vec4f(velocityRows[c], velocityRows[c + 1u], velocityRows[c + 2u], velocityRows[c + 3u]),
    );
    tableRows[c] = step.w.x; tableRows[c + 1u] = step.w.y; tableRows[c + 2u] = step.w.z; tableRows[c + 3u] = step.w.w;
    momentumRows[c] = step.m.x; momentumRows[c + 1u] = step.m.y; momentumRows[c + 2u] = step.m.z; momentumRows[c + 3u] = step.m.w;
    velocityRows[c] = step.v.x; velocityRows[c + 1u] = step.v.y; velocityRows[c + 2u] = step.v.z; velocityRows[c + 3u] = step.v.w;
  }
  if (column < dim) {
    let lanes = dim - column;
    var w = vec4f(0.0);
    let g = rowGradientQuad(u, column, dim);
    var m = vec4f(0.0);
    var v = vec4f(0.0);
    for (var k = 0u; k < lanes; k++) {
      w[k] = tableRows[at + column + k];
      m[k] = momentumRows[at + column + k];
      v[k] = velocityRows[at + column + k];
    }
    let step = adamStep(w, g, m, v);
    for (var k = 0u; k < lanes; k++) {
      tableRows[at + column + k] = step.w[k];
      momentumRows[at + column + k] = step.m[k];
      velocityRows[at + column + k] = step.v[k];
    }
  }
}
