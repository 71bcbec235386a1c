/**
 * One optimizer update over flat buffers (the parameter store's shards): the optimizer's WGSL entry point
 * (src/nn/optimizers, shaders/optimizer-*.wgsl) bound to the weights (binding 1), their gradients (2) and
 * the optimizer's slots (3.., in `slotNames` order), four elements per invocation. Its plain TypeScript
 * reference is `optimizer.reference`.
 */
import { linearWorkgroups, type Gpu, type PreparedDispatch, type Tensor } from '../gpu/gpu.js';
import type { Optimizer } from '../nn/optimizers/index.js';
import type { EmbeddingGradientIndex } from './embedding.js';
import { factorUnits } from './rows.js';

const WORKGROUP_SIZE = 256;
/** Elements one invocation updates (a vec4). */
const ELEMENTS_PER_INVOCATION = 4;

export interface OptimizerBuffers {
  weights: Tensor;
  grads: Tensor;
  /** One per `optimizer.slotNames`, in that order. */
  slots: readonly Tensor[];
}

/** Buffers in binding order (1: weights, 2: grads, 3..: slots), after checking they fit the optimizer. */
function bindingsOf(op: string, optimizer: Optimizer, { weights, grads, slots }: OptimizerBuffers): Tensor[] {
  if (slots.length !== optimizer.slotNames.length) {
    throw new RangeError(`${op}: ${optimizer.name} takes ${optimizer.slotNames.length} slots (${optimizer.slotNames.join(', ') || 'none'}), found ${slots.length}`);
  }
  const named: [string, Tensor][] = [['weights', weights], ['grads', grads], ...slots.map((s, k): [string, Tensor] => [`slot ${optimizer.slotNames[k]}`, s])];
  for (const [name, t] of named) {
    if (t.dtype !== 'f32') throw new RangeError(`${op}: ${name} must be f32, found ${t.dtype}`);
    if (t.size !== weights.size) throw new RangeError(`${op}: ${name} holds ${t.size} elements, weights ${weights.size}`);
  }
  if (weights.size % ELEMENTS_PER_INVOCATION !== 0) throw new RangeError(`${op}: ${weights.size} elements is not a multiple of ${ELEMENTS_PER_INVOCATION} (pad the buffer)`);
  return named.map(([, t]) => t);
}

/** The pipeline's cache name: one module per optimizer class (AdamW compiles apart from Adam, same source). */
function shaderName(optimizer: Optimizer): string {
  return `optimizer-${optimizer.name}`;
}

/**
 * The update prepared once over whole tensors (each one binding, size a multiple of 4): the shader takes
 * the length from the binding, so one `uniform` (filled with `optimizer.params(iterations)` before each
 * use) serves every shard.
 */
export function prepareOptimizerUpdate(gpu: Gpu, optimizer: Optimizer, buffers: OptimizerBuffers, uniform: GPUBuffer): Promise<PreparedDispatch> {
  const bindings = bindingsOf('prepareOptimizerUpdate', optimizer, buffers);
  const workgroups = linearWorkgroups(buffers.weights.size / ELEMENTS_PER_INVOCATION, WORKGROUP_SIZE);
  return gpu.prepare(shaderName(optimizer), optimizer.shader, optimizer.entryPoint, bindings, workgroups, uniform);
}

/**
 * Record one update now (tests and eager use): the uniform for the update that follows `iterations`
 * updates. The caller counts the step (`optimizer.iterations`).
 */
export function optimizerUpdate(gpu: Gpu, optimizer: Optimizer, weights: Tensor, grads: Tensor, slots: readonly Tensor[], iterations: number | GPUBuffer): void {
  const bindings = bindingsOf('optimizerUpdate', optimizer, { weights, grads, slots });
  const workgroups = linearWorkgroups(weights.size / ELEMENTS_PER_INVOCATION, WORKGROUP_SIZE);
  // A uniform buffer (the parameter store's, filled before each step) is bound as it is.
  const params = typeof iterations === 'number' ? optimizer.params(iterations) : iterations;
  gpu.dispatch(shaderName(optimizer), optimizer.shader, optimizer.entryPoint, bindings, workgroups, params);
}

/**
 * A row-sparse optimizer's update (`optimizer.rowsEntryPoint`) of an embedding table [V, D] and its slots,
 * in place, from its row gradient (row u of `gradient` for table row rowIds[u] of `index`): rows the batch
 * did not touch are not read or written. One dispatch per chunk of a split table (its slots are split
 * alike), one invocation per row of the index's room. Bindings: 0 the optimizer's
 * uniform, 5 the table chunk, 6 the row gradient, 7.. the slots' chunks in `slotNames` order, then the
 * index's rowIds, its U, and [invocations, D, the chunk's first row, its rows], and 15 the factor
 * (its O the pipeline constant FACTOR_UNITS).
 * `factor` K [D, O]: the row gradient is factored (shaders/row-gradients.wgsl), [U, O] sums times Kᵀ.
 */
export function optimizerRowUpdate(gpu: Gpu, optimizer: Optimizer, table: Tensor, slots: readonly Tensor[], gradient: Tensor, index: EmbeddingGradientIndex, iterations: number | GPUBuffer, factor?: Tensor): void {
  const op = 'optimizerRowUpdate';
  const entry = optimizer.rowsEntryPoint;
  if (!entry) throw new RangeError(`${op}: ${optimizer.className} has no row-sparse update`);
  if (slots.length !== optimizer.slotNames.length) throw new RangeError(`${op}: ${optimizer.name} takes ${optimizer.slotNames.length} slots, found ${slots.length}`);
  if (table.shape.length !== 2) throw new RangeError(`${op}: the table must be [vocab, dim], found [${table.shape.join(', ')}]`);
  const dim = table.shape[1];
  const units = factorUnits(op, factor, dim);
  if (gradient.size < index.uniqueCount * (units || dim)) throw new RangeError(`${op}: a row gradient of ${gradient.size} values for ${index.uniqueCount} rows of ${units || dim}`);
  const invocations = index.uniqueCount; // a row each
  const params = typeof iterations === 'number' ? optimizer.params(iterations) : iterations;
  const after = 7 + slots.length;
  table.chunks.forEach((chunk, c) => {
    const slotChunks = slots.map((slot, k) => {
      const s = slot.chunks[c];
      if (slot.size !== table.size || s?.firstRow !== chunk.firstRow || s.rows !== chunk.rows) throw new RangeError(`${op}: slot ${optimizer.slotNames[k]} is not split as the table is`);
      return s;
    });
    const spec = gpu.upload(Int32Array.of(invocations, dim, chunk.firstRow, chunk.rows));
    // The factor's binding is in the layout either way (any buffer when unread).
    const bindings = { 5: chunk, 6: gradient, ...Object.fromEntries(slotChunks.map((s, k) => [7 + k, s])), [after]: index.rowIds, [after + 1]: index.uniqueCountTensor, [after + 2]: spec, 15: factor ?? gradient };
    gpu.dispatch(shaderName(optimizer), optimizer.shader, entry, bindings, linearWorkgroups(invocations, WORKGROUP_SIZE), params, { FACTOR_UNITS: units });
    spec.dispose();
  });
}
