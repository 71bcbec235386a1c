/**
 * WGSL written once and put in front of the shaders that use it (WGSL has no includes): the
 * binary-classification maths shared by the per-op kernels and the fused classifier head, and the
 * fused step's batch descriptor shared by the embedding-bag and the head, and the values of a
 * row-sparse gradient (stored or factored) shared by its scatter and the optimizers' row updates.
 */
import batch from '../../shaders/batch.wgsl';
import binaryClassification from '../../shaders/binary-classification.wgsl';
import rowGradients from '../../shaders/row-gradients.wgsl';
import rowQuads from '../../shaders/row-quads.wgsl';

export const BINARY_CLASSIFICATION_WGSL = binaryClassification;
export const BATCH_WGSL = batch;
/** How a row-sparse gradient's values are read, stored or factored (rows.wgsl, the optimizers' row updates). */
export const ROW_GRADIENTS_WGSL = rowGradients;
/** Four columns of a row at a time, lanes named (the mean pools through the ids). */
export const ROW_QUADS_WGSL = rowQuads;

/** `source` with the shared parts it names in front. */
export function withShared(source: string, ...shared: string[]): string {
  return [...shared, source].join('\n');
}
