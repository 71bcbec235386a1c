/**
 * The layers' checks, shapes and configs without a GPU: the edges that StrykerJS's run over
 * src/nn/layers.ts left alive (README, "Mutation testing"). Shapes follow Keras 3 (Conv1D 'valid'
 * gives steps - kernel_size + 1; Dropout's noise_shape broadcasts with 1 or None), configs its
 * get_config (trainable, dtype 'float32', None for an unset seed or noise_shape); every error
 * message is asserted whole.
 */
import { describe, expect, it, vi } from 'vitest';
import { thrown } from './helpers.js';
import type { Gpu, Tensor } from '../src/gpu/gpu.js';
import {
  Conv1D,
  Dense,
  Dropout,
  Embedding,
  GlobalAveragePooling1D,
  GlobalMaxPooling1D,
  LayerConfigError,
  callLayers,
  formatShape,
  inferenceContext,
  layerFromConfig,
  type CallContext,
  type Shape,
} from '../src/nn/layers.js';

/** Stand-ins for tensors: the checks under test never read them. */
const tensor = {} as Tensor;
const tokens = { ids: tensor };
const training: CallContext = { training: true, step: tensor };

/** `fn` throws exactly `error` (class, name and whole message). */
function expectThrow(fn: () => unknown, error: Error): void {
  expect(thrown(error.constructor as new () => Error, fn).message).toBe(error.message);
}
const configError = (message: string) => new LayerConfigError(message);

describe('errors', () => {
  it('LayerConfigError is a RangeError named LayerConfigError', () => {
    const e = configError('x');
    expect(e).toBeInstanceOf(RangeError);
    expect(e.name).toBe('LayerConfigError');
    expect(String(e)).toBe('LayerConfigError: x');
  });

  it('callLayers refuses an empty stack; layers refuse the wrong kind of input', () => {
    expectThrow(() => callLayers([], tokens, training), configError('callLayers: no layers'));
    expectThrow(() => new Embedding(4, 2, { name: 'emb' }).call(tensor), new TypeError('emb: Embedding takes token ids (a TokenBatch)'));
    expectThrow(() => new Dense(2, { name: 'd' }).call(tokens), new TypeError('d: Dense takes a float tensor, not token ids'));
  });

  it('formatShape writes a one-axis shape as a Python tuple, with None for unknown sizes', () => {
    expect(formatShape([4])).toBe('4,');
    expect(formatShape([null])).toBe('None,');
    expect(formatShape([null, 3])).toBe('None, 3');
  });
});

describe('constructors', () => {
  it('sizes must be positive integers, activations known', () => {
    expectThrow(() => new Dense(0), configError('Dense units must be a positive integer, got 0'));
    expectThrow(() => new Conv1D(0, 3), configError('Conv1D filters must be a positive integer, got 0'));
    expectThrow(() => new Conv1D(2, 1.5), configError('Conv1D kernelSize must be a positive integer, got 1.5'));
    expectThrow(() => new Dense(2, { activation: 'tanh' as 'relu' }), configError("Dense: unknown activation 'tanh' (expected linear, relu, sigmoid)"));
    expectThrow(() => new Conv1D(2, 3, { activation: 'tanh' as 'relu' }), configError("Conv1D: unknown activation 'tanh' (expected linear, relu, sigmoid)"));
  });

  it('Dropout takes a rate in [0, 1) and a seed in [0, 2**32)', () => {
    expect(new Dropout(0).rate).toBe(0);
    expectThrow(() => new Dropout(-0.1), configError('Dropout: rate must be a number in [0, 1), got -0.1'));
    expectThrow(() => new Dropout('0.5' as unknown as number), configError('Dropout: rate must be a number in [0, 1), got 0.5'));
    for (const seed of [0, 2 ** 32 - 1]) expect(new Dropout(0.5, { seed }).seed).toBe(seed);
    for (const seed of [-1, 1.5, 2 ** 32]) expectThrow(() => new Dropout(0.5, { seed }), configError(`Dropout: seed must be an integer in [0, 2**32), got ${seed}`));
  });
});

describe('output shapes', () => {
  it('the global poolings need steps to pool', () => {
    expectThrow(() => new GlobalAveragePooling1D({ name: 'gap' }).computeOutputShape([null, 0, 4]), configError('gap: no steps to pool, found input shape (None, 0, 4)'));
    expect(new GlobalMaxPooling1D().computeOutputShape([2, 5, 4])).toEqual([2, 4]);
  });

  it('Dense needs rank 2 or more and a known, positive last dimension', () => {
    const dense = new Dense(3, { name: 'd' });
    expectThrow(() => dense.computeOutputShape([4]), configError('d: Dense expects inputs of rank 2 or more (batch, ..., features), found input shape (4,)'));
    for (const last of [null, 0]) {
      expectThrow(() => dense.computeOutputShape([null, last]), configError(`d: the last input dimension must be known and positive, found input shape (None, ${last ?? 'None'})`));
    }
    expect(dense.computeOutputShape([null, 5, 1])).toEqual([null, 5, 3]);
  });

  it("Conv1D: 'valid' gives steps - kernel_size + 1 (1 when they are equal); 'same' and unknown steps keep the steps", () => {
    const valid = new Conv1D(2, 3);
    expect(valid.computeOutputShape([null, 10, 4])).toEqual([null, 8, 2]);
    expect(valid.computeOutputShape([null, 3, 1])).toEqual([null, 1, 2]);
    expect(valid.computeOutputShape([null, null, 4])).toEqual([null, null, 2]);
    expect(new Conv1D(2, 5, { padding: 'same' }).computeOutputShape([null, 2, 4])).toEqual([null, 2, 2]);
    const conv = new Conv1D(2, 1, { name: 'c' });
    for (const channels of [null, 0]) {
      expectThrow(() => conv.computeOutputShape([null, 4, channels]), configError(`c: the channels (last) dimension must be known and positive, found input shape (None, 4, ${channels ?? 'None'})`));
    }
  });

  it('Dropout: noise_shape has one entry per axis, each 1, None or the axis size', () => {
    const shape: Shape = [null, 6, 4];
    for (const noiseShape of [[null, null, 1], [1, 1, null], [null, 6, 4]]) expect(new Dropout(0.5, { noiseShape }).computeOutputShape(shape)).toEqual(shape);
    expectThrow(() => new Dropout(0.5, { noiseShape: [null, 1], name: 'drop' }).computeOutputShape(shape), configError('drop: noise_shape (None, 1) has 2 axes for an input of 3, found input shape (None, 6, 4)'));
  });

  it('Dropout: a broadcast noise_shape (1 over an axis longer than 1) is refused past rank 4', () => {
    const rank5: Shape = [null, 1, 2, 3, 4];
    expect(new Dropout(0.5, { noiseShape: [1, null, 2, 1] }).computeOutputShape([null, 6, 2, 4])).toEqual([null, 6, 2, 4]);
    for (const noiseShape of [[null, null, null, null, null], [null, 1, null, null, null]]) expect(new Dropout(0.5, { noiseShape }).computeOutputShape(rank5)).toEqual(rank5);
    expectThrow(
      () => new Dropout(0.5, { noiseShape: [null, null, 1, null, null], name: 'drop5' }).computeOutputShape(rank5),
      configError('drop5: a broadcast noise_shape is supported on inputs of rank 4 at most, found input shape (None, 1, 2, 3, 4)'),
    );
  });
});

describe('calls', () => {
  it('Dropout of rate 0 is the identity even while training and unbuilt; a positive rate needs build first', () => {
    expect(new Dropout(0).call(tensor, training)).toBe(tensor);
    expectThrow(() => new Dropout(0.5, { name: 'drop' }).call(tensor, training), new Error('drop: call build() before training'));
  });

  it('inferenceContext uploads one i32 step of 0 per device, and again once it is disposed', () => {
    const step = { isDisposed: false };
    const upload = vi.fn(() => step);
    const gpu = { upload } as unknown as Gpu;
    expect(inferenceContext(gpu)).toEqual({ training: false, step });
    expect(inferenceContext(gpu).step).toBe(step);
    expect(upload).toHaveBeenCalledTimes(1);
    expect(upload).toHaveBeenCalledWith(Int32Array.of(0), [1]);
    step.isDisposed = true;
    inferenceContext(gpu);
    expect(upload).toHaveBeenCalledTimes(2);
  });
});

describe('configs', () => {
  it("every config says trainable: true and dtype 'float32', as Keras' get_config", () => {
    expect(new Dense(2, { name: 'd' }).getConfig()).toEqual({ name: 'd', trainable: true, dtype: 'float32', units: 2, activation: 'linear', use_bias: true });
    expect(new GlobalMaxPooling1D({ name: 'g' }).getConfig()).toEqual({ name: 'g', trainable: true, dtype: 'float32', data_format: 'channels_last', keepdims: false });
  });

  it("absent keys take Keras' defaults: mask_zero false, use_bias true, no seed, no noise_shape", () => {
    expect((layerFromConfig('Embedding', { input_dim: 5, output_dim: 2 }) as Embedding).maskZero).toBe(false);
    const conv = layerFromConfig('Conv1D', { filters: 2, kernel_size: 5 }) as Conv1D;
    expect([conv.kernelSize, conv.useBias, conv.padding]).toEqual([5, true, 'valid']);
    for (const unset of [undefined, null]) {
      const drop = layerFromConfig('Dropout', { rate: 0.5, seed: unset, noise_shape: unset }) as Dropout;
      expect([drop.seed, drop.noiseShape]).toEqual([null, null]);
      // Keras' constructors take None as the default: data_format None is channels_last.
      expect(layerFromConfig('GlobalMaxPooling1D', { data_format: unset, keepdims: unset })).toBeInstanceOf(GlobalMaxPooling1D);
    }
  });

  it('unsupported or mistyped values are refused, naming the class and the key', () => {
    const refused = (className: string, config: Record<string, unknown>, problem: string) =>
      expectThrow(() => layerFromConfig(className, config), configError(`layerFromConfig: ${className}: ${problem}`));
    refused('Dense', { units: 2, name: 3 }, 'name must be a string, got 3');
    refused('Dense', { units: 2, activation: 'tanh' }, "activation 'tanh' is not supported (linear, relu, sigmoid)");
    refused('Dropout', { rate: '0.5' }, 'rate must be a number, got "0.5"');
    refused('Embedding', { input_dim: 5, output_dim: 2, mask_zero: 'yes' }, 'mask_zero must be true or false, got "yes"');
    refused('Conv1D', { filters: 2, kernel_size: 3, padding: 3 }, 'padding must be a string, got 3');
    refused('Conv1D', { filters: 2, kernel_size: 3, padding: 'causal' }, "padding 'causal' is not supported (valid, same)");
    for (const noise of ['abc', [1.5], [null, 1.5]]) refused('Dropout', { rate: 0.5, noise_shape: noise }, `noise_shape must be a list of integers or null, got ${JSON.stringify(noise)}`);
    refused('GlobalAveragePooling1D', { data_format: 'channels_first' }, 'data_format "channels_first" is not supported (only "channels_last")');
    refused('GlobalMaxPooling1D', { data_format: 'channels_first' }, 'data_format "channels_first" is not supported (only "channels_last")');
    refused('GlobalMaxPooling1D', { keepdims: true }, 'keepdims true is not supported (only false)');
  });
});
