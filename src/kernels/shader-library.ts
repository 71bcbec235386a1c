/**
 * WGSL written once and put in front of the shaders that use it (WGSL has no includes): the
 * binary-classification maths shared by the per-op kernels and the fused classifier head, and the
 * fused step's batch descriptor shared by the embedding-bag and the head.
 */
import batch from '../../shaders/batch.wgsl';
import binaryClassification from '../../shaders/binary-classification.wgsl';

export const BINARY_CLASSIFICATION_WGSL = binaryClassification;
export const BATCH_WGSL = batch;

/** `source` with the shared parts it names in front. */
export function withShared(source: string, ...shared: string[]): string {
  return [...shared, source].join('\n');
}
