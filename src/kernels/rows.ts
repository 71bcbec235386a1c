/**
 * Rows of a compact buffer whose row u belongs to a table's row rowIds[u] (an embedding-gradient index)
 * scattered into the table (shaders/rows.wgsl): how a row-sparse gradient becomes a dense one for Keras'
 * optimizers (src/nn/gradient-forms.ts `densify`). The plain TypeScript reference beside it.
 */
import source from '../../shaders/rows.wgsl';
import { linearWorkgroups, type Gpu, type Tensor } from '../gpu/gpu.js';
import type { EmbeddingGradientIndex } from './embedding.js';

const WORKGROUP_SIZE = 256;

/** The ids and their count the row kernels read: an index's rowIds and U. */
type RowSelection = Pick<EmbeddingGradientIndex, 'rowIds' | 'uniqueCountTensor' | 'uniqueCount'>;

/** table[rowIds[u], :] = compact[u, :] for u < U; the table's other rows are left alone. */
export function scatterRows(gpu: Gpu, rows: RowSelection, compact: Tensor, table: Tensor): void {
  const [, dim = 1] = table.shape.length === 2 ? table.shape : [0, 1];
  const count = rows.uniqueCount; // a row an invocation
  if (compact.size < count * dim) throw new RangeError(`scatterRows: a compact buffer of ${compact.size} elements for ${rows.uniqueCount} rows of ${dim}`);
  if (count === 0) return;
  for (const chunk of table.chunks) {
    const params = Uint32Array.of(count, dim, chunk.firstRow, chunk.rows);
    gpu.dispatch('rows', source, 'scatter', { 1: rows.rowIds, 2: rows.uniqueCountTensor, 3: compact, 4: chunk }, linearWorkgroups(count, WORKGROUP_SIZE), params);
  }
}

export function scatterRowsReference(table: Float32Array, rowIds: Int32Array, compact: Float32Array, dim: number): void {
  rowIds.forEach((id, u) => table.set(compact.subarray(u * dim, (u + 1) * dim), id * dim));
}
