/**
 * Turning a review typed by a person into the token ids the model was trained on,
 * the way the IMDB dataset itself was made: Keras' `text_to_word_sequence`, each
 * word's rank in `imdb_word_index.json`, then `load_data`'s offsets.
 */
import type { WordIndex } from './imdb.js';

/** Keras' default filters: punctuation, tab and newline. The apostrophe is not among them. */
export const DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n';

export interface TextToWordSequenceOptions {
  /** Characters replaced by `split` before splitting. */
  filters?: string;
  lower?: boolean;
  split?: string;
}

/**
 * `keras.preprocessing.text.text_to_word_sequence`, as in
 * keras/src/legacy/preprocessing/text.py (Keras 3; keras_preprocessing/text.py before it):
 *
 *     if lower: input_text = input_text.lower()
 *     input_text = input_text.translate(str.maketrans({c: split for c in filters}))
 *     seq = input_text.split(split)
 *     return [i for i in seq if i]
 *
 * One regex replace and one split: linear in the text's length.
 */
export function textToWordSequence(text: string, options: TextToWordSequenceOptions = {}): string[] {
  const { filters = DEFAULT_FILTERS, lower = true, split = ' ' } = options;
  // Python's str.split('') raises "empty separator".
  if (split === '') throw new RangeError('textToWordSequence: split must not be empty');
  if (lower) text = text.toLowerCase();
  if (filters) text = text.replace(filterPattern(filters), () => split);
  return text.split(split).filter((word) => word !== '');
}

const patterns = new Map<string, RegExp>();

/** A character class of the filters, by code point (as Python's translate works). */
function filterPattern(filters: string): RegExp {
  let pattern = patterns.get(filters);
  if (!pattern) {
    // Under the `u` flag only syntax characters (and '-' in a class) may be escaped.
    const escaped = Array.from(new Set(filters), (c) => (/[\\\]\[^$.*+?(){}|/-]/.test(c) ? `\\${c}` : c)).join('');
    pattern = new RegExp(`[${escaped}]`, 'gu');
    patterns.set(filters, pattern);
  }
  return pattern;
}

export interface EncodeReviewOptions extends TextToWordSequenceOptions {
  /** Vocabulary size: ids at or above it become `oovChar`. Default 10000 (the tutorial's). */
  numWords?: number;
  /** Offset added to every word rank. Default 3. */
  indexFrom?: number;
  /** Token that starts every review. Default 1. */
  startChar?: number;
  /** Token for words cut by `numWords`. Default 2. */
  oovChar?: number;
}

/**
 * A review as `load_data({ numWords })` would give it: `[startChar]`, then each
 * word's `rank + indexFrom`, or `oovChar` when that reaches `numWords`. Words that
 * are not in the index are dropped, as they were when the dataset was built.
 */
export function encodeReview(text: string, wordIndex: WordIndex, options: EncodeReviewOptions = {}): Int32Array {
  const { numWords = 10000, indexFrom = 3, startChar = 1, oovChar = 2 } = options;
  for (const [name, value] of Object.entries({ numWords, indexFrom, startChar, oovChar })) {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`encodeReview: ${name} must be a non-negative integer, got ${value}`);
  }
  const ids = [startChar];
  for (const word of textToWordSequence(text, options)) {
    const rank = wordIndex.get(word);
    if (rank === undefined) continue;
    const id = rank + indexFrom;
    ids.push(id < numWords ? id : oovChar);
  }
  return Int32Array.from(ids);
}
