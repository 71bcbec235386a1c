/** Option checks shared by the optimizers and schedules: one RangeError naming the class and the option. */

/** Rejects option names the class does not know (Keras: "Argument(s) not recognized"). */
export function checkOptions(className: string, options: object, known: readonly string[]): void {
  if (options === null || typeof options !== 'object') throw new RangeError(`${className}: options must be an object, found ${String(options)}`);
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new RangeError(`${className}: unknown option '${key}' (known: ${known.join(', ')})`);
  }
}

export interface NumberRange {
  min?: number;
  max?: number;
  minExclusive?: boolean;
  maxExclusive?: boolean;
}

/** A finite number within the range, returned; else a RangeError naming the option and the range. */
export function checkNumber(className: string, option: string, value: unknown, range: NumberRange = {}): number {
  const { min = -Infinity, max = Infinity, minExclusive = false, maxExclusive = false } = range;
  const inRange = typeof value === 'number' && Number.isFinite(value) && (minExclusive ? value > min : value >= min) && (maxExclusive ? value < max : value <= max);
  if (!inRange) {
    const low = min === -Infinity ? '' : `${minExclusive ? '>' : '>='} ${min}`;
    const high = max === Infinity ? '' : `${maxExclusive ? '<' : '<='} ${max}`;
    const wanted = [low, high].filter(Boolean).join(' and ');
    throw new RangeError(`${className}: ${option} must be a finite number${wanted ? ` ${wanted}` : ''}, found ${String(value)}`);
  }
  return value as number;
}

export function checkBoolean(className: string, option: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new RangeError(`${className}: ${option} must be a boolean, found ${String(value)}`);
  return value;
}

/**
 * epsilon > 0. Keras accepts 0, but then a weight whose gradients have all been zero (an unused embedding
 * row, the store's padding) divides 0 by 0 and becomes NaN.
 */
export function checkEpsilon(className: string, value: unknown): number {
  return checkNumber(className, 'epsilon', value, { min: 0, minExclusive: true });
}
