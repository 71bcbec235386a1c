/**
 * Edges of src/nn/optimizers/schedules.ts and src/nn/optimizers/validation.ts that test/optimizers.test.ts
 * leaves open (found by StrykerJS): ExponentialDecay's checks and defaults, Keras' serialize form and
 * deserialize defaults, and the exact wording of checkNumber's ranges. CPU only.
 */
import { describe, expect, it } from 'vitest';
import { ExponentialDecay, scheduleFromConfig, serializeSchedule } from '../src/nn/optimizers/schedules.js';
import { checkBoolean, checkEpsilon, checkNumber, checkOptions } from '../src/nn/optimizers/validation.js';

describe('ExponentialDecay edges', () => {
  const options = { initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5 };

  it("defaults: staircase false, name 'ExponentialDecay' (Keras' __init__ defaults)", () => {
    const s = new ExponentialDecay(options);
    expect(s.staircase).toBe(false);
    expect(s.name).toBe('ExponentialDecay');
    expect(s.className).toBe('ExponentialDecay');
    expect(s.getConfig()).toEqual({ initial_learning_rate: 0.1, decay_steps: 10, decay_rate: 0.5, staircase: false, name: 'ExponentialDecay' });
  });

  it('rejects a negative initial rate or decay rate, a non-finite decaySteps, and a non-boolean staircase', () => {
    expect(() => new ExponentialDecay({ ...options, initialLearningRate: -0.1 })).toThrow(/ExponentialDecay: initialLearningRate must be a finite number >= 0, found -0.1/);
    expect(() => new ExponentialDecay({ ...options, decayRate: -0.5 })).toThrow(/ExponentialDecay: decayRate must be a finite number >= 0, found -0.5/);
    expect(() => new ExponentialDecay({ ...options, decaySteps: -1 })).toThrow(/ExponentialDecay: decaySteps must be a finite number > 0, found -1/);
    expect(() => new ExponentialDecay({ ...options, staircase: 1 as never })).toThrow(/ExponentialDecay: staircase must be a boolean, found 1/);
    expect(() => new ExponentialDecay(null as never)).toThrow(/ExponentialDecay: options must be an object, found null/);
  });

  it('accepts the range bounds: initial rate 0, decay rate 0, any positive decaySteps', () => {
    const s = new ExponentialDecay({ initialLearningRate: 0, decaySteps: 0.5, decayRate: 0, staircase: true, name: 'lr' });
    expect(s.learningRateAt(0)).toBe(0);
    expect(s.getConfig()).toEqual({ initial_learning_rate: 0, decay_steps: 0.5, decay_rate: 0, staircase: true, name: 'lr' });
  });

  it('staircase floors step / decaySteps: constant within a period, a step down at each multiple', () => {
    const s = new ExponentialDecay({ ...options, staircase: true });
    expect(s.learningRateAt(9)).toBe(Math.fround(0.1));
    expect(s.learningRateAt(10)).toBe(Math.fround(Math.fround(0.1) * 0.5));
    expect(s.learningRateAt(19)).toBe(Math.fround(Math.fround(0.1) * 0.5));
    expect(s.learningRateAt(20)).toBe(Math.fround(Math.fround(0.1) * 0.25));
    // Smooth: p = 5 / 10 exactly, 0.1 * sqrt(0.5), rounded to float32 at each stage.
    expect(new ExponentialDecay(options).learningRateAt(5)).toBe(Math.fround(Math.fround(0.1) * Math.fround(Math.SQRT1_2)));
  });
});

describe("serializeSchedule / scheduleFromConfig (Keras' schedules.serialize / deserialize)", () => {
  it("serializes in Keras' form", () => {
    const s = new ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 5, decayRate: 0.9, staircase: true, name: 'decay' });
    expect(serializeSchedule(s)).toEqual({
      module: 'keras.optimizers.schedules',
      class_name: 'ExponentialDecay',
      config: { initial_learning_rate: 0.1, decay_steps: 5, decay_rate: 0.9, staircase: true, name: 'decay' },
      registered_name: null,
    });
  });

  it('round-trips staircase and name, and defaults them when the config leaves them out', () => {
    const s = new ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 5, decayRate: 0.9, staircase: true, name: 'decay' });
    const copy = scheduleFromConfig(JSON.parse(JSON.stringify(serializeSchedule(s))));
    expect(copy).toBeInstanceOf(ExponentialDecay);
    expect(copy.getConfig()).toEqual(s.getConfig());
    const bare = scheduleFromConfig({ class_name: 'ExponentialDecay', config: { initial_learning_rate: 0.1, decay_steps: 5, decay_rate: 0.9 } });
    expect(bare.getConfig()).toEqual({ initial_learning_rate: 0.1, decay_steps: 5, decay_rate: 0.9, staircase: false, name: 'ExponentialDecay' });
  });

  it('names an unknown schedule and the known ones', () => {
    expect(() => scheduleFromConfig({ class_name: 'CosineDecay', config: {} })).toThrow(RangeError);
    expect(() => scheduleFromConfig({ class_name: 'CosineDecay', config: {} })).toThrow(/^scheduleFromConfig: unknown learning rate schedule 'CosineDecay' \(known: ExponentialDecay\)$/);
  });
});

describe('validation edges', () => {
  it('checkOptions: options must be an object; known names pass', () => {
    expect(() => checkOptions('X', 5 as never, ['a'])).toThrow(/^X: options must be an object, found 5$/);
    expect(() => checkOptions('X', null as never, ['a'])).toThrow(/^X: options must be an object, found null$/);
    expect(() => checkOptions('X', { a: 1, b: 2 }, ['a', 'c'])).toThrow(/^X: unknown option 'b' \(known: a, c\)$/);
    expect(() => checkOptions('X', { a: 1, c: 2 }, ['a', 'c'])).not.toThrow();
    expect(() => checkOptions('X', {}, [])).not.toThrow();
  });

  it('checkNumber: returns the value; the message states the range in full, or none without one', () => {
    expect(checkNumber('X', 'v', -1e300)).toBe(-1e300);
    expect(() => checkNumber('X', 'v', Infinity)).toThrow(/^X: v must be a finite number, found Infinity$/);
    expect(() => checkNumber('X', 'v', '1')).toThrow(/^X: v must be a finite number, found 1$/);
    expect(() => checkNumber('X', 'v', 2, { max: 1 })).toThrow(/^X: v must be a finite number <= 1, found 2$/);
    expect(() => checkNumber('X', 'v', 1, { max: 1, maxExclusive: true })).toThrow(/^X: v must be a finite number < 1, found 1$/);
    expect(() => checkNumber('X', 'v', -1, { min: 0, max: 1 })).toThrow(/^X: v must be a finite number >= 0 and <= 1, found -1$/);
    expect(() => checkNumber('X', 'v', 0, { min: 0, minExclusive: true, max: 1, maxExclusive: true })).toThrow(/^X: v must be a finite number > 0 and < 1, found 0$/);
  });

  it('checkNumber: inclusive bounds accept the bound, exclusive ones the values just inside', () => {
    expect(checkNumber('X', 'v', 0, { min: 0, max: 1 })).toBe(0);
    expect(checkNumber('X', 'v', 1, { min: 0, max: 1 })).toBe(1);
    expect(checkNumber('X', 'v', 0.999, { min: 0, max: 1, maxExclusive: true })).toBe(0.999);
    expect(checkNumber('X', 'v', 1e-9, { min: 0, minExclusive: true })).toBe(1e-9);
    expect(() => checkNumber('X', 'v', 1.5, { min: 0, max: 1, minExclusive: true })).toThrow(/^X: v must be a finite number > 0 and <= 1, found 1.5$/);
  });

  it('checkBoolean returns false and true as given; checkEpsilon accepts any positive value', () => {
    expect(checkBoolean('X', 'b', false)).toBe(false);
    expect(checkBoolean('X', 'b', true)).toBe(true);
    expect(() => checkBoolean('X', 'b', 0)).toThrow(/^X: b must be a boolean, found 0$/);
    expect(checkEpsilon('X', 1e-12)).toBe(1e-12);
    expect(() => checkEpsilon('X', 0)).toThrow(/^X: epsilon must be a finite number > 0, found 0$/);
  });
});
