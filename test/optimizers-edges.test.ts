/**
 * Edges of the optimizer registry and constructors that test/optimizers.test.ts leaves open (found by the
 * StrykerJS run over src/nn/optimizers/, issue #16): what getOptimizer refuses, the serialize form
 * (keras.optimizers.serialize: module 'keras.optimizers', registered_name null), which config values
 * optimizerFromConfig reads as schedules, ema_momentum ignored as Keras ignores it without use_ema,
 * LazyAdam's class name, RMSprop's momentum range; and the base class's own checks (slot indices, the
 * uniform's 64-byte bound, reference's lengths, one update per element).
 */
import { describe, expect, it } from 'vitest';
import { Adam, ExponentialDecay, getOptimizer, LazyAdam, MAX_PARAMS_BYTES, Optimizer, optimizerFromConfig, RMSprop, serializeOptimizer } from '../src/nn/optimizers/index.js';

const KNOWN = 'sgd, rmsprop, adam, adamw, adagrad, lazyadam';

describe('getOptimizer: only a name, an Optimizer or a serialized config', () => {
  const refused: [string, unknown, string][] = [
    ['a number', 42, '42'],
    ['null', null, 'null'],
    ['an object without class_name', { config: {} }, '[object Object]'],
    ['a function carrying class_name and config', Object.assign(() => 0, { class_name: 'Adam', config: {} }), '() => 0'],
  ];
  for (const [label, identifier, found] of refused) {
    it(`refuses ${label}, naming what it takes`, () => {
      const make = () => getOptimizer(identifier as never);
      expect(make).toThrow(RangeError);
      expect(make).toThrow(`getOptimizer: expected an optimizer name (${KNOWN}), an Optimizer or a serialized config, found ${found}`);
    });
  }
});

describe('serializeOptimizer and optimizerFromConfig', () => {
  it("writes Keras' serialize form: module keras.optimizers, the class name, get_config, registered_name null", () => {
    const adam = new Adam();
    expect(serializeOptimizer(adam)).toEqual({ module: 'keras.optimizers', class_name: 'Adam', config: adam.getConfig(), registered_name: null });
  });

  it('names itself in the error for an unknown class', () => {
    expect(() => optimizerFromConfig({ class_name: 'Adadelta', config: {} })).toThrow(`optimizerFromConfig: unknown optimizer 'Adadelta' (known: ${KNOWN})`);
  });

  it("ignores ema_momentum, as Keras does unless use_ema (only then does it check the value)", () => {
    const adam = optimizerFromConfig({ class_name: 'Adam', config: { ema_momentum: 0.5, use_ema: false } });
    expect(adam).toBeInstanceOf(Adam);
    expect(adam.getConfig().ema_momentum).toBe(0.99);
  });

  it('reads only learning_rate as a schedule; an object elsewhere reaches the option check', () => {
    const schedule = { class_name: 'ExponentialDecay', config: { initial_learning_rate: 0.1, decay_steps: 2, decay_rate: 0.5 } };
    expect(optimizerFromConfig({ class_name: 'Adam', config: { learning_rate: schedule } }).learningRate).toBeInstanceOf(ExponentialDecay);
    expect(() => optimizerFromConfig({ class_name: 'Adam', config: { beta_1: { class_name: 'Nope', config: {} } } })).toThrow('Adam: beta1 must be a finite number >= 0 and < 1, found [object Object]');
  });

  it('learning_rate null is refused by the option check, not read as a schedule', () => {
    const make = () => optimizerFromConfig({ class_name: 'Adam', config: { learning_rate: null } });
    expect(make).toThrow(RangeError);
    expect(make).toThrow('Adam: learningRate must be a finite number >= 0, found null');
  });
});

describe('constructors', () => {
  it("LazyAdam names its class in errors and in the serialize form (TF Addons' LazyAdam)", () => {
    expect(() => new LazyAdam({ beta1: 1 })).toThrow('LazyAdam: beta1 must be a finite number >= 0 and < 1, found 1');
    const lazy = new LazyAdam();
    expect(lazy.className).toBe('LazyAdam');
    expect(serializeOptimizer(lazy).class_name).toBe('LazyAdam');
    expect(optimizerFromConfig(JSON.parse(JSON.stringify(serializeOptimizer(lazy))))).toBeInstanceOf(LazyAdam);
  });

  it('RMSprop: momentum in [0, 1], both ends taken', () => {
    for (const momentum of [1.5, -0.1]) {
      expect(() => new RMSprop({ momentum })).toThrow(`RMSprop: momentum must be a finite number >= 0 and <= 1, found ${momentum}`);
    }
    expect(new RMSprop({ momentum: 1 }).momentum).toBe(1);
    expect(new RMSprop({ momentum: 0 }).slotNames).toEqual(['velocity']);
  });
});

/** A minimal optimizer: `constants` uniform constants, w -= g, one slot counting the updates per element. */
class Probe extends Optimizer {
  readonly name = 'probe';
  readonly slotNames = ['count'] as const;
  readonly shader = '';
  readonly entryPoint = 'probe';
  calls: number[] = [];

  constructor(readonly constants: number) {
    super('Probe', {}, [], { learningRate: 1 });
  }

  protected updateConstants(): number[] {
    return new Array<number>(this.constants).fill(0);
  }

  protected referenceElement(w: number, g: number, [count]: Float32Array[], i: number): number {
    this.calls.push(i);
    count[i] += 1;
    return w - g;
  }

  protected ownConfig(): Record<string, unknown> {
    return {};
  }
}

describe('the base class', () => {
  it('slotInitialValue takes only an integer slot in [0, slots)', () => {
    const adam = new Adam();
    for (const slot of [-1, 0.5, 2]) expect(() => adam.slotInitialValue(slot)).toThrow(`Adam: slot must be an integer in [0, 2), found ${slot}`);
    expect(adam.slotInitialValue(0)).toBe(0);
  });

  it(`params fit the store's ${MAX_PARAMS_BYTES}-byte block: 13 constants after the 12 shared bytes do, 14 do not`, () => {
    expect(new Probe(13).params(0).byteLength).toBe(64);
    expect(() => new Probe(14).params(0)).toThrow('Probe: 68 bytes of params exceed 64');
  });

  it('reference refuses gradients or a slot of another length, naming them', () => {
    const probe = new Probe(0);
    expect(() => probe.reference(new Float32Array(3), new Float32Array(2), [new Float32Array(3)], 0)).toThrow('Probe.reference: 2 gradients for 3 weights');
    expect(() => probe.reference(new Float32Array(3), new Float32Array(3), [new Float32Array(4)], 0)).toThrow('Probe.reference: slot count has 4 values for 3 weights');
  });

  it('reference updates each element once, in order, and no further', () => {
    const probe = new Probe(0);
    const weights = new Float32Array([1, 2, 3]);
    const count = new Float32Array(3);
    probe.reference(weights, new Float32Array([0.5, 0.5, 0.5]), [count], 0);
    expect(probe.calls).toEqual([0, 1, 2]);
    expect([...weights]).toEqual([0.5, 1.5, 2.5]);
    expect([...count]).toEqual([1, 1, 1]);
  });
});
