/**
 * Optimizers as update rules over the parameter store, with Keras 3's names, defaults and configs
 * (keras/src/optimizers/__init__.py `get`, `serialize`, `deserialize`). Adding an optimizer: its own
 * file beside this one, its shader (shaders/optimizer-<name>.wgsl), and one line in OPTIMIZERS.
 */
import { Adagrad } from './adagrad.js';
import { Adam } from './adam.js';
import { AdamW } from './adamw.js';
import { LazyAdam } from './lazy-adam.js';
import { Optimizer, UNSUPPORTED_BASE_CONFIG, type SerializedOptimizer } from './optimizer.js';
import { RMSprop } from './rmsprop.js';
import { SGD } from './sgd.js';
import { scheduleFromConfig, type SerializedSchedule } from './schedules.js';

export { Adagrad, ADAGRAD_DEFAULTS, type AdagradOptions } from './adagrad.js';
export { Adam, AdamRule, ADAM_DEFAULTS, type AdamOptions } from './adam.js';
export { LazyAdam } from './lazy-adam.js';
export { AdamW, ADAMW_DEFAULTS } from './adamw.js';
export { Optimizer, optimizerShader, MAX_PARAMS_BYTES, type LearningRate, type OptimizerOptions, type SerializedOptimizer } from './optimizer.js';
export { RMSprop, RMSPROP_DEFAULTS, type RMSpropOptions } from './rmsprop.js';
export { SGD, SGD_DEFAULTS, type SGDOptions } from './sgd.js';
export { ExponentialDecay, LearningRateSchedule, scheduleFromConfig, serializeSchedule, type ExponentialDecayOptions, type SerializedSchedule } from './schedules.js';

/** The registry, keyed by Keras' lower-case identifier (`keras.optimizers.get('adam')`). */
const OPTIMIZERS = {
  sgd: SGD,
  rmsprop: RMSprop,
  adam: Adam,
  adamw: AdamW,
  adagrad: Adagrad,
  lazyadam: LazyAdam,
} satisfies Record<string, new (options?: Record<string, never>) => Optimizer>;

export type OptimizerName = keyof typeof OPTIMIZERS;
export const OPTIMIZER_NAMES = Object.keys(OPTIMIZERS) as OptimizerName[];

function optimizerClass(op: string, identifier: string): new (options?: object) => Optimizer {
  // Keras matches built-in names case-insensitively ('Adam', 'adam').
  const key = identifier.toLowerCase();
  if (!Object.hasOwn(OPTIMIZERS, key)) throw new RangeError(`${op}: unknown optimizer '${identifier}' (known: ${OPTIMIZER_NAMES.join(', ')})`);
  return OPTIMIZERS[key as OptimizerName] as new (options?: object) => Optimizer;
}

/** `keras.optimizers.get`: a name (Keras' defaults), a serialized config, or an optimizer (returned as is). */
export function getOptimizer(identifier: OptimizerName | Optimizer | SerializedOptimizer): Optimizer {
  if (identifier instanceof Optimizer) return identifier;
  if (typeof identifier === 'string') return new (optimizerClass('getOptimizer', identifier))();
  if (identifier && typeof identifier === 'object' && typeof identifier.class_name === 'string') return optimizerFromConfig(identifier);
  throw new RangeError(`getOptimizer: expected an optimizer name (${OPTIMIZER_NAMES.join(', ')}), an Optimizer or a serialized config, found ${String(identifier)}`);
}

/** `keras.optimizers.serialize`. */
export function serializeOptimizer(optimizer: Optimizer): SerializedOptimizer {
  return { module: 'keras.optimizers', class_name: optimizer.className, config: optimizer.getConfig(), registered_name: null };
}

/**
 * `keras.optimizers.deserialize`: the optimizer `serializeOptimizer` (or Keras) wrote, or a bare `getConfig()`. Keras options
 * shadergrad does not implement (clipnorm, use_ema, ...) must be at their off values; `name` is Keras'
 * default name of the class (custom names are not kept).
 */
export function optimizerFromConfig(serialized: SerializedOptimizer | Record<string, unknown>): Optimizer {
  // A bare get_config() names its class by Keras' default name ('adam', 'sgd', ...).
  const { class_name: className, config } = typeof serialized.class_name === 'string' ? (serialized as SerializedOptimizer) : { class_name: String((serialized as Record<string, unknown>).name), config: serialized };
  const Class = optimizerClass('optimizerFromConfig', className);
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config ?? {})) {
    if (key === 'name' || key === 'ema_momentum') continue; // ema_momentum only matters with use_ema
    if (key in UNSUPPORTED_BASE_CONFIG) {
      if (value !== UNSUPPORTED_BASE_CONFIG[key]) throw new RangeError(`optimizerFromConfig: ${key} is not supported (found ${JSON.stringify(value)}, only ${JSON.stringify(UNSUPPORTED_BASE_CONFIG[key])})`);
      continue;
    }
    options[camelCase(key)] = key === 'learning_rate' && value !== null && typeof value === 'object' ? scheduleFromConfig(value as SerializedSchedule) : value;
  }
  return new Class(options);
}

/** Keras' snake_case config keys as shadergrad's option names: beta_1 -> beta1, initial_accumulator_value -> initialAccumulatorValue. */
function camelCase(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
