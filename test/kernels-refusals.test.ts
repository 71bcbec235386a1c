// The small kernel wrappers' argument checks, one condition at a time, with the op, the argument
// and the shapes each message names (their kernels' own files test the results).
import { describe, expect, it } from 'vitest';
import { binaryAccuracyCount } from '../src/kernels/accuracy.js';
import { bceBackward, bceFromLogitsBackward, bceFromLogitsLosses, bceLosses, checkBatch } from '../src/kernels/binary-crossentropy.js';
import { conv1dForward, conv1dInputGradient, conv1dInputGradientReference, conv1dKernelGradient, conv1dKernelGradientReference, conv1dReference } from '../src/kernels/conv1d.js';
import { dropoutForward, dropoutLayout, dropoutReference } from '../src/kernels/dropout.js';
import { maxPoolBackward, maxPoolForward } from '../src/kernels/max-pool.js';
import { broadcastSteps, meanPoolBackward, meanPoolBackwardExpanded, meanPoolForward, meanPoolGatheredForward } from '../src/kernels/mean-pool.js';
import { reluBackward } from '../src/kernels/relu.js';
import { useGpu } from './gpu-helpers.js';

describe('the small kernel wrappers refuse', () => {
  const gpu = useGpu();
  const f32 = (...shape: number[]) => gpu().zeros(shape);
  const i32 = (...shape: number[]) => gpu().zeros(shape, 'i32');

  it('relu: a dy of another shape', () => {
    expect(() => reluBackward(gpu(), f32(4, 3), f32(3, 4))).toThrow('reluBackward: expected dy of shape [4, 3] (as x), found [3, 4]');
  });

  it('binary cross-entropy and accuracy: predictions or labels of another batch, rank or dtype', () => {
    // Predictions [B] or [B, 1] with B >= 1; anything else, [B, 2] and [B, 1, 1] included, is refused.
    for (const shape of [[0], [4, 2], [4, 1, 1], [1, 4]]) {
      expect(() => checkBatch('op', f32(...shape), f32(4)), `[${shape}]`).toThrow(
        `op: predictions must have shape [B] or [B, 1] with B >= 1, found [${shape.join(', ')}]`,
      );
    }
    for (const shape of [[4, 2], [4, 1, 1], [3, 1], [1, 4]]) {
      expect(() => checkBatch('op', f32(4, 1), f32(...shape), 'p'), `[${shape}]`).toThrow(`op: labels must have shape [4] or [4, 1] to match p, found [${shape.join(', ')}]`);
    }
    expect(checkBatch('op', f32(4, 1), f32(4))).toBe(4);
    expect(checkBatch('op', f32(1), f32(1, 1))).toBe(1);
    expect(() => checkBatch('op', i32(4), f32(4), 'p')).toThrow('op: p must be f32, found i32');
    expect(() => checkBatch('op', f32(4), i32(4), 'p')).toThrow('op: labels must be f32, found i32');
    // Each wrapper names itself and its predictions.
    expect(() => bceFromLogitsLosses(gpu(), f32(2, 3), f32(2))).toThrow('bceFromLogits: logits must have shape [B] or [B, 1] with B >= 1, found [2, 3]');
    expect(() => bceFromLogitsBackward(gpu(), f32(2, 3), f32(2))).toThrow('bceFromLogitsBackward: logits must have shape');
    expect(() => bceLosses(gpu(), f32(2, 3), f32(2))).toThrow('bce: probs must have shape');
    expect(() => bceBackward(gpu(), f32(2, 3), f32(2))).toThrow('bceBackward: probs must have shape');
    expect(() => binaryAccuracyCount(gpu(), f32(2, 3), f32(2))).toThrow('binaryAccuracyCount: probs must have shape [B] or [B, 1] with B >= 1, found [2, 3]');
    expect(() => binaryAccuracyCount(gpu(), f32(4), f32(5))).toThrow('binaryAccuracyCount: labels must have shape [4] or [4, 1] to match probs, found [5]');
  });

  it('max pool: an x that is not f32 [B, T >= 1, D], a pooled output or dOut of another shape', () => {
    expect(() => maxPoolForward(gpu(), i32(2, 3, 4))).toThrow('maxPoolForward: x must be f32 [batch, steps, dim] with at least one step, found i32 [2, 3, 4]');
    expect(() => maxPoolBackward(gpu(), f32(2, 0, 4), f32(2, 4), f32(2, 4))).toThrow('maxPoolBackward: x must be f32 [batch, steps, dim] with at least one step, found f32 [2, 0, 4]');
    const x = f32(2, 3, 4);
    for (const shape of [[2, 4, 1], [3, 4], [2, 3], [8]]) {
      expect(() => maxPoolBackward(gpu(), x, f32(...shape), f32(...shape)), `[${shape}]`).toThrow(`maxPoolBackward: expected pooled of shape [2, 4], found [${shape.join(', ')}]`);
    }
    expect(() => maxPoolBackward(gpu(), x, f32(2, 4), f32(4, 2))).toThrow('maxPoolBackward: expected dOut of shape [2, 4] (as pooled), found [4, 2]');
  });

  it('mean pool: tensors of another dtype or rank, no steps or columns, steps that are not integers', () => {
    expect(() => meanPoolForward(gpu(), i32(1, 2, 3))).toThrow('meanPoolForward: x must be f32 [batch, steps, dim], found i32 [1, 2, 3]');
    expect(() => meanPoolForward(gpu(), f32(2, 0, 3))).toThrow('meanPoolForward: steps must be a positive integer, found 0');
    expect(() => meanPoolForward(gpu(), f32(2, 3, 0))).toThrow('meanPoolForward: dim must be a positive integer, found 0');
    const table = f32(9, 4);
    expect(() => meanPoolGatheredForward(gpu(), i32(9, 4), i32(2, 3))).toThrow('meanPoolGatheredForward: table must be f32 [vocab, dim], found i32 [9, 4]');
    expect(() => meanPoolGatheredForward(gpu(), f32(36), i32(2, 3))).toThrow('meanPoolGatheredForward: table must be f32 [vocab, dim], found f32 [36]');
    expect(() => meanPoolGatheredForward(gpu(), table, f32(2, 3))).toThrow('meanPoolGatheredForward: ids must be i32 [batch, steps], found f32 [2, 3]');
    expect(() => meanPoolGatheredForward(gpu(), table, i32(6))).toThrow('meanPoolGatheredForward: ids must be i32 [batch, steps], found i32 [6]');
    expect(() => meanPoolGatheredForward(gpu(), table, i32(2, 0))).toThrow('meanPoolGatheredForward: steps must be a positive integer, found 0');
    expect(() => meanPoolGatheredForward(gpu(), f32(9, 0), i32(2, 3))).toThrow('meanPoolGatheredForward: dim must be a positive integer, found 0');
    expect(() => meanPoolBackward(gpu(), i32(2, 3), 2)).toThrow('meanPoolBackward: dOut must be f32 [batch, dim], found i32 [2, 3]');
    expect(() => meanPoolBackward(gpu(), f32(2, 3, 1), 2)).toThrow('meanPoolBackward: dOut must be f32 [batch, dim], found f32 [2, 3, 1]');
    expect(() => meanPoolBackward(gpu(), f32(2, 3), 1.5)).toThrow('meanPoolBackward: steps must be a positive integer, found 1.5');
    expect(() => meanPoolBackward(gpu(), f32(2, 0), 2)).toThrow('meanPoolBackward: dim must be a positive integer, found 0');
    expect(() => meanPoolBackwardExpanded(gpu(), f32(6), 2)).toThrow('meanPoolBackwardExpanded: dOut must be f32 [batch, dim], found f32 [6]');
    expect(() => meanPoolBackwardExpanded(gpu(), f32(2, 3), 0)).toThrow('meanPoolBackwardExpanded: steps must be a positive integer, found 0');
    expect(() => meanPoolBackwardExpanded(gpu(), f32(2, 0), 2)).toThrow('meanPoolBackwardExpanded: dim must be a positive integer, found 0');
    expect(() => broadcastSteps(gpu(), f32(2, 3), 2)).toThrow('broadcastSteps: x must be f32 [batch, 1, dim], found f32 [2, 3]');
    expect(() => broadcastSteps(gpu(), f32(2, 1, 3), 0)).toThrow('broadcastSteps: steps must be a positive integer, found 0');
    expect(() => broadcastSteps(gpu(), f32(2, 1, 0), 2)).toThrow('broadcastSteps: dim must be a positive integer, found 0');
  });

  it('dropout: a rate outside [0, 1), a seed outside the integers [0, 2**32), a step or x of another kind, a noise shape of another rank', () => {
    const x = f32(2, 3);
    const step = gpu().upload(Int32Array.of(0), [1]);
    for (const rate of [-0.1, -Number.MIN_VALUE, Number.NaN, 1]) {
      expect(() => dropoutForward(gpu(), x, step, { rate, seed: 0 }), `rate ${rate}`).toThrow(`dropoutForward: rate must be in [0, 1), found ${rate}`);
    }
    for (const seed of [-1, 1.5, 2 ** 32, Number.NaN]) {
      expect(() => dropoutForward(gpu(), x, step, { rate: 0.5, seed }), `seed ${seed}`).toThrow(`dropoutForward: seed must be an integer in [0, 2**32), found ${seed}`);
    }
    expect(() => dropoutLayout('op', [2, 3], { rate: 0, seed: 2 ** 32 - 1 })).not.toThrow();
    expect(() => dropoutForward(gpu(), x, i32(1, 2), { rate: 0.5, seed: 0 })).toThrow('dropoutForward: step must be an i32 tensor of one element, found i32 [1, 2]');
    expect(() => dropoutForward(gpu(), i32(2, 3), step, { rate: 0.5, seed: 0 })).toThrow('dropoutForward: x must be f32, found i32');
    // Of another rank, though each dimension it has is 1 or the input's.
    expect(() => dropoutLayout('op', [2, 3], { rate: 0.5, seed: 0, noiseShape: [2] })).toThrow(
      "op: noise shape [2] does not broadcast to the input's [2, 3] (each dimension must be 1 or the input's)",
    );
    expect(() => dropoutLayout('op', [2, 3], { rate: 0.5, seed: 0, noiseShape: [2, 3, 1] })).toThrow("op: noise shape [2, 3, 1] does not broadcast to the input's [2, 3]");
    expect(() => dropoutReference(new Float32Array(6), [2, 3], 0, { rate: 1, seed: 0 })).toThrow('dropoutReference: rate must be in [0, 1), found 1');
    expect(() => dropoutLayout('op', [1, 2, 3, 4, 5], { rate: 0.5, seed: 0, noiseShape: [1, 1, 3, 4, 5] })).toThrow(
      'op: a noise shape is supported on inputs of rank 4 at most, found rank 5',
    );
  });

  it('conv1d: a kernel, bias or dy of another shape, a kernel without taps, tensors that are not f32 rank 3', () => {
    const x = f32(2, 5, 4);
    expect(() => conv1dForward(gpu(), i32(2, 5, 4), f32(2, 4, 3), null, 'valid')).toThrow('conv1dForward: expected x f32 of shape [batch, steps, channels], found i32 [2, 5, 4]');
    expect(() => conv1dForward(gpu(), x, f32(2, 4), null, 'valid')).toThrow('conv1dForward: expected kernel of shape [*, 4, *], found [2, 4]');
    expect(() => conv1dForward(gpu(), x, f32(0, 4, 3), null, 'same')).toThrow('conv1dForward: expected kernel of shape [*, 4, *], found [0, 4, 3]');
    expect(() => conv1dForward(gpu(), x, f32(2, 4, 3), f32(3, 1), 'valid')).toThrow('conv1dForward: expected bias of shape [3], found [3, 1]');
    // 'valid' over 5 steps with K = 2: 4 steps of dy.
    const dy = f32(2, 4, 3);
    expect(() => conv1dInputGradient(gpu(), f32(2, 4), f32(2, 4, 3), 5, 'valid')).toThrow('conv1dInputGradient: expected dy f32 of shape [batch, steps, channels], found f32 [2, 4]');
    expect(() => conv1dInputGradient(gpu(), dy, f32(2, 4, 5), 5, 'valid')).toThrow('conv1dInputGradient: expected kernel of shape [*, 4, 3], found [2, 4, 5]');
    expect(() => conv1dInputGradient(gpu(), dy, f32(2, 4, 3), 5, 'same')).toThrow("conv1dInputGradient: dy has 4 steps; an input of 5 steps with padding 'same' gives 5");
    expect(() => conv1dKernelGradient(gpu(), i32(2, 5, 4), dy, 2, 'valid')).toThrow('conv1dKernelGradient: expected x f32 of shape [batch, steps, channels], found i32 [2, 5, 4]');
    expect(() => conv1dKernelGradient(gpu(), x, f32(2, 12), 2, 'valid')).toThrow('conv1dKernelGradient: expected dy f32 of shape [batch, steps, channels], found f32 [2, 12]');
    expect(() => conv1dKernelGradient(gpu(), x, f32(3, 4, 3), 2, 'valid')).toThrow('conv1dKernelGradient: expected dy of shape [2, 4, *], found [3, 4, 3]');
    expect(() => conv1dKernelGradient(gpu(), x, f32(2, 5, 3), 2, 'valid')).toThrow('conv1dKernelGradient: expected dy of shape [2, 4, *], found [2, 5, 3]');
    expect(() => conv1dKernelGradient(gpu(), x, dy, 6, 'valid')).toThrow("conv1dKernelGradient: kernel_size 6 is longer than the 5 steps of its input with padding 'valid'");
    // The references name themselves too.
    const s = { batch: 1, steps: 2, channels: 1, filters: 1, kernelSize: 3, padding: 'valid' } as const;
    const longer = "kernel_size 3 is longer than the 2 steps of its input with padding 'valid'";
    expect(() => conv1dReference([0, 0], [0, 0, 0], null, s)).toThrow(`conv1dReference: ${longer}`);
    expect(() => conv1dInputGradientReference([], [0, 0, 0], s)).toThrow(`conv1dInputGradientReference: ${longer}`);
    expect(() => conv1dKernelGradientReference([0, 0], [], s)).toThrow(`conv1dKernelGradientReference: ${longer}`);
  });
});
