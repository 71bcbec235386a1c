/**
 * `keras.layers.TextVectorization` in `output_mode='int'`, in plain TypeScript
 * (no GPU, no Node APIs: it runs in a browser too).
 *
 * Ported from Keras 3: keras/src/layers/preprocessing/text_vectorization.py
 * (`_preprocess`, `call`, `get_config`, `from_config`) and the vocabulary logic it
 * delegates to keras/src/layers/preprocessing/index_lookup.py through StringLookup
 * (`finalize_state`, `set_vocabulary`, `get_vocabulary`; mask token '' and one OOV
 * token '[UNK]'). TensorFlow's string ops are reproduced as they act on bytes:
 * - `tf.strings.lower` without an encoding is `absl::AsciiStrToLower`
 *   (tensorflow/core/kernels/string_lower_op.cc): only A-Z change; 'É' stays 'É'.
 * - `tf.strings.split` without a separator splits on runs of ASCII whitespace
 *   (space, \t, \n, \v, \f, \r), like Python's `bytes.split()`; no empty tokens.
 * - The punctuation pattern is Keras' own, all ASCII, removed (not replaced by a space).
 */
import { DataError } from './errors.js';

/** Keras' `lower_and_strip_punctuation` pattern, verbatim from text_vectorization.py `_preprocess`. */
export const KERAS_PUNCTUATION_PATTERN = String.raw`[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_` + '`' + String.raw`{|}~\']`;
const PUNCTUATION = new RegExp(KERAS_PUNCTUATION_PATTERN, 'g');
const ASCII_WHITESPACE = /[ \t\n\v\f\r]+/;
const ASCII_ONLY = /^[\x00-\x7f]*$/;
const ASCII_UPPER_RUN = /[A-Z]+/g;

/** The padding (mask) token at index 0 and the out-of-vocabulary token at index 1 (StringLookup's defaults). */
export const MASK_TOKEN = '';
export const OOV_TOKEN = '[UNK]';
/** Index of the first learned token: one mask token plus one OOV token (`_token_start_index()` in 'int' mode). */
const TOKEN_START = 2;
const OOV_INDEX = 1;

export type StandardizeName = 'lower_and_strip_punctuation' | 'lower' | 'strip_punctuation';
export type StandardizeFunction = (text: string) => string;
export type SplitName = 'whitespace' | 'character';

export interface TextVectorizationOptions {
  /** Vocabulary size including '' and '[UNK]'; adapt keeps the `maxTokens - 2` most frequent tokens. */
  maxTokens?: number | null;
  /** Default 'lower_and_strip_punctuation'. A function must be registered (`registerStandardize`) to be saved. */
  standardize?: StandardizeName | StandardizeFunction | null;
  /** Default 'whitespace'. `null`: each text is one token. */
  split?: SplitName | null;
  /** `n`: n-grams of widths 1..n; an array: exactly those widths (Keras' tuple). */
  ngrams?: number | number[] | null;
  /** Only 'int' is implemented. */
  outputMode?: 'int';
  /** Pad with 0 or cut, both at the end, to this many ids; null: the longest text in each call. */
  outputSequenceLength?: number | null;
  /** A vocabulary to start from (with or without the leading '' and '[UNK]'), instead of `adapt`. */
  vocabulary?: string[] | null;
  name?: string;
}

/** Keras' `get_config()` of TextVectorization, snake_case as Keras writes it (keys Keras has but only 'int' needs are fixed). */
export interface TextVectorizationConfig {
  name: string;
  trainable: boolean;
  max_tokens: number | null;
  standardize: StandardizeName | string | null;
  split: SplitName | null;
  ngrams: number | number[] | null;
  output_mode: 'int';
  output_sequence_length: number | null;
  pad_to_max_tokens: boolean;
  sparse: boolean;
  ragged: boolean;
  vocabulary: string[] | null;
  idf_weights: null;
  encoding: 'utf-8';
  vocabulary_size: number;
}

/** A bad argument, vocabulary or config: one line naming it. */
export class TextVectorizationError extends DataError {}

/** Token ids, row-major `[texts, sequenceLength]` (the shape `Sequential.fit` takes). */
export interface TokenIds {
  data: Int32Array;
  shape: [number, number];
}

/**
 * The newer TensorFlow tutorial's `custom_standardization`: `tf.strings.lower`, `'<br />'` -> `' '`,
 * then `'[%s]' % re.escape(string.punctuation)` removed (the same characters as Keras' pattern).
 */
export function lowerStripHtmlBreaksAndPunctuation(text: string): string {
  return stripPunctuation(asciiLower(text).replaceAll('<br />', ' '));
}

const registeredStandardizers = new Map<string, StandardizeFunction>([
  ['lower_strip_html_breaks_and_punctuation', lowerStripHtmlBreaksAndPunctuation],
]);

/**
 * Names a standardize function so configs can refer to it, as Keras'
 * `register_keras_serializable` does for a callable `standardize`.
 */
export function registerStandardize(name: string, fn: StandardizeFunction): void {
  if (isBuiltInStandardize(name)) throw new TextVectorizationError(`registerStandardize: '${name}' is a built-in standardize mode`);
  registeredStandardizers.set(name, fn);
}

function registeredName(fn: StandardizeFunction): string | undefined {
  for (const [name, registered] of registeredStandardizers) if (registered === fn) return name;
  return undefined;
}

function isBuiltInStandardize(name: string): name is StandardizeName {
  return name === 'lower_and_strip_punctuation' || name === 'lower' || name === 'strip_punctuation';
}

/** `absl::AsciiStrToLower`: A-Z only. Native toLowerCase when the text is all ASCII (the usual case, and fast). */
export function asciiLower(text: string): string {
  return ASCII_ONLY.test(text) ? text.toLowerCase() : text.replace(ASCII_UPPER_RUN, (run) => run.toLowerCase());
}

function stripPunctuation(text: string): string {
  return text.replace(PUNCTUATION, '');
}

/**
 * Orders strings by code point, which is the UTF-8 byte order numpy uses for
 * TensorFlow's byte strings; JS's `<` compares UTF-16 units, which disagrees
 * when a surrogate pair meets a character in U+E000..U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      // Surrogates (astral code points) sort after U+E000..U+FFFF.
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

function checkPositiveInteger(value: unknown, what: string, minimum = 1): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < minimum) {
    throw new TextVectorizationError(`TextVectorization: ${what} must be an integer >= ${minimum}, got ${JSON.stringify(value)}`);
  }
  return value;
}

export class TextVectorization {
  readonly name: string;
  readonly maxTokens: number | null;
  readonly standardize: StandardizeName | StandardizeFunction | null;
  readonly split: SplitName | null;
  readonly ngrams: number | number[] | null;
  readonly outputSequenceLength: number | null;
  /** Widths of the n-grams made (Keras' `_ngrams`): `ngrams: 2` -> [1, 2]. */
  private readonly ngramWidths: number[] | null;
  /** Learned tokens, in index order from index 2. */
  private tokens: string[] = [];
  private index = new Map<string, number>();
  /** Set by a constructor vocabulary or `setVocabulary`: Keras refuses to adapt such a layer. */
  private hasInputVocabulary: boolean;
  private inputVocabulary: string[] | null;

  constructor(options: TextVectorizationOptions = {}) {
    const {
      maxTokens = null,
      standardize = 'lower_and_strip_punctuation',
      split = 'whitespace',
      ngrams = null,
      outputMode = 'int',
      outputSequenceLength = null,
      vocabulary = null,
      name = 'text_vectorization',
    } = options;
    // index_lookup.py: "If set, `max_tokens` must be greater than 1."
    if (maxTokens !== null) checkPositiveInteger(maxTokens, 'maxTokens', TOKEN_START);
    if (outputMode !== 'int') throw new TextVectorizationError(`TextVectorization: only outputMode 'int' is implemented, got ${JSON.stringify(outputMode)}`);
    if (outputSequenceLength !== null) checkPositiveInteger(outputSequenceLength, 'outputSequenceLength');
    if (!(standardize === null || typeof standardize === 'function' || isBuiltInStandardize(standardize))) {
      throw new TextVectorizationError(
        `TextVectorization: standardize must be 'lower_and_strip_punctuation', 'lower', 'strip_punctuation', null or a function, got ${JSON.stringify(standardize)}`,
      );
    }
    if (!(split === null || split === 'whitespace' || split === 'character')) {
      throw new TextVectorizationError(`TextVectorization: split must be 'whitespace', 'character' or null, got ${JSON.stringify(split)}`);
    }
    if (ngrams !== null) {
      const widths = typeof ngrams === 'number' ? [ngrams] : ngrams;
      if (!Array.isArray(widths) || widths.length === 0) throw new TextVectorizationError(`TextVectorization: ngrams must be null, an integer or a list of integers, got ${JSON.stringify(ngrams)}`);
      widths.forEach((w) => checkPositiveInteger(w, 'each ngrams width'));
      if (split === null) throw new TextVectorizationError('TextVectorization: ngrams needs a split (each text is one token with split null)');
    }
    this.name = name;
    this.maxTokens = maxTokens;
    this.standardize = standardize;
    this.split = split;
    this.ngrams = ngrams === null ? null : Array.isArray(ngrams) ? [...ngrams] : ngrams;
    // text_vectorization.py: an int n means widths range(1, n + 1).
    this.ngramWidths = ngrams === null ? null : typeof ngrams === 'number' ? Array.from({ length: ngrams }, (_, i) => i + 1) : [...ngrams];
    this.outputSequenceLength = outputSequenceLength;
    this.hasInputVocabulary = vocabulary !== null;
    this.inputVocabulary = vocabulary === null ? null : [...vocabulary];
    if (vocabulary !== null) this.setVocabulary(vocabulary);
  }

  /** `_preprocess` for one text: standardize, split, n-grams. */
  tokenize(text: string): string[] {
    if (typeof text !== 'string') throw new TextVectorizationError(`TextVectorization: each input must be a string, got ${typeof text}`);
    let t = text;
    const s = this.standardize;
    if (s === 'lower' || s === 'lower_and_strip_punctuation') t = asciiLower(t);
    if (s === 'strip_punctuation' || s === 'lower_and_strip_punctuation') t = stripPunctuation(t);
    if (typeof s === 'function') {
      t = s(t);
      if (typeof t !== 'string') throw new TextVectorizationError(`TextVectorization: the standardize function returned ${typeof t}, not a string`);
    }
    let words: string[];
    if (this.split === 'whitespace') {
      words = t.split(ASCII_WHITESPACE);
      // Leading or trailing whitespace leaves one empty string at that end.
      if (words.length && words[words.length - 1] === '') words.pop();
      if (words.length && words[0] === '') words.shift();
    } else if (this.split === 'character') {
      words = Array.from(t); // tf.strings.unicode_split: one code point each
    } else {
      words = [t];
    }
    return this.ngramWidths ? makeNgrams(words, this.ngramWidths) : words;
  }

  /**
   * Builds the vocabulary from `texts` (index_lookup.py `finalize_state`): counts every
   * token, drops '' and '[UNK]', sorts by `np.lexsort((tokens, counts))[::-1]`, i.e. by
   * count, most frequent first, and equal counts by the token's UTF-8 bytes in DESCENDING
   * order (Keras: "ties broken by sort order of the tokens (high to low)"); keeps the first
   * `maxTokens - 2`. Replaces any earlier adapt.
   */
  adapt(texts: Iterable<string>): void {
    if (this.hasInputVocabulary) {
      throw new TextVectorizationError(`TextVectorization '${this.name}': cannot adapt after a vocabulary was set (Keras refuses too)`);
    }
    const counts = new Map<string, number>();
    for (const text of texts) {
      for (const token of this.tokenize(text)) counts.set(token, (counts.get(token) ?? 0) + 1);
    }
    counts.delete(MASK_TOKEN);
    counts.delete(OOV_TOKEN);
    const sorted = [...counts.keys()].sort((a, b) => counts.get(b)! - counts.get(a)! || compareCodePoints(b, a));
    if (this.maxTokens !== null) sorted.length = Math.min(sorted.length, this.maxTokens - TOKEN_START);
    this.setTokens(sorted);
  }

  /**
   * index_lookup.py `set_vocabulary`: the leading '' and '[UNK]' are optional (both or
   * neither); repeated tokens, '' elsewhere, an empty list or more than `maxTokens` fail.
   */
  setVocabulary(vocabulary: string[]): void {
    if (!Array.isArray(vocabulary) || vocabulary.some((t) => typeof t !== 'string')) {
      throw new TextVectorizationError('TextVectorization: a vocabulary must be an array of strings');
    }
    if (vocabulary.length === 0) throw new TextVectorizationError('TextVectorization: cannot set an empty vocabulary');
    const tokens = vocabulary[0] === MASK_TOKEN && vocabulary[1] === OOV_TOKEN ? vocabulary.slice(TOKEN_START) : vocabulary;
    const seen = new Set<string>();
    const repeated = new Set<string>();
    for (const t of tokens) (seen.has(t) ? repeated : seen).add(t);
    if (repeated.size) {
      throw new TextVectorizationError(`TextVectorization: the vocabulary repeats ${[...repeated].slice(0, 5).map((t) => JSON.stringify(t)).join(', ')}`);
    }
    if (seen.has(MASK_TOKEN)) {
      throw new TextVectorizationError(`TextVectorization: the padding token '' may only be first, followed by '[UNK]' (at index ${vocabulary.lastIndexOf(MASK_TOKEN)})`);
    }
    const size = TOKEN_START + tokens.length;
    if (this.maxTokens !== null && size > this.maxTokens) {
      throw new TextVectorizationError(`TextVectorization: the vocabulary has ${size} entries with '' and '[UNK]', more than maxTokens ${this.maxTokens}`);
    }
    this.hasInputVocabulary = true;
    this.setTokens([...tokens]);
  }

  private setTokens(tokens: string[]): void {
    this.tokens = tokens;
    this.index = new Map(tokens.map((t, i) => [t, i + TOKEN_START]));
  }

  /** `['', '[UNK]', ...learned]`, or only the learned tokens. Index i is the id a token gets. */
  getVocabulary(includeSpecialTokens = true): string[] {
    return includeSpecialTokens ? [MASK_TOKEN, OOV_TOKEN, ...this.tokens] : [...this.tokens];
  }

  vocabularySize(): number {
    return TOKEN_START + this.tokens.length;
  }

  /** The id of one token: its index, 1 for an unknown token, 0 for ''. */
  tokenId(token: string): number {
    if (token === MASK_TOKEN) return 0;
    return this.index.get(token) ?? OOV_INDEX;
  }

  /**
   * Texts to ids, `[texts.length, outputSequenceLength]`: each row's ids, cut or padded
   * with 0 at the end (text_vectorization.py `call`: `lookup_data[..., :L]`, then `tf.pad`
   * after). Without `outputSequenceLength`, rows are padded to the longest one.
   */
  call(texts: readonly string[]): TokenIds {
    if (!Array.isArray(texts)) throw new TextVectorizationError('TextVectorization.call: expected an array of strings');
    const L = this.outputSequenceLength;
    const rows = L === null ? texts.map((t) => this.tokenize(t)) : null;
    const width = rows ? rows.reduce((m, r) => Math.max(m, r.length), 0) : L!;
    const data = new Int32Array(texts.length * width);
    for (let i = 0; i < texts.length; i++) {
      const tokens = rows ? rows[i] : this.tokenize(texts[i]);
      const n = Math.min(tokens.length, width);
      for (let j = 0; j < n; j++) data[i * width + j] = this.tokenId(tokens[j]);
    }
    return { data, shape: [texts.length, width] };
  }

  /** Keras' `get_config()` (snake_case). `vocabulary` is the one given at construction, null after `adapt`, as in Keras. */
  getConfig(): TextVectorizationConfig {
    let standardize: TextVectorizationConfig['standardize'];
    if (typeof this.standardize === 'function') {
      const name = registeredName(this.standardize);
      if (!name) throw new TextVectorizationError('TextVectorization.getConfig: the standardize function is not registered; call registerStandardize(name, fn) first');
      standardize = name;
    } else {
      standardize = this.standardize;
    }
    return {
      name: this.name,
      trainable: true,
      max_tokens: this.maxTokens,
      standardize,
      split: this.split,
      ngrams: this.ngrams === null ? null : Array.isArray(this.ngrams) ? [...this.ngrams] : this.ngrams,
      output_mode: 'int',
      output_sequence_length: this.outputSequenceLength,
      pad_to_max_tokens: false,
      sparse: false,
      ragged: false,
      vocabulary: this.inputVocabulary ? [...this.inputVocabulary] : null,
      idf_weights: null,
      encoding: 'utf-8',
      vocabulary_size: this.vocabularySize(),
    };
  }

  /** Keras' `from_config`: a registered name for `standardize` becomes its function. Settings only 'int' needs are checked. */
  static fromConfig(config: Partial<TextVectorizationConfig> & Record<string, unknown>): TextVectorization {
    if (typeof config !== 'object' || config === null) throw new TextVectorizationError('TextVectorization.fromConfig: config must be an object');
    const refuse = (key: string, allowed: unknown) => {
      if (config[key] !== undefined && config[key] !== allowed) {
        throw new TextVectorizationError(`TextVectorization.fromConfig: ${key}=${JSON.stringify(config[key])} is not supported (only ${JSON.stringify(allowed)})`);
      }
    };
    refuse('output_mode', 'int');
    refuse('pad_to_max_tokens', false);
    refuse('sparse', false);
    refuse('ragged', false);
    refuse('idf_weights', null);
    refuse('encoding', 'utf-8');
    let standardize: TextVectorizationOptions['standardize'] = 'lower_and_strip_punctuation';
    if (config.standardize !== undefined) {
      const s = config.standardize;
      if (s === null || (typeof s === 'string' && isBuiltInStandardize(s))) standardize = s;
      else if (typeof s === 'string' && registeredStandardizers.has(s)) standardize = registeredStandardizers.get(s)!;
      else throw new TextVectorizationError(`TextVectorization.fromConfig: unknown standardize ${JSON.stringify(s)} (register it with registerStandardize)`);
    }
    return new TextVectorization({
      name: config.name ?? 'text_vectorization',
      maxTokens: config.max_tokens ?? null,
      standardize,
      split: config.split === undefined ? 'whitespace' : config.split,
      ngrams: config.ngrams ?? null,
      outputSequenceLength: config.output_sequence_length ?? null,
      vocabulary: config.vocabulary ?? null,
    });
  }
}

/** `tf.strings.ngrams(tokens, widths, separator=' ')`: all n-grams of each width in turn; none when too short. */
function makeNgrams(words: string[], widths: number[]): string[] {
  const out: string[] = [];
  for (const width of widths) {
    if (width === 1) {
      for (const w of words) out.push(w);
      continue;
    }
    for (let i = 0; i + width <= words.length; i++) out.push(words.slice(i, i + width).join(' '));
  }
  return out;
}
