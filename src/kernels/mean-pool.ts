/**
 * Global average pooling over the steps axis (Keras GlobalAveragePooling1D without a mask)
 * on the GPU (shaders/mean-pool.wgsl), with plain TypeScript references.
 *
 * Keras computes it as `ops.mean(inputs, axis=1)` when no mask is given
 * (keras/src/layers/pooling/global_average_pooling1d.py), so padding positions count.
 */
import meanPool from '../../shaders/mean-pool.wgsl';
import { linearWorkgroups, type Gpu, type Tensor } from '../gpu/gpu.js';
import { ROW_QUADS_WGSL, withShared } from './shader-library.js';

const source = withShared(meanPool, ROW_QUADS_WGSL);

const WORKGROUP_SIZE = 256;

/** out[b, d] = (Σ_t x[b, t, d]) / T for x [B, T, D]. */
export function meanPoolForward(gpu: Gpu, x: Tensor): Tensor {
  const op = 'meanPoolForward';
  expectF32(op, 'x', x, 3, '[batch, steps, dim]');
  const [batch, steps, dim] = x.shape;
  expectPositive(op, 'steps', steps);
  expectPositive(op, 'dim', dim);
  const out = gpu.empty([batch, dim]);
  // Four columns an invocation where D allows (the same sums, in the same order).
  const [entry, count, bindings] = dim % 4 === 0 ? (['forward4', out.size / 4, { 3: x, 4: out }] as const) : (['forward', out.size, { 1: x, 2: out }] as const);
  gpu.dispatch('mean-pool', source, entry, bindings, linearWorkgroups(count, WORKGROUP_SIZE), new Uint32Array([count, steps, dim, 0, 0]));
  return out;
}

/**
 * The same mean over x = embeddingForward(table, ids) without x: out[b, d] = (Σ_t table[ids[b, t], d]) / T,
 * the same floats bit for bit, reading the rows through the ids (ids outside [0, V) as zero rows).
 * The table must be one binding (a split table's rows are gathered first).
 */
export function meanPoolGatheredForward(gpu: Gpu, table: Tensor, ids: Tensor): Tensor {
  const op = 'meanPoolGatheredForward';
  expectF32(op, 'table', table, 2, '[vocab, dim]');
  if (ids.dtype !== 'i32' || ids.shape.length !== 2) throw new TypeError(`${op}: ids must be i32 [batch, steps], found ${ids.dtype} [${ids.shape.join(', ')}]`);
  const [vocab, dim] = table.shape;
  const [batch, steps] = ids.shape;
  expectPositive(op, 'steps', steps);
  expectPositive(op, 'dim', dim);
  const out = gpu.empty([batch, dim]);
  const [entry, count, bindings] =
    dim % 4 === 0 ? (['forwardGathered4', out.size / 4, { 3: table, 4: out, 5: ids }] as const) : (['forwardGathered', batch * Math.ceil(dim / 4), { 1: table, 2: out, 5: ids }] as const);
  gpu.dispatch('mean-pool', source, entry, bindings, linearWorkgroups(count, WORKGROUP_SIZE), new Uint32Array([count, steps, dim, 0, vocab]));
  return out;
}

/** dx[b, t, d] = dOut[b, d] / T: the gradient of x [B, T, D] given that of the pooled [B, D]. */
export function meanPoolBackward(gpu: Gpu, dOut: Tensor, steps: number): Tensor {
  const op = 'meanPoolBackward';
  expectF32(op, 'dOut', dOut, 2, '[batch, dim]');
  expectPositive(op, 'steps', steps);
  return broadcastRows(op, gpu, dOut, steps, steps);
}

/**
 * The same gradient expanded: its one distinct row per sample, dOut[b, :] / T, as [B, 1, D] (the
 * same floats as every row of `meanPoolBackward`'s). An op that can sum from it directly (the
 * embedding's gradient) reads B·D floats instead of B·T·D; `broadcastSteps` makes it whole.
 */
export function meanPoolBackwardExpanded(gpu: Gpu, dOut: Tensor, steps: number): Tensor {
  const op = 'meanPoolBackwardExpanded';
  expectF32(op, 'dOut', dOut, 2, '[batch, dim]');
  expectPositive(op, 'steps', steps);
  return broadcastRows(op, gpu, dOut, 1, steps);
}

/** x [B, 1, D] repeated over `steps`: [B, steps, D], bit for bit. */
export function broadcastSteps(gpu: Gpu, x: Tensor, steps: number): Tensor {
  const op = 'broadcastSteps';
  expectF32(op, 'x', x, 3, '[batch, 1, dim]');
  expectPositive(op, 'steps', steps);
  if (x.shape[1] !== 1) throw new RangeError(`${op}: x must be f32 [batch, 1, dim], found [${x.shape.join(', ')}]`);
  return broadcastRows(op, gpu, x, steps, 1);
}

/** [B, steps, D] with every row of sample b = rows[b, :] / divisor, for rows [B, D] or [B, 1, D] (shaders/mean-pool.wgsl's backward). */
function broadcastRows(op: string, gpu: Gpu, rows: Tensor, steps: number, divisor: number): Tensor {
  const batch = rows.shape[0];
  const dim = rows.shape[rows.shape.length - 1];
  expectPositive(op, 'dim', dim);
  const out = gpu.empty([batch, steps, dim]);
  // A (b, t) row an invocation, a vec4 at a time where D allows.
  const [entry, bindings] = dim % 4 === 0 ? (['backward4', { 3: rows, 4: out }] as const) : (['backward', { 1: rows, 2: out }] as const);
  const count = batch * steps;
  const params = new Uint32Array([count, steps, dim, 0, 0]);
  new Float32Array(params.buffer)[3] = divisor;
  gpu.dispatch('mean-pool', source, entry, bindings, linearWorkgroups(count, WORKGROUP_SIZE), params);
  return out;
}

/**
 * The mean over steps in the input's precision, summed over t in order then divided, as the
 * GPU does (float32 input: each add rounded to float32).
 */
export function meanPoolReference(x: Float32Array, batch: number, steps: number, dim: number): Float32Array;
export function meanPoolReference(x: Float64Array, batch: number, steps: number, dim: number): Float64Array;
export function meanPoolReference(x: Float32Array | Float64Array, batch: number, steps: number, dim: number): Float32Array | Float64Array {
  const out = x instanceof Float64Array ? new Float64Array(batch * dim) : new Float32Array(batch * dim);
  const round = x instanceof Float64Array ? (v: number) => v : Math.fround;
  for (let b = 0; b < batch; b++) {
    for (let d = 0; d < dim; d++) {
      let sum = 0;
      for (let t = 0; t < steps; t++) sum = round(sum + x[(b * steps + t) * dim + d]);
      out[b * dim + d] = sum / steps;
    }
  }
  return out;
}

export function meanPoolBackwardReference(dOut: Float32Array, batch: number, steps: number, dim: number): Float32Array {
  const dx = new Float32Array(batch * steps * dim);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < steps; t++) {
      for (let d = 0; d < dim; d++) dx[(b * steps + t) * dim + d] = dOut[b * dim + d] / steps;
    }
  }
  return dx;
}

function expectF32(op: string, name: string, t: Tensor, rank: number, shape: string): void {
  const found = `${t.dtype} [${t.shape.join(', ')}]`;
  if (t.dtype !== 'f32') throw new TypeError(`${op}: ${name} must be f32 ${shape}, found ${found}`);
  if (t.shape.length !== rank) throw new RangeError(`${op}: ${name} must be f32 ${shape}, found ${found}`);
}

function expectPositive(op: string, name: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${op}: ${name} must be a positive integer, found ${n}`);
}
