/**
 * Row-sparse gradients: an embedding table's gradient as only the rows its batch touched (row u of the
 * gradient tensor is the gradient of table row rowIds[u], src/kernels/embedding.ts
 * `embeddingBackwardRows`), so that neither the gradient nor, with a lazy optimizer, the update does
 * work in proportion to the table. Whoever takes such a gradient asks for it (`Tape.gradients` with
 * `rowGradients`); everyone else gets it dense (`densify`).
 */
import type { Tensor } from '../gpu/gpu.js';
import type { EmbeddingGradientIndex } from '../kernels/embedding.js';
import { scatterRows } from '../kernels/rows.js';

export interface RowGradient {
  /** Which rows: the index's rowIds, U of them. */
  index: EmbeddingGradientIndex;
  /** The dense gradient's shape: the table's [V, D]. */
  shape: readonly number[];
  /** Frees what the gradient alone uses (an index built for one eager step); nothing for a captured step's. */
  release(): void;
}

const rowGradients = new WeakMap<Tensor, RowGradient>();

export function markRowGradient(gradient: Tensor, info: RowGradient): Tensor {
  rowGradients.set(gradient, info);
  return gradient;
}

export function rowGradientOf(t: Tensor): RowGradient | undefined {
  return rowGradients.get(t);
}

/** `gradient` dense ([V, D], zero outside its rows); a row gradient is freed, anything else returned as is. */
export function densify(gradient: Tensor): Tensor {
  const info = rowGradients.get(gradient);
  if (!info) return gradient;
  const dense = gradient.gpu.zeros(info.shape);
  scatterRows(gradient.gpu, info.index, gradient, dense);
  disposeRowGradient(gradient);
  return dense;
}

/** Free a gradient and, for a row gradient, what it alone uses. */
export function disposeRowGradient(gradient: Tensor): void {
  rowGradients.get(gradient)?.release();
  rowGradients.delete(gradient);
  gradient.dispose();
}
