/**
 * Rows of a table picked by an embedding-gradient index (shaders/rows.wgsl): gathered into a compact
 * buffer whose row u is the table's row rowIds[u], or scattered back. The row-sparse gradient of an
 * embedding and the row-sparse ("lazy") optimizer update are made of them. Plain TypeScript references
 * beside the kernels.
 */
import source from '../../shaders/rows.wgsl';
import { linearWorkgroups, type Gpu, type Tensor } from '../gpu/gpu.js';
import type { EmbeddingGradientIndex } from './embedding.js';

const WORKGROUP_SIZE = 256;

/** The ids and their count the row kernels read: an index's rowIds and U. */
type RowSelection = Pick<EmbeddingGradientIndex, 'rowIds' | 'uniqueCountTensor' | 'uniqueCount'>;

function dispatchRows(gpu: Gpu, entry: 'gather' | 'scatter', rows: RowSelection, compact: Tensor, table: Tensor): void {
  const [, dim = 1] = table.shape.length === 2 ? table.shape : [0, 1];
  const count = rows.uniqueCount; // a row an invocation
  if (compact.size < count * dim) throw new RangeError(`rows ${entry}: a compact buffer of ${compact.size} elements for ${rows.uniqueCount} rows of ${dim}`);
  if (count === 0) return;
  for (const chunk of table.chunks) {
    const params = Uint32Array.of(count, dim, chunk.firstRow, chunk.rows);
    gpu.dispatch('rows', source, entry, { 1: rows.rowIds, 2: rows.uniqueCountTensor, 3: compact, 4: chunk }, linearWorkgroups(count, WORKGROUP_SIZE), params);
  }
}

/** compact[u, :] = table[rowIds[u], :] for u < U; `table` is [V, D], split or not; other rows of `compact` are left alone. */
export function gatherRows(gpu: Gpu, rows: RowSelection, table: Tensor, compact: Tensor): void {
  dispatchRows(gpu, 'gather', rows, compact, table);
}

/** table[rowIds[u], :] = compact[u, :] for u < U; the table's other rows are left alone. */
export function scatterRows(gpu: Gpu, rows: RowSelection, compact: Tensor, table: Tensor): void {
  dispatchRows(gpu, 'scatter', rows, compact, table);
}

/** The same moves on the host: `table` [V, D] flat, `rowIds` the first U used. */
export function gatherRowsReference(table: Float32Array, rowIds: Int32Array, dim: number): Float32Array {
  const out = new Float32Array(rowIds.length * dim);
  rowIds.forEach((id, u) => out.set(table.subarray(id * dim, (id + 1) * dim), u * dim));
  return out;
}

export function scatterRowsReference(table: Float32Array, rowIds: Int32Array, compact: Float32Array, dim: number): void {
  rowIds.forEach((id, u) => table.set(compact.subarray(u * dim, (u + 1) * dim), id * dim));
}
