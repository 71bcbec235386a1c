/**
 * The differentiable ops: each runs its forward kernel and records, right beside
 * it, how its inputs' gradients follow from its output's (micrograd's layout).
 * Every kernel lives in src/kernels with its WGSL in shaders/.
 */
import type { Tensor } from '../gpu/gpu.js';
import { bceBackward, bceForward, bceFromLogitsBackward, bceFromLogitsForward } from '../kernels/binary-crossentropy.js';
import { conv1dForward, conv1dInputGradient, conv1dKernelGradient, type Conv1DPadding } from '../kernels/conv1d.js';
import { denseBiasGradient, denseForward, denseInputGradient, denseKernelGradient } from '../kernels/dense.js';
import { dropoutForward, type DropoutSettings } from '../kernels/dropout.js';
import { embeddingBackwardRows, embeddingForward, embeddingGradientIndex, uploadEmbeddingGradientIndex, type EmbeddingGradientIndex } from '../kernels/embedding.js';
import { densify, expandedPaddingOf, expandedStepsOf, factorOf, markExpanded, markFactored, markRowGradient } from './gradient-forms.js';
import { maskedMeanPoolBackward, maskedMeanPoolBackwardExpanded, maskedMeanPoolForward, maskedMeanPoolGatheredForward } from '../kernels/masked-mean-pool.js';
import { maxPoolBackward, maxPoolForward } from '../kernels/max-pool.js';
import { meanPoolBackwardExpanded, meanPoolForward, meanPoolGatheredForward } from '../kernels/mean-pool.js';
import { paddingMaskForward } from '../kernels/padding-mask.js';
import { reluBackward, reluForward } from '../kernels/relu.js';
import { sigmoidBackward, sigmoidForward } from '../kernels/sigmoid.js';
import { Tape } from './tape.js';

/**
 * Sigmoid outputs and the logits they came from. Keras' TensorFlow backend keeps
 * the same link (`output._keras_logits`, keras/src/backend/tensorflow/nn.py) so that
 * binary_crossentropy can work from the logits, stably and without clipping.
 */
const logitsOf = new WeakMap<Tensor, Tensor>();

/**
 * An embedding's output and the table and ids it gathers from. The gather is deferred (Tensor.defer):
 * a mean pool reads the rows through the ids and never writes the [B, T, D] output; any other reader
 * binds it, which records the gather first.
 */
const gatheredFrom = new WeakMap<Tensor, { table: Tensor; ids: Tensor }>();

/** A padding mask and the ids it was made from (masked exactly where the id is 0). */
const paddingOf = new WeakMap<Tensor, Tensor>();

/**
 * Rows of `table` picked by `ids` ([B, T] i32). The gradient groups the batch's positions by id:
 * from `grouping`, the same ids on the host (the index is built and uploaded when the backward
 * runs), or an index already on the GPU (a captured step fills it before each replay).
 */
export function embedding(table: Tensor, ids: Tensor, grouping?: Int32Array | EmbeddingGradientIndex): Tensor {
  const gpu = table.gpu;
  const [vocabSize, dim] = table.shape;
  const out = embeddingForward(gpu, table, ids, { deferred: true });
  gatheredFrom.set(out, { table, ids });
  Tape.record(out, [table, ids], (dOut) => {
    if (!grouping) throw new Error('embedding: a gradient needs the ids on the host or a gradient index (TokenBatch.hostIds or gradientIndex)');
    const built = grouping instanceof Int32Array ? uploadEmbeddingGradientIndex(gpu, embeddingGradientIndex(grouping, vocabSize)) : null;
    const index = built ?? (grouping as EmbeddingGradientIndex);
    // Row-sparse: only the batch's distinct ids (gradient-forms.ts); dense for whoever does not ask for rows.
    // dOut may come expanded (one row per sample, from GlobalAveragePooling1D) and factored (a narrower
    // Dense's gradient, not yet multiplied by its kernel): summed from directly. Expanded under this
    // embedding's own padding mask, it stands for zeros at id 0's steps: row 0 gets none.
    const padding = expandedPaddingOf(dOut);
    const g = padding && padding.ids !== ids ? densify(dOut, { factored: true }) : dOut;
    const factor = factorOf(g);
    const rows = embeddingBackwardRows(gpu, g, index, vocabSize, dim, expandedStepsOf(g), factor, { zeroId0: padding?.ids === ids });
    if (g !== dOut) g.dispose();
    return [markRowGradient(rows, { index, shape: table.shape, release: () => built?.dispose(), factor }), null];
  }, { takesExpanded: true, takesFactored: true });
  return out;
}

/**
 * Mean over axis 1 of [B, T, D]: GlobalAveragePooling1D without a mask (padding counts). Its gradient
 * is the same row at every step, so it is handed on expanded (gradient-forms.ts): [B, 1, D]; a
 * factored one stays factored ([B, 1, O]).
 */
export function meanPool(x: Tensor): Tensor {
  const gathered = x.isDeferred ? gatheredFrom.get(x) : undefined;
  // Rows through their ids where the table is one binding (the same floats); else x, gathered.
  const out = gathered && gathered.table.chunks.length === 1 ? meanPoolGatheredForward(x.gpu, gathered.table, gathered.ids) : meanPoolForward(x.gpu, x);
  const steps = x.shape[1];
  Tape.record(out, [x], (dOut) => {
    const expanded = markExpanded(meanPoolBackwardExpanded(x.gpu, dOut, steps), steps);
    const kernel = factorOf(dOut);
    return [kernel ? markFactored(expanded, kernel) : expanded];
  }, { takesFactored: true });
  return out;
}

/**
 * Keras' `mask_zero` mask of `ids` ([B, T] i32): f32 [B, T], 1 for a token, 0 for padding (id 0).
 * It has no gradient; it is recorded only so that the tape frees it with the step's outputs.
 */
export function paddingMask(ids: Tensor): Tensor {
  const mask = paddingMaskForward(ids.gpu, ids);
  paddingOf.set(mask, ids);
  Tape.record(mask, [ids], () => [null]);
  return mask;
}

/**
 * Mean over the unmasked steps of [B, T, D] (`mask` [B, T] f32 0/1): GlobalAveragePooling1D given a
 * mask. Given Embedding(mask_zero)'s own padding mask, the rows are read through the ids (the
 * embedding's output stays unwritten) and the gradient goes on expanded, zero at the padding
 * (gradient-forms.ts), factored if it came so.
 */
export function maskedMeanPool(x: Tensor, mask: Tensor): Tensor {
  const gpu = x.gpu;
  const ids = paddingOf.get(mask);
  const gathered = gatheredFrom.get(x);
  const viaIds = x.isDeferred && gathered !== undefined && gathered.ids === ids && gathered.table.chunks.length === 1;
  const out = viaIds ? maskedMeanPoolGatheredForward(gpu, gathered.table, gathered.ids) : maskedMeanPoolForward(gpu, x, mask);
  if (!ids) {
    Tape.record(out, [x, mask], (dOut) => [maskedMeanPoolBackward(gpu, dOut, mask, x.shape[2]), null]);
    return out;
  }
  Tape.record(out, [x, mask], (dOut) => {
    const shares = markExpanded(maskedMeanPoolBackwardExpanded(gpu, dOut, mask), x.shape[1], { mask, ids });
    const kernel = factorOf(dOut);
    return [kernel ? markFactored(shares, kernel) : shares, null];
  }, { takesFactored: true });
  return out;
}

/** Max over axis 1 of [B, T, D] (GlobalMaxPooling1D); ties share the gradient, as TensorFlow's reduce_max. */
export function maxPool(x: Tensor): Tensor {
  const out = maxPoolForward(x.gpu, x);
  Tape.record(out, [x], (dOut) => [maxPoolBackward(x.gpu, x, out, dOut)]);
  return out;
}

/**
 * Keras' inverted dropout with the mask of training step `step` (i32 [1], read on the GPU).
 * The gradient is the same mask and scale applied to dOut.
 */
export function dropout(x: Tensor, step: Tensor, settings: DropoutSettings): Tensor {
  const out = dropoutForward(x.gpu, x, step, settings);
  Tape.record(out, [x, step], (dOut) => [dropoutForward(x.gpu, dOut, step, settings), null]);
  return out;
}

/** Conv1D (strides 1, channels last): x [B, T, C], kernel [K, C, F] as Keras stores it, bias [F] or null. */
export function conv1d(x: Tensor, kernel: Tensor, bias: Tensor | null, padding: Conv1DPadding): Tensor {
  const gpu = x.gpu;
  const out = conv1dForward(gpu, x, kernel, bias, padding);
  const inputs = bias ? [x, kernel, bias] : [x, kernel];
  Tape.record(out, inputs, (dOut) => [
    conv1dInputGradient(gpu, dOut, kernel, x.shape[1], padding),
    conv1dKernelGradient(gpu, x, dOut, kernel.shape[0], padding),
    ...(bias ? [denseBiasGradient(gpu, dOut)] : []),
  ]);
  return out;
}

/**
 * x·kernel + bias on the last axis of x [..., I] (any rank >= 2, as Keras' Dense), kernel [I, O] as
 * Keras stores it, bias [O]. With fewer units than inputs, x's gradient dOut·kernelᵀ is handed on
 * factored (gradient-forms.ts): dOut itself, multiplied out only where a reader needs it dense.
 */
export function dense(x: Tensor, kernel: Tensor, bias: Tensor): Tensor {
  const gpu = x.gpu;
  const out = denseForward(gpu, x, kernel, bias);
  const [inputs, units] = kernel.shape;
  Tape.record(out, [x, kernel, bias], (dOut) => [
    units < inputs ? markFactored(dOut, kernel) : denseInputGradient(gpu, dOut, kernel),
    denseKernelGradient(gpu, x, dOut),
    denseBiasGradient(gpu, dOut),
  ]);
  return out;
}

export function relu(x: Tensor): Tensor {
  const out = reluForward(x.gpu, x);
  Tape.record(out, [x], (dOut) => [reluBackward(x.gpu, x, dOut)]);
  return out;
}

export function sigmoid(x: Tensor): Tensor {
  const out = sigmoidForward(x.gpu, x);
  logitsOf.set(out, x);
  Tape.record(out, [x], (dOut) => [sigmoidBackward(x.gpu, out, dOut)]);
  return out;
}

/**
 * Mean binary cross-entropy over the batch, as Keras computes it on TensorFlow
 * (keras/src/backend/tensorflow/nn.py `binary_crossentropy`): from the logits when
 * `output` came straight from a sigmoid, else on probabilities clipped to
 * [1e-7, 1 - 1e-7]. The loss is the root of the graph, so its upstream gradient
 * is the seed 1 and the backward kernels apply the 1/B of the mean themselves.
 */
export function binaryCrossentropy(output: Tensor, labels: Tensor): Tensor {
  const gpu = output.gpu;
  const logits = logitsOf.get(output);
  if (logits && !logits.isDisposed) {
    const loss = bceFromLogitsForward(gpu, logits, labels);
    // The gradient goes to the logits directly, past the sigmoid, as TensorFlow's does.
    Tape.record(loss, [logits, labels], () => [bceFromLogitsBackward(gpu, logits, labels), null]);
    return loss;
  }
  const loss = bceForward(gpu, output, labels);
  Tape.record(loss, [output, labels], () => [bceBackward(gpu, output, labels), null]);
  return loss;
}
