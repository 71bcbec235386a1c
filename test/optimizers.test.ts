/**
 * The optimizers' float32 references against Keras 3's formulas written again in float64 (keras/src/optimizers/
 * adam.py, adamw.py + base_optimizer.py `_apply_weight_decay`, sgd.py, rmsprop.py, adagrad.py,
 * schedules/learning_rate_schedule.py), hand-computed steps, Keras' defaults and configs, and option checks.
 * The shaders against the references: test/kernels-optimizers.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  Adagrad,
  Adam,
  AdamW,
  ExponentialDecay,
  getOptimizer,
  Optimizer,
  optimizerFromConfig,
  RMSprop,
  serializeOptimizer,
  SGD,
  type LearningRate,
} from '../src/nn/optimizers/index.js';
import { randomFloats } from './gpu-helpers.js';

/** Keras' learning rate at `iterations` (`_get_current_learning_rate`), in float64. */
function learningRate64(lr: LearningRate, iterations: number): number {
  if (typeof lr === 'number') return lr;
  const schedule = lr as ExponentialDecay;
  const p = iterations / schedule.decaySteps;
  return schedule.initialLearningRate * schedule.decayRate ** (schedule.staircase ? Math.floor(p) : p);
}

/** One Keras update of one element in float64: returns the new weight, updates `slots` (by Keras' slot name). */
type Update64 = (w: number, g: number, slots: Record<string, number>, lr: number, t: number) => number;

/** Each optimizer's update_step, transcribed from Keras 3 in float64 (weight decay applied by the caller). */
function keras64(optimizer: Optimizer): Update64 {
  if (optimizer instanceof Adam || optimizer instanceof AdamW) {
    const { beta1, beta2, epsilon } = optimizer;
    return (w, g, s, lr, t) => {
      // Keras casts beta_1 and beta_2 to the variable's float32 before the powers (`ops.cast(self.beta_1,
      // variable.dtype)`): 1 - float32(0.999) is 1.3e-5 away from 0.001 relative, too far to ignore.
      const alpha = (lr * Math.sqrt(1 - Math.fround(beta2) ** t)) / (1 - Math.fround(beta1) ** t);
      s.momentum += (g - s.momentum) * (1 - beta1);
      s.velocity += (g * g - s.velocity) * (1 - beta2);
      return w - (s.momentum * alpha) / (Math.sqrt(s.velocity) + epsilon);
    };
  }
  if (optimizer instanceof SGD) {
    const { momentum, nesterov } = optimizer;
    return (w, g, s, lr) => {
      if (momentum === 0) return w - g * lr;
      s.momentum = s.momentum * momentum - g * lr;
      return nesterov ? w + (s.momentum * momentum - g * lr) : w + s.momentum;
    };
  }
  if (optimizer instanceof RMSprop) {
    const { rho, momentum, epsilon, centered } = optimizer;
    return (w, g, s, lr) => {
      s.velocity = rho * s.velocity + (1 - rho) * g * g;
      let denominator = s.velocity + epsilon;
      if (centered) {
        s.average_gradient = rho * s.average_gradient + (1 - rho) * g;
        denominator = s.velocity - s.average_gradient ** 2 + epsilon;
      }
      const increment = (lr * g) / Math.sqrt(denominator);
      if (momentum === 0) return w - increment;
      s.momentum = momentum * s.momentum + increment;
      return w - s.momentum;
    };
  }
  if (optimizer instanceof Adagrad) {
    const { epsilon } = optimizer;
    return (w, g, s, lr) => {
      s.accumulator += g * g;
      return w - (lr * g) / Math.sqrt(s.accumulator + epsilon);
    };
  }
  throw new Error(`no float64 formula for ${optimizer.name}`);
}

/** Gradients with zeros, large and tiny values among ordinary ones (no float32 overflow: float64 would not). */
function awkwardGradients(n: number, seed: number): Float32Array {
  const g = randomFloats(n, seed, -1, 1);
  for (let i = 0; i < n; i += 7) g[i] = 0;
  for (let i = 1; i < n; i += 11) g[i] *= 1e4;
  for (let i = 2; i < n; i += 13) g[i] *= 1e-6;
  for (let i = 3; i < n; i += 17) g[i] *= 1e-12;
  return g;
}

const schedule = () => new ExponentialDecay({ initialLearningRate: 0.05, decaySteps: 2, decayRate: 0.5 });
const CASES: [string, () => Optimizer][] = [
  ['Adam (defaults)', () => new Adam()],
  ['Adam (lr 0.01, beta1 0.8, beta2 0.99, epsilon 1e-5)', () => new Adam({ learningRate: 0.01, beta1: 0.8, beta2: 0.99, epsilon: 1e-5 })],
  ['Adam with ExponentialDecay', () => new Adam({ learningRate: schedule() })],
  ['AdamW (defaults)', () => new AdamW()],
  ['AdamW (weightDecay 0.1, lr 0.01)', () => new AdamW({ weightDecay: 0.1, learningRate: 0.01 })],
  ['SGD (defaults)', () => new SGD()],
  ['SGD (momentum 0.9)', () => new SGD({ momentum: 0.9 })],
  ['SGD (momentum 0.9, nesterov)', () => new SGD({ momentum: 0.9, nesterov: true })],
  ['SGD (weightDecay 0.01, staircase schedule)', () => new SGD({ weightDecay: 0.01, learningRate: new ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 3, decayRate: 0.9, staircase: true }) })],
  ['RMSprop (defaults)', () => new RMSprop()],
  ['RMSprop (momentum 0.5)', () => new RMSprop({ momentum: 0.5 })],
  ['RMSprop (centered)', () => new RMSprop({ centered: true })],
  ['RMSprop (centered, momentum 0.5, rho 0.8)', () => new RMSprop({ centered: true, momentum: 0.5, rho: 0.8 })],
  ['Adagrad (defaults)', () => new Adagrad()],
  ['Adagrad (lr 0.1, initialAccumulatorValue 0, epsilon 1e-3)', () => new Adagrad({ learningRate: 0.1, initialAccumulatorValue: 0, epsilon: 1e-3 })],
];

describe('float32 references against the float64 formulas from Keras', () => {
  for (const [label, make] of CASES) {
    it(`${label}: 6 steps over zeros, large and tiny gradients`, () => {
      const optimizer = make();
      const n = 997;
      const update64 = keras64(optimizer);
      const weights = randomFloats(n, 3, -2, 2);
      const slots = optimizer.slotNames.map((_, k) => new Float32Array(n).fill(optimizer.slotInitialValue(k)));
      const w64 = Float64Array.from(weights);
      const slots64 = Array.from({ length: n }, () => Object.fromEntries(optimizer.slotNames.map((name, k) => [name, optimizer.slotInitialValue(k)])));
      let maxStep = 0;
      // The largest magnitude each slot reached per element: sums that cancel (average_gradient, momentum)
      // keep float32 errors of their largest terms.
      const peaks = slots64.map((values) => ({ ...values }));
      for (let iterations = 0; iterations < 6; iterations++) {
        const grads = awkwardGradients(n, 40 + iterations);
        const lr = learningRate64(optimizer.learningRate, iterations);
        const before = Float64Array.from(w64);
        for (let i = 0; i < n; i++) {
          // keras/src/optimizers/base_optimizer.py: weight decay first, with the same learning rate.
          const decayed = optimizer.weightDecay === null ? w64[i] : w64[i] - w64[i] * optimizer.weightDecay * lr;
          w64[i] = update64(decayed, grads[i], slots64[i], lr, iterations + 1);
          maxStep = Math.max(maxStep, Math.abs(w64[i] - before[i]));
          for (const name of optimizer.slotNames) peaks[i][name] = Math.max(Math.abs(peaks[i][name]), Math.abs(slots64[i][name]));
        }
        optimizer.reference(weights, grads, slots, iterations);
      }
      expect(maxStep, 'the weights moved').toBeGreaterThan(0);
      // float32 rounds the weight twice a step (decay, update): one ulp (2^-23 relative) each over 6 steps,
      // plus a small part of the largest step for the update's own rounding.
      for (let i = 0; i < n; i++) {
        const tolerance = 12 * 2 ** -23 * Math.abs(w64[i]) + 1e-5 * maxStep;
        if (!(Math.abs(weights[i] - w64[i]) <= tolerance)) expect.fail(`weight ${i}: ${weights[i]} is not within ${tolerance} of ${w64[i]}`);
        optimizer.slotNames.forEach((name, k) => {
          const expected = slots64[i][name];
          // + a few float32 subnormal steps (2^-149): g = 1e-18 gives velocities near 1e-39.
          const slotTolerance = 1e-5 * Math.abs(expected) + 1e-6 * peaks[i][name] + 2 ** -146;
          if (!(Math.abs(slots[k][i] - expected) <= slotTolerance)) expect.fail(`${name} ${i}: ${slots[k][i]} is not within ${slotTolerance} of ${expected}`);
        });
      }
    });
  }
});

describe('one step computed by hand from Keras formulas (w = 1, g = 0.5, defaults unless named)', () => {
  const step = (optimizer: Optimizer, grads = [0.5], weight = 1): number => {
    const w = new Float32Array([weight]);
    const slots = optimizer.slotNames.map((_, k) => new Float32Array([optimizer.slotInitialValue(k)]));
    grads.forEach((g, iterations) => optimizer.reference(w, new Float32Array([g]), slots, iterations));
    return w[0];
  };
  // Within a few float32 ulps of 1 (6e-8): the hand values are exact decimals of double arithmetic.
  const near = (actual: number, expected: number, ulps = 2) => expect(Math.abs(actual - expected)).toBeLessThanOrEqual(ulps * 2 ** -24 * Math.max(1, Math.abs(expected)));

  it('Adam: m = 0.05, v = 0.00025, alpha = 0.001 sqrt(0.001) / 0.1; w = 1 - 0.05 alpha / (sqrt(0.00025) + 1e-7) = 0.9990000063245', () => {
    near(step(new Adam()), 0.9990000063245154);
  });
  it('AdamW: decay first, w = 1 - 1 * 0.004 * 0.001 = 0.999996, then the same Adam step: 0.9989960063245', () => {
    near(step(new AdamW()), 0.9989960063245154);
  });
  it('SGD: w = 1 - 0.5 * 0.01 = 0.995; momentum 0.9 over two steps: m = -0.005, then -0.0045 - 0.005; w = 0.9855', () => {
    near(step(new SGD()), 0.995);
    near(step(new SGD({ momentum: 0.9 }), [0.5, 0.5]), 0.9855);
  });
  it('SGD nesterov 0.9: m = -0.005; w = 1 + (-0.005 * 0.9 - 0.005) = 0.9905', () => {
    near(step(new SGD({ momentum: 0.9, nesterov: true })), 0.9905);
  });
  it("RMSprop: Keras' docstring example (lr 0.1, w = 10, g = w): v = 10, w = 10 - 1 / sqrt(10 + 1e-7) = 9.683772", () => {
    near(step(new RMSprop({ learningRate: 0.1 }), [10], 10), 9.683772235564302, 16);
  });
  it('RMSprop: v = 0.025; w = 1 - 0.0005 / sqrt(0.025 + 1e-7) = 0.99683772866 (epsilon inside the root)', () => {
    near(step(new RMSprop()), 0.9968377286643679);
  });
  it('RMSprop centered: a = 0.05, denominator = 0.025 - 0.0025 + 1e-7; w = 1 - 0.0005 / sqrt(0.0225001) = 0.99666667407', () => {
    near(step(new RMSprop({ centered: true })), 0.9966666740740494);
  });
  it('RMSprop momentum 0.5, two steps: s = 0.0031622713, v = 0.0475, s = 0.5 s + 0.0005 / sqrt(0.0475001); w = 0.99296243807', () => {
    near(step(new RMSprop({ momentum: 0.5 }), [0.5, 0.5]), 0.992962438072745);
  });
  it('Adagrad: a = 0.1 + 0.25 = 0.35; w = 1 - 0.0005 / sqrt(0.35 + 1e-7) = 0.99915484587', () => {
    near(step(new Adagrad()), 0.9991548458660078);
  });
});

describe('ExponentialDecay', () => {
  for (const staircase of [false, true]) {
    it(`matches initial * rate ^ (step / decaySteps)${staircase ? ', exponent floored' : ''} within float32 rounding`, () => {
      // Keras computes in float32: the rate's rounding (2^-24 relative) is raised to the power p.
      const s = new ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.96, staircase });
      for (const step of [0, 1, 5, 9, 10, 11, 15, 99, 100, 1000, 12345]) {
        const p = step / 10;
        const expected = 0.1 * 0.96 ** (staircase ? Math.floor(p) : p);
        expect(Math.abs(s.learningRateAt(step) - expected), `step ${step}`).toBeLessThanOrEqual((4 + p) * 2 ** -24 * expected);
      }
    });
  }
  it('by hand: 0.1 * 0.5^(15 / 10) = 0.0353553 smooth, 0.1 * 0.5^1 = 0.05 staircase; the initial rate at step 0', () => {
    const options = { initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5 };
    expect(new ExponentialDecay(options).learningRateAt(15)).toBeCloseTo(0.035355339, 8);
    expect(new ExponentialDecay({ ...options, staircase: true }).learningRateAt(15)).toBe(Math.fround(0.05));
    expect(new ExponentialDecay(options).learningRateAt(0)).toBe(Math.fround(0.1));
  });
  it("an optimizer evaluates it at iterations (Keras' _get_current_learning_rate), not iterations + 1", () => {
    const sgd = new SGD({ learningRate: new ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 1, decayRate: 0.5 }) });
    expect(sgd.currentLearningRate(0)).toBe(Math.fround(0.1));
    expect(sgd.currentLearningRate(2)).toBe(Math.fround(0.025));
    const w = new Float32Array([1]);
    sgd.reference(w, new Float32Array([1]), [], 2);
    expect(w[0]).toBe(Math.fround(1 - Math.fround(0.025)));
  });
  it('rejects decaySteps <= 0 as Keras does, and unknown options', () => {
    expect(() => new ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 0, decayRate: 0.5 })).toThrow(/ExponentialDecay: decaySteps must be a finite number > 0, found 0/);
    expect(() => new ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 1, decayRate: 0.5, decay: 1 } as never)).toThrow(/unknown option 'decay'/);
  });
});

describe("Keras' defaults, slots and configs", () => {
  const base = { weight_decay: null, clipnorm: null, global_clipnorm: null, clipvalue: null, use_ema: false, ema_momentum: 0.99, ema_overwrite_frequency: null, loss_scale_factor: null, gradient_accumulation_steps: null };
  // Each optimizer's __init__ defaults and get_config() in Keras 3 (name: Keras' default name).
  const expected: [Optimizer, Record<string, unknown>, string[]][] = [
    [new Adam(), { ...base, name: 'adam', learning_rate: 0.001, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7, amsgrad: false }, ['momentum', 'velocity']],
    [new AdamW(), { ...base, name: 'adamw', learning_rate: 0.001, weight_decay: 0.004, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7, amsgrad: false }, ['momentum', 'velocity']],
    [new SGD(), { ...base, name: 'sgd', learning_rate: 0.01, momentum: 0, nesterov: false }, []],
    [new RMSprop(), { ...base, name: 'rmsprop', learning_rate: 0.001, rho: 0.9, momentum: 0, epsilon: 1e-7, centered: false }, ['velocity']],
    [new Adagrad(), { ...base, name: 'adagrad', learning_rate: 0.001, initial_accumulator_value: 0.1, epsilon: 1e-7 }, ['accumulator']],
  ];
  for (const [optimizer, config, slots] of expected) {
    it(`${optimizer.className}: get_config and slots`, () => {
      expect(optimizer.getConfig()).toEqual(config);
      expect([...optimizer.slotNames]).toEqual(slots);
      expect(optimizer.iterations).toBe(0);
      expect(optimizer.params(0).byteLength).toBeLessThanOrEqual(64);
    });
  }

  it('slots follow the options as Keras builds them', () => {
    expect(new SGD({ momentum: 0.5 }).slotNames).toEqual(['momentum']);
    expect(new RMSprop({ momentum: 0.5 }).slotNames).toEqual(['velocity', 'momentum']);
    expect(new RMSprop({ centered: true }).slotNames).toEqual(['velocity', 'average_gradient']);
    expect(new RMSprop({ centered: true, momentum: 0.1 }).slotNames).toEqual(['velocity', 'momentum', 'average_gradient']);
    expect(new Adagrad({ initialAccumulatorValue: 0.25 }).slotInitialValue(0)).toBe(0.25);
    expect(new Adam().slotInitialValue(1)).toBe(0);
    expect(() => new Adam().slotInitialValue(2)).toThrow(/Adam: slot must be an integer in \[0, 2\), found 2/);
  });

  it('params: learningRate, weightDecay, decayWeights, then the constants of the update', () => {
    const view = (bytes: Uint8Array) => new DataView(bytes.buffer);
    const adamw = view(new AdamW({ learningRate: 0.5, weightDecay: 0.25 }).params(0));
    expect([adamw.getFloat32(0, true), adamw.getFloat32(4, true), adamw.getUint32(8, true)]).toEqual([0.5, 0.25, 1]);
    const sgd = view(new SGD({ momentum: 0.5 }).params(3));
    expect([sgd.getFloat32(0, true), sgd.getUint32(8, true), sgd.getFloat32(12, true), sgd.byteLength]).toEqual([Math.fround(0.01), 0, 0.5, 16]);
  });
});

describe('the registry', () => {
  it("getOptimizer takes Keras' names (any case), instances and serialized configs", () => {
    for (const [name, Class] of [['sgd', SGD], ['rmsprop', RMSprop], ['adam', Adam], ['adamw', AdamW], ['adagrad', Adagrad]] as const) {
      const optimizer = getOptimizer(name);
      expect(optimizer).toBeInstanceOf(Class);
      expect(optimizer.name).toBe(name);
    }
    expect(getOptimizer('Adam' as 'adam')).toBeInstanceOf(Adam);
    const mine = new SGD({ momentum: 0.9 });
    expect(getOptimizer(mine)).toBe(mine);
    expect(() => getOptimizer('adadelta' as 'adam')).toThrow(/getOptimizer: unknown optimizer 'adadelta' \(known: sgd, rmsprop, adam, adamw, adagrad, lazyadam\)/);
  });

  it('serialize and fromConfig round-trip every option, schedules included', () => {
    const optimizers = [
      new Adam({ learningRate: 0.01, beta1: 0.8, beta2: 0.99, epsilon: 1e-5 }),
      new AdamW({ weightDecay: 0.1, learningRate: new ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 5, decayRate: 0.9, staircase: true }) }),
      new SGD({ momentum: 0.9, nesterov: true, weightDecay: 0.001 }),
      new RMSprop({ rho: 0.8, momentum: 0.5, epsilon: 1e-6, centered: true }),
      new Adagrad({ initialAccumulatorValue: 0.5, epsilon: 1e-4 }),
    ];
    for (const optimizer of optimizers) {
      const serialized = JSON.parse(JSON.stringify(serializeOptimizer(optimizer)));
      const copy = optimizerFromConfig(serialized);
      expect(copy.constructor).toBe(optimizer.constructor);
      expect(copy.getConfig()).toEqual(optimizer.getConfig());
      expect(copy.params(7)).toEqual(optimizer.params(7));
      expect(getOptimizer(serialized).getConfig()).toEqual(optimizer.getConfig());
      expect(optimizerFromConfig(optimizer.getConfig()).getConfig()).toEqual(optimizer.getConfig());
    }
    expect(serializeOptimizer(new AdamW()).class_name).toBe('AdamW');
  });

  it('fromConfig refuses Keras features shadergrad lacks', () => {
    const config = { ...new Adam().getConfig(), clipnorm: 1 };
    expect(() => optimizerFromConfig({ class_name: 'Adam', config })).toThrow(/optimizerFromConfig: clipnorm is not supported \(found 1, only null\)/);
    expect(() => optimizerFromConfig({ class_name: 'Adam', config: { amsgrad: true } })).toThrow(/Adam: amsgrad is not supported/);
  });
});

describe('option checks: one RangeError naming the option', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['learningRate', () => new Adam({ learningRate: -1 }), /Adam: learningRate must be a finite number >= 0, found -1/],
    ['learningRate NaN', () => new SGD({ learningRate: NaN }), /SGD: learningRate must be a finite number >= 0, found NaN/],
    ['beta1', () => new Adam({ beta1: 1 }), /Adam: beta1 must be a finite number >= 0 and < 1, found 1/],
    ['beta2', () => new AdamW({ beta2: -0.1 }), /AdamW: beta2 must be a finite number >= 0 and < 1, found -0.1/],
    ['epsilon', () => new Adagrad({ epsilon: -1 }), /Adagrad: epsilon must be a finite number > 0, found -1/],
    ['epsilon 0 (0 / 0 for a weight never moved)', () => new RMSprop({ epsilon: 0 }), /RMSprop: epsilon must be a finite number > 0, found 0/],
    ['amsgrad', () => new Adam({ amsgrad: true as false }), /Adam: amsgrad is not supported \(only amsgrad: false\), found true/],
    ['weightDecay', () => new SGD({ weightDecay: -0.1 }), /SGD: weightDecay must be a finite number >= 0, found -0.1/],
    ['AdamW without decay', () => new AdamW({ weightDecay: null }), /AdamW: weightDecay must be a number/],
    ['momentum', () => new SGD({ momentum: 1.5 }), /SGD: momentum must be a finite number >= 0 and <= 1, found 1.5/],
    ['nesterov', () => new SGD({ nesterov: 'yes' as never }), /SGD: nesterov must be a boolean, found yes/],
    ['rho', () => new RMSprop({ rho: 2 }), /RMSprop: rho must be a finite number >= 0 and <= 1, found 2/],
    ['centered', () => new RMSprop({ centered: 1 as never }), /RMSprop: centered must be a boolean, found 1/],
    ['initialAccumulatorValue', () => new Adagrad({ initialAccumulatorValue: -0.1 }), /Adagrad: initialAccumulatorValue must be a finite number >= 0, found -0.1/],
    ['unknown option', () => new Adam({ lr: 0.1 } as never), /Adam: unknown option 'lr' \(known: learningRate, weightDecay, beta1, beta2, epsilon, amsgrad\)/],
    ['iterations', () => new Adam().params(-1), /Adam: iterations must be an integer >= 0, found -1/],
    ['reference slots', () => new Adam().reference(new Float32Array(4), new Float32Array(4), [new Float32Array(4)], 0), /Adam.reference: 1 slots, expected 2 \(momentum, velocity\)/],
  ];
  for (const [label, make, message] of cases) {
    it(label, () => {
      expect(make).toThrow(RangeError);
      expect(make).toThrow(message);
    });
  }
});
