/**
 * Rows of a compact buffer whose row u belongs to a table's row rowIds[u] (an embedding-gradient index)
 * scattered into the table (shaders/rows.wgsl): how a row-sparse gradient becomes a dense one for Keras'
 * optimizers (src/nn/gradient-forms.ts `densify`). The plain TypeScript reference beside it.
 */
import source from '../../shaders/rows.wgsl';
import { linearWorkgroups, type Gpu, type Tensor } from '../gpu/gpu.js';
import type { EmbeddingGradientIndex } from './embedding.js';
import { ROW_GRADIENTS_WGSL, withShared } from './shader-library.js';

const SHADER = withShared(source, ROW_GRADIENTS_WGSL);

const WORKGROUP_SIZE = 256;

/** The ids and their count the row kernels read: an index's rowIds and U. */
type RowSelection = Pick<EmbeddingGradientIndex, 'rowIds' | 'uniqueCountTensor' | 'uniqueCount'>;

/**
 * table[rowIds[u], :] = compact[u, :] for u < U; the table's other rows are left alone. With `factor`
 * K [D, O], compact holds a factored gradient's [U, O] sums and row u is compact[u, :]·Kᵀ
 * (shaders/row-gradients.wgsl).
 */
export function scatterRows(gpu: Gpu, rows: RowSelection, compact: Tensor, table: Tensor, factor?: Tensor): void {
  const [, dim = 1] = table.shape.length === 2 ? table.shape : [0, 1];
  const units = factorUnits('scatterRows', factor, dim);
  const count = rows.uniqueCount; // a row an invocation
  if (compact.size < count * (units || dim)) throw new RangeError(`scatterRows: a compact buffer of ${compact.size} elements for ${rows.uniqueCount} rows of ${units || dim}`);
  if (count === 0) return;
  for (const chunk of table.chunks) {
    const params = Uint32Array.of(count, dim, chunk.firstRow, chunk.rows);
    // The factor's binding is in the layout either way (any buffer when unread).
    const bindings = { 1: rows.rowIds, 2: rows.uniqueCountTensor, 3: compact, 4: chunk, 15: factor ?? compact };
    gpu.dispatch('rows', SHADER, 'scatter', bindings, linearWorkgroups(count, WORKGROUP_SIZE), params, { FACTOR_UNITS: units });
  }
}

/** O, the width of a factored gradient's rows for `factor` K [D, O] (checked against D), or 0 for none. */
export function factorUnits(op: string, factor: Tensor | undefined, dim: number): number {
  if (!factor) return 0;
  if (factor.shape.length !== 2 || factor.shape[0] !== dim) throw new RangeError(`${op}: a factored gradient's kernel must be [${dim}, units], found [${factor.shape.join(', ')}]`);
  return factor.shape[1];
}

/** The rows a row-sparse gradient stands for: `compact` [U, D] as it is, or [U, O] sums times `factor`ᵀ ([D, O]), added from j = 0 up in float32 as on the GPU (shaders/row-gradients.wgsl). */
export function rowGradientReference(compact: Float32Array, uniqueCount: number, dim: number, factor?: Float32Array): Float32Array {
  if (!factor) return compact.slice(0, uniqueCount * dim);
  const units = factor.length / dim;
  const rows = new Float32Array(uniqueCount * dim);
  for (let u = 0; u < uniqueCount; u++) {
    for (let d = 0; d < dim; d++) {
      let acc = Math.fround(compact[u * units] * factor[d * units]);
      for (let j = 1; j < units; j++) acc = Math.fround(acc + Math.fround(compact[u * units + j] * factor[d * units + j]));
      rows[u * dim + d] = acc;
    }
  }
  return rows;
}

export function scatterRowsReference(table: Float32Array, rowIds: Int32Array, compact: Float32Array, dim: number, factor?: Float32Array): void {
  const rows = rowGradientReference(compact, rowIds.length, dim, factor);
  rowIds.forEach((id, u) => table.set(rows.subarray(u * dim, (u + 1) * dim), id * dim));
}
