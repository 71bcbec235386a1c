/**
 * Gradients held in a compact form that stands for a larger dense one, so that no kernel does work in
 * proportion to what the compact form leaves out:
 *
 *   row-sparse  an embedding table's gradient as only the rows its batch touched (row u of the
 *               gradient tensor is the gradient of table row rowIds[u], src/kernels/embedding.ts
 *               `embeddingBackwardRows`): neither the gradient nor, with a lazy optimizer, the update
 *               grows with the table. Whoever takes such a gradient asks for it (`Tape.gradients`
 *               with `rowGradients`).
 *   expanded    a [B, 1, D] gradient standing for [B, T, D] with the same row at every step, as
 *               GlobalAveragePooling1D's gradient is (src/kernels/mean-pool.ts
 *               `meanPoolBackwardExpanded`): the embedding sums from it directly. An op takes it only
 *               if it says so when it records itself on the tape (`Tape.record`'s `takesExpanded`).
 *
 * Everyone else gets the dense gradient (`densify`).
 */
import type { Tensor } from '../gpu/gpu.js';
import type { EmbeddingGradientIndex } from '../kernels/embedding.js';
import { broadcastSteps } from '../kernels/mean-pool.js';
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
/** An expanded gradient's T: the steps its one row per sample stands for. */
const expandedSteps = new WeakMap<Tensor, number>();

export function markRowGradient(gradient: Tensor, info: RowGradient): Tensor {
  rowGradients.set(gradient, info);
  return gradient;
}

export function rowGradientOf(t: Tensor): RowGradient | undefined {
  return rowGradients.get(t);
}

/** `gradient` [B, 1, D] marked as standing for [B, steps, D]. */
export function markExpanded(gradient: Tensor, steps: number): Tensor {
  if (gradient.shape.length !== 3 || gradient.shape[1] !== 1) throw new RangeError(`markExpanded: an expanded gradient is [batch, 1, dim], found [${gradient.shape.join(', ')}]`);
  expandedSteps.set(gradient, steps);
  return gradient;
}

/** The steps an expanded gradient stands for; 1 for any other tensor (its rows are its own). */
export function expandedStepsOf(t: Tensor): number {
  return expandedSteps.get(t) ?? 1;
}

/** `gradient` dense (a row gradient scattered into [V, D], an expanded one broadcast to [B, T, D]) and the compact form freed; anything else returned as is. */
export function densify(gradient: Tensor): Tensor {
  const steps = expandedSteps.get(gradient);
  if (steps !== undefined) {
    const dense = broadcastSteps(gradient.gpu, gradient, steps);
    expandedSteps.delete(gradient);
    gradient.dispose();
    return dense;
  }
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
  expandedSteps.delete(gradient);
  gradient.dispose();
}
