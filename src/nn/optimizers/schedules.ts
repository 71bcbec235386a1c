/**
 * Learning-rate schedules (keras/src/optimizers/schedules/learning_rate_schedule.py): any optimizer's
 * `learningRate` may be one. Keras evaluates it at `optimizer.iterations` (the updates taken before this
 * one) in `_get_current_learning_rate` (keras/src/optimizers/base_optimizer.py).
 */
import { checkBoolean, checkNumber, checkOptions } from './validation.js';

const f32 = Math.fround;

export abstract class LearningRateSchedule {
  /** Keras' class name, for `serialize`. */
  abstract readonly className: string;
  /** The learning rate for the update that follows `step` updates, in float32 as Keras computes it. */
  abstract learningRateAt(step: number): number;
  /** Keras' get_config() (snake_case keys). */
  abstract getConfig(): Record<string, unknown>;
}

export interface ExponentialDecayOptions {
  initialLearningRate: number;
  /** Must be positive. */
  decaySteps: number;
  decayRate: number;
  /** Decay at whole multiples of decaySteps (floor of step / decaySteps). Defaults to false. */
  staircase?: boolean;
  name?: string;
}

const EXPONENTIAL_DECAY_OPTIONS = ['initialLearningRate', 'decaySteps', 'decayRate', 'staircase', 'name'] as const;

/** initial_learning_rate * decay_rate ^ (step / decay_steps), the exponent floored when staircase. */
export class ExponentialDecay extends LearningRateSchedule {
  readonly className = 'ExponentialDecay';
  readonly initialLearningRate: number;
  readonly decaySteps: number;
  readonly decayRate: number;
  readonly staircase: boolean;
  readonly name: string;

  constructor(options: ExponentialDecayOptions) {
    super();
    checkOptions('ExponentialDecay', options, EXPONENTIAL_DECAY_OPTIONS);
    const { initialLearningRate, decaySteps, decayRate, staircase = false, name = 'ExponentialDecay' } = options;
    this.initialLearningRate = checkNumber('ExponentialDecay', 'initialLearningRate', initialLearningRate, { min: 0 });
    // Keras: "Argument `decay_steps` must be > 0".
    this.decaySteps = checkNumber('ExponentialDecay', 'decaySteps', decaySteps, { min: 0, minExclusive: true });
    this.decayRate = checkNumber('ExponentialDecay', 'decayRate', decayRate, { min: 0 });
    this.staircase = checkBoolean('ExponentialDecay', 'staircase', staircase);
    this.name = name;
  }

  /**
   * Keras' `__call__`: every tensor is float32 (the dtype of `convert_to_tensor(initial_learning_rate)`),
   * so each stage is rounded; pow is evaluated in double and rounded, as adam's powers are.
   */
  learningRateAt(step: number): number {
    let p = f32(f32(step) / f32(this.decaySteps));
    if (this.staircase) p = Math.floor(p);
    return f32(f32(this.initialLearningRate) * f32(Math.pow(f32(this.decayRate), p)));
  }

  getConfig(): Record<string, unknown> {
    return {
      initial_learning_rate: this.initialLearningRate,
      decay_steps: this.decaySteps,
      decay_rate: this.decayRate,
      staircase: this.staircase,
      name: this.name,
    };
  }
}

/** Keras' `keras.optimizers.schedules.serialize` form. */
export interface SerializedSchedule {
  module?: string;
  class_name: string;
  config: Record<string, unknown>;
  registered_name?: string | null;
}

export function serializeSchedule(schedule: LearningRateSchedule): SerializedSchedule {
  return { module: 'keras.optimizers.schedules', class_name: schedule.className, config: schedule.getConfig(), registered_name: null };
}

/** The schedules `scheduleFromConfig` can rebuild. */
const SCHEDULES: Record<string, (config: Record<string, unknown>) => LearningRateSchedule> = {
  ExponentialDecay: (c) =>
    new ExponentialDecay({
      initialLearningRate: c.initial_learning_rate as number,
      decaySteps: c.decay_steps as number,
      decayRate: c.decay_rate as number,
      staircase: (c.staircase as boolean | undefined) ?? false,
      name: (c.name as string | undefined) ?? 'ExponentialDecay',
    }),
};

/** Keras' `keras.optimizers.schedules.deserialize`. */
export function scheduleFromConfig(serialized: SerializedSchedule): LearningRateSchedule {
  const make = SCHEDULES[serialized.class_name];
  if (!make) throw new RangeError(`scheduleFromConfig: unknown learning rate schedule '${serialized.class_name}' (known: ${Object.keys(SCHEDULES).join(', ')})`);
  return make(serialized.config);
}
