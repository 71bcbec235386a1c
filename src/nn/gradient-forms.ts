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
 *               Under a mask_zero mask (GlobalAveragePooling1D over Embedding(mask_zero)) the row
 *               stands for the unmasked steps only, zeros at the others, which are the steps of
 *               id 0 (`ExpandedPadding`): the embedding then gives row 0 no gradient.
 *   factored    a [..., O] gradient F standing for F·Kᵀ [..., I], K [I, O] the kernel of the Dense
 *               layer it came through, left unmultiplied where O < I (src/nn/ops.ts `dense`): a mean
 *               pool hands it on expanded, and the embedding sums O columns per position instead of
 *               I; its row gradient stays factored too ([U, O] sums, RowGradient's `factor`), and
 *               is multiplied by K where a row is used (shaders/row-gradients.wgsl).
 *               Mathematically the same gradient; its float32 rounding differs from the dense
 *               route's (sums of F, then one product, where the dense route sums products). An op
 *               takes it if it says so (`Tape.record`'s `takesFactored`).
 *
 * Everyone else gets the dense gradient (`densify`).
 */
import type { Tensor } from '../gpu/gpu.js';
import type { EmbeddingGradientIndex } from '../kernels/embedding.js';
import { denseInputGradient } from '../kernels/dense.js';
import { broadcastMasked } from '../kernels/masked-mean-pool.js';
import { broadcastSteps } from '../kernels/mean-pool.js';
import { scatterRows } from '../kernels/rows.js';

export interface RowGradient {
  /** Which rows: the index's rowIds, U of them. */
  index: EmbeddingGradientIndex;
  /** The dense gradient's shape: the table's [V, D]. */
  shape: readonly number[];
  /** Frees what the gradient alone uses (an index built for one eager step); nothing for a captured step's. */
  release(): void;
  /** Set when the rows are factored: [U, O] sums whose product with this kernel ᵀ ([D, O]) is each row. */
  factor?: Tensor;
}

const rowGradients = new WeakMap<Tensor, RowGradient>();
/** An expanded gradient's T: the steps its one row per sample stands for. */
const expandedSteps = new WeakMap<Tensor, number>();
/** An expanded gradient that is zero at the masked steps: `mask` [B, T] (0 where masked), the padding mask of `ids` (masked exactly where the id is 0). */
export interface ExpandedPadding {
  mask: Tensor;
  ids: Tensor;
}
const expandedPadding = new WeakMap<Tensor, ExpandedPadding>();
/** A factored gradient's K: the Dense kernel [I, O] it is to be multiplied by (transposed). */
const factors = new WeakMap<Tensor, Tensor>();

export function markRowGradient(gradient: Tensor, info: RowGradient): Tensor {
  rowGradients.set(gradient, info);
  return gradient;
}

export function rowGradientOf(t: Tensor): RowGradient | undefined {
  return rowGradients.get(t);
}

/** `gradient` [B, 1, D] marked as standing for [B, steps, D] (zeros at the masked steps, with `padding`). */
export function markExpanded(gradient: Tensor, steps: number, padding?: ExpandedPadding): Tensor {
  if (gradient.shape.length !== 3 || gradient.shape[1] !== 1) throw new RangeError(`markExpanded: an expanded gradient is [batch, 1, dim], found [${gradient.shape.join(', ')}]`);
  if (padding && (padding.mask.shape[0] !== gradient.shape[0] || padding.mask.shape[1] !== steps)) {
    throw new RangeError(`markExpanded: a mask [${padding.mask.shape.join(', ')}] for [${gradient.shape[0]}, ${steps}] steps`);
  }
  expandedSteps.set(gradient, steps);
  if (padding) expandedPadding.set(gradient, padding);
  return gradient;
}

/** An expanded gradient's padding, if it is zero at masked steps. */
export function expandedPaddingOf(t: Tensor): ExpandedPadding | undefined {
  return expandedPadding.get(t);
}

/** The steps an expanded gradient stands for; 1 for any other tensor (its rows are its own). */
export function expandedStepsOf(t: Tensor): number {
  return expandedSteps.get(t) ?? 1;
}

/** `gradient` [..., O] marked as standing for gradient·kernelᵀ [..., I], `kernel` [I, O]. */
export function markFactored(gradient: Tensor, kernel: Tensor): Tensor {
  const [inputs, units] = kernel.shape;
  if (kernel.shape.length !== 2 || gradient.shape[gradient.shape.length - 1] !== units) {
    throw new RangeError(`markFactored: a factored gradient is [..., ${units}] for a kernel [inputs, ${units}], found [${gradient.shape.join(', ')}] for [${kernel.shape.join(', ')}]`);
  }
  if (!(units < inputs)) throw new RangeError(`markFactored: only a kernel with fewer units than inputs saves work, found [${kernel.shape.join(', ')}]`);
  factors.set(gradient, kernel);
  return gradient;
}

/** The kernel a factored gradient is to be multiplied by; undefined for any other tensor. */
export function factorOf(t: Tensor): Tensor | undefined {
  return factors.get(t);
}

/** Compact forms a consumer takes as they are (densify leaves them). */
export interface KeptForms {
  rows?: boolean;
  expanded?: boolean;
  factored?: boolean;
}

/**
 * `gradient` with every compact form but those in `keep` made dense (a factored one multiplied out,
 * an expanded one broadcast to [B, T, D], a row gradient scattered into [V, D]) and the compact
 * tensor freed; anything else returned as is.
 */
export function densify(gradient: Tensor, keep: KeptForms = {}): Tensor {
  let g = gradient;
  const kernel = factors.get(g);
  if (kernel && !keep.factored) {
    const [steps, padding] = [expandedSteps.get(g), expandedPadding.get(g)];
    const product = denseInputGradient(g.gpu, g, kernel);
    disposeRowGradient(g);
    g = steps === undefined ? product : markExpanded(product, steps, padding);
  }
  const steps = expandedSteps.get(g);
  if (steps !== undefined && !keep.expanded) {
    const padding = expandedPadding.get(g);
    const dense = padding ? broadcastMasked(g.gpu, g, padding.mask) : broadcastSteps(g.gpu, g, steps);
    const factor = factors.get(g);
    disposeRowGradient(g);
    return factor ? markFactored(dense, factor) : dense;
  }
  const info = rowGradients.get(g);
  if (!info || keep.rows) return g;
  const dense = g.gpu.zeros(info.shape);
  scatterRows(g.gpu, info.index, g, dense, info.factor);
  disposeRowGradient(g);
  return dense;
}

/** Free a gradient and, for a row gradient, what it alone uses. */
export function disposeRowGradient(gradient: Tensor): void {
  rowGradients.get(gradient)?.release();
  rowGradients.delete(gradient);
  expandedSteps.delete(gradient);
  expandedPadding.delete(gradient);
  factors.delete(gradient);
  gradient.dispose();
}
