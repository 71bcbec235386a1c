// The dispatches of the small kernel wrappers, as recorded: the timer and profiles name a pass
// `module:entry point`, and each wrapper sizes its dispatch to the invocations its entry point
// needs (surplus invocations return early, so only the recorded size shows one sized wrongly).
import { describe, expect, it } from 'vitest';
import { linearWorkgroups, type Gpu } from '../src/gpu/gpu.js';
import { binaryAccuracyCount } from '../src/kernels/accuracy.js';
import { add } from '../src/kernels/add.js';
import { bceBackward, bceForward, bceFromLogitsBackward, bceFromLogitsForward } from '../src/kernels/binary-crossentropy.js';
import { conv1dForward, conv1dInputGradient, conv1dKernelGradient } from '../src/kernels/conv1d.js';
import { dropoutForward } from '../src/kernels/dropout.js';
import { maxPoolBackward, maxPoolForward } from '../src/kernels/max-pool.js';
import { broadcastSteps, meanPoolBackward, meanPoolBackwardExpanded, meanPoolForward, meanPoolGatheredForward } from '../src/kernels/mean-pool.js';
import { paddingMaskForward } from '../src/kernels/padding-mask.js';
import { reluBackward, reluForward } from '../src/kernels/relu.js';
import { sigmoidBackward, sigmoidForward } from '../src/kernels/sigmoid.js';
import { useGpu } from './gpu-helpers.js';

/** The label and workgroups of each dispatch `fn` records. */
function dispatches(gpu: Gpu, fn: () => void): [string, number[]][] {
  const { work } = gpu.capture(fn);
  const recorded = work.commands.flatMap((c) => ('dispatch' in c ? [[c.dispatch.label, [...c.dispatch.workgroups]] as [string, number[]]] : []));
  work.dispose();
  return recorded;
}

/** linearWorkgroups as a capture records it (x, y, z). */
const groups = (invocations: number, size: number) => [...linearWorkgroups(invocations, size), 1];

describe('the small kernel wrappers record', () => {
  const gpu = useGpu();

  it('elementwise kernels: one invocation per element, 256 a workgroup', () => {
    const x = gpu().zeros([300]);
    const ids = gpu().empty([300], 'i32');
    expect(
      dispatches(gpu(), () => {
        sigmoidForward(gpu(), x);
        sigmoidBackward(gpu(), x, x);
        reluForward(gpu(), x);
        reluBackward(gpu(), x, x);
        add(gpu(), x, x);
        paddingMaskForward(gpu(), ids);
      }),
    ).toEqual(
      [
        'sigmoid:forward',
        'sigmoid:backward',
        'relu:forward',
        'relu:backward',
        'add:main',
        'padding-mask:forward',
      ].map((label) => [label, groups(300, 256)]),
    );
  });

  it('binary cross-entropy and accuracy: the losses and the count in one invocation, the gradients one per sample', () => {
    const p = gpu().zeros([300]);
    expect(
      dispatches(gpu(), () => {
        bceFromLogitsForward(gpu(), p, p);
        bceFromLogitsBackward(gpu(), p, p);
        bceForward(gpu(), p, p);
        bceBackward(gpu(), p, p);
        binaryAccuracyCount(gpu(), p, p);
      }),
    ).toEqual([
      ['binary-crossentropy:forwardFromLogits', [1, 1, 1]],
      ['binary-crossentropy:backwardFromLogits', groups(300, 256)],
      ['binary-crossentropy:forwardFromProbabilities', [1, 1, 1]],
      ['binary-crossentropy:backwardFromProbabilities', groups(300, 256)],
      ['accuracy:countCorrect', [1, 1, 1]],
    ]);
  });

  it('mean pool: an output column (or a quad of them) per invocation forward, a (sample, step) row backward', () => {
    const x16 = gpu().zeros([75, 2, 16]);
    const x3 = gpu().zeros([100, 2, 3]);
    const table16 = gpu().zeros([9, 16]);
    const table5 = gpu().zeros([9, 5]);
    const ids75 = gpu().empty([75, 2], 'i32');
    const ids150 = gpu().empty([150, 2], 'i32');
    const dOut16 = gpu().zeros([150, 16]);
    const dOut3 = gpu().zeros([150, 3]);
    const rows3 = gpu().zeros([150, 1, 3]);
    expect(
      dispatches(gpu(), () => {
        meanPoolForward(gpu(), x16); // 75 · 16 / 4 = 300 quads
        meanPoolForward(gpu(), x3); // 100 · 3 = 300 columns
        meanPoolGatheredForward(gpu(), table16, ids75); // 75 · 16 / 4 = 300 quads
        meanPoolGatheredForward(gpu(), table5, ids150); // 150 · ceil(5 / 4) = 300 quads, the last partial
        meanPoolBackward(gpu(), dOut16, 2); // 150 · 2 = 300 rows
        meanPoolBackward(gpu(), dOut3, 2);
        meanPoolBackwardExpanded(gpu(), dOut3, 2); // 150 · 1 rows
        broadcastSteps(gpu(), rows3, 2); // 150 · 2 rows
      }),
    ).toEqual([
      ['mean-pool:forward4', groups(300, 256)],
      ['mean-pool:forward', groups(300, 256)],
      ['mean-pool:forwardGathered4', groups(300, 256)],
      ['mean-pool:forwardGathered', groups(300, 256)],
      ['mean-pool:backward4', groups(300, 256)],
      ['mean-pool:backward', groups(300, 256)],
      ['mean-pool:backward', groups(150, 256)],
      ['mean-pool:backward', groups(300, 256)],
    ]);
  });

  it('max pool: an output column per invocation, forward and backward', () => {
    const x = gpu().zeros([100, 2, 3]);
    const pooled = gpu().zeros([100, 3]);
    expect(
      dispatches(gpu(), () => {
        maxPoolForward(gpu(), x);
        maxPoolBackward(gpu(), x, pooled, pooled);
      }),
    ).toEqual([
      ['max-pool:forward', groups(300, 256)],
      ['max-pool:backward', groups(300, 256)],
    ]);
  });

  it('conv1d: an output element per invocation, 64 a workgroup; dropout: an element per invocation', () => {
    const x = gpu().zeros([10, 5, 6]); // 300 elements
    const kernel = gpu().zeros([3, 6, 4]); // 72
    const dy = gpu().zeros([10, 3, 4]); // 'valid': 3 steps, 120 elements
    const step = gpu().upload(Int32Array.of(0), [1]);
    expect(
      dispatches(gpu(), () => {
        conv1dForward(gpu(), x, kernel, null, 'valid');
        conv1dInputGradient(gpu(), dy, kernel, 5, 'valid');
        conv1dKernelGradient(gpu(), x, dy, 3, 'valid');
        dropoutForward(gpu(), x, step, { rate: 0.5, seed: 1 });
      }),
    ).toEqual([
      ['conv1d:forward', groups(120, 64)],
      ['conv1d:inputGradient', groups(300, 64)],
      ['conv1d:kernelGradient', groups(72, 64)],
      ['dropout:forward', groups(300, 256)],
    ]);
  });
});
