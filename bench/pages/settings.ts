/**
 * Checks for the bench settings that a page's URL (`?epochs=2`) and `npm run bench`'s
 * flags (`--epochs 2`) both carry: one set of rules, so the runner refuses a bad flag
 * before it starts a browser, and a page refuses the same value in its URL. A bad value is
 * a SettingError naming the setting, what it accepts and what it got, never a silent
 * default. No DOM here: bench/headless.ts imports it in Node.
 */
import { RECIPE_NAMES, RECIPES, type RecipeName } from '../../src/runner/recipes.js';

export class SettingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingError';
  }
}

/** The TensorFlow.js backends the comparison page can train on. */
export const TFJS_BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'];

/** Digits only: Number() would also take '', ' ', '1e3', '0x10' and '2.0'. */
const WHOLE = /^\d+$/;

/** A whole number of at least `min`; `setting` names it in the error ("--epochs", "URL setting epochs"). */
export function wholeNumber(setting: string, text: string, min: number): number {
  const n = WHOLE.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw new SettingError(`${setting} must be a whole number of at least ${min}, got '${text}'`);
  return n;
}

/** Whole numbers of at least `min` separated by commas: `64,512`. */
export function wholeNumbers(setting: string, text: string, min: number): number[] {
  const parts = text.split(',').map((s) => s.trim());
  const numbers = parts.map((s) => (WHOLE.test(s) ? Number(s) : NaN));
  if (numbers.some((n) => !Number.isSafeInteger(n) || n < min)) {
    throw new SettingError(`${setting} must be whole numbers of at least ${min} separated by commas (e.g. 64,512), got '${text}'`);
  }
  return numbers;
}

/** TF.js backend names separated by commas, each known and given once. */
export function backendList(setting: string, text: string): string[] {
  const names = text.split(',').map((s) => s.trim());
  const bad = names.filter((name, i) => !TFJS_BACKENDS.includes(name) || names.indexOf(name) !== i);
  if (bad.length > 0) {
    throw new SettingError(`${setting} must be TF.js backends separated by commas, each once (${TFJS_BACKENDS.join(', ')}), got '${text}'`);
  }
  return names;
}

/** A training recipe's name (src/runner/recipes.ts): `tutorial`, `fasttext-unigram`, ... */
export function recipeName(setting: string, text: string): RecipeName {
  const name = text.trim();
  if (!(RECIPE_NAMES as readonly string[]).includes(name)) throw new SettingError(`${setting} must be a recipe (${RECIPE_NAMES.join(', ')}), got '${text}'`);
  return name as RecipeName;
}

/** A recipe that validates (the tutorial's curves, best's early stopping) needs validation reviews; the others may hold out none. */
export function validationMinimum(recipe: RecipeName): number {
  return RECIPES[recipe].data.validationSize > 0 ? 1 : 0;
}
