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
  /** The learned tokens by code units for the fast path: id + 2 is the token's index. */
  private lookup = new TokenTable();
  /** Made with a `vocabulary`: Keras refuses to adapt such a layer (`setVocabulary` later does not count, as in Keras). */
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
      throw new TextVectorizationError(`TextVectorization '${this.name}': cannot adapt a layer made with a vocabulary (Keras refuses too)`);
    }
    const { tokens, counts } = this.countTokens(texts);
    let ids: number[] = [];
    for (let id = 0; id < tokens.length; id++) if (tokens[id] !== MASK_TOKEN && tokens[id] !== OOV_TOKEN) ids.push(id);
    const keep = this.maxTokens === null ? ids.length : this.maxTokens - TOKEN_START;
    if (ids.length > keep) {
      // Only tokens counted at least as often as the keep-th most frequent can make the cut: sort those.
      const sortedCounts = Int32Array.from(ids, (id) => counts[id]).sort();
      const threshold = sortedCounts[sortedCounts.length - keep];
      ids = ids.filter((id) => counts[id] >= threshold);
    }
    ids.sort((a, b) => counts[b] - counts[a] || compareCodePoints(tokens[b], tokens[a]));
    if (this.maxTokens !== null) ids.length = Math.min(ids.length, this.maxTokens - TOKEN_START);
    this.setTokens(ids.map((id) => tokens[id]));
  }

  /** Every distinct token and how often it occurs. */
  private countTokens(texts: Iterable<string>): { tokens: string[]; counts: ArrayLike<number> } {
    const scan = this.scanSetup();
    if (!scan) {
      const counts = new Map<string, number>();
      for (const text of texts) for (const token of this.tokenize(text)) counts.set(token, (counts.get(token) ?? 0) + 1);
      return { tokens: [...counts.keys()], counts: [...counts.values()] };
    }
    const table = new TokenTable();
    let counts = new Int32Array(1024);
    const count = (units: Uint16Array, length: number, hash: number) => {
      const id = table.intern(units, length, hash);
      if (id >= counts.length) {
        const grown = new Int32Array(counts.length * 2);
        grown.set(counts);
        counts = grown;
      }
      counts[id]++;
    };
    for (const text of texts) scanTokens(scan.standardize(text), scan.steps, count);
    return { tokens: table.tokens, counts };
  }

  /**
   * The fast path's plan when it applies (whitespace split, no n-grams): a standardize
   * function it cannot do itself runs first, then the scan does the built-in steps.
   */
  private scanSetup(): { standardize: (text: string) => string; steps: ScanSteps } | null {
    if (this.split !== 'whitespace' || this.ngramWidths !== null) return null;
    const fused = FUSED_STEPS.get(this.standardize);
    const custom = fused ? null : (this.standardize as StandardizeFunction);
    return {
      standardize: (text) => {
        if (typeof text !== 'string') throw new TextVectorizationError(`TextVectorization: each input must be a string, got ${typeof text}`);
        if (!custom) return text;
        const out = custom(text);
        if (typeof out !== 'string') throw new TextVectorizationError(`TextVectorization: the standardize function returned ${typeof out}, not a string`);
        return out;
      },
      steps: fused ?? FUSED_STEPS.get(null)!,
    };
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
    this.setTokens([...tokens]);
  }

  private setTokens(tokens: string[]): void {
    this.tokens = tokens;
    this.index = new Map(tokens.map((t, i) => [t, i + TOKEN_START]));
    this.lookup = new TokenTable();
    for (const t of tokens) this.lookup.add(t);
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
    const scan = this.scanSetup();
    if (scan && L !== null) {
      // Straight into the output: each row's ids up to L, the rest stays 0.
      const data = new Int32Array(texts.length * L);
      let at = 0;
      let end = 0;
      const put = (units: Uint16Array, length: number, hash: number) => {
        if (at === end) return;
        const id = this.lookup.find(units, length, hash);
        data[at++] = id < 0 ? OOV_INDEX : id + TOKEN_START;
      };
      for (let i = 0; i < texts.length; i++) {
        at = i * L;
        end = at + L;
        scanTokens(scan.standardize(texts[i]), scan.steps, put);
      }
      return { data, shape: [texts.length, L] };
    }
    const idsOf = (text: string): number[] => {
      if (!scan) return this.tokenize(text).map((t) => this.tokenId(t));
      const ids: number[] = [];
      scanTokens(scan.standardize(text), scan.steps, (units, length, hash) => {
        if (L !== null && ids.length >= L) return;
        const id = this.lookup.find(units, length, hash);
        ids.push(id < 0 ? OOV_INDEX : id + TOKEN_START);
      });
      return ids;
    };
    const rows = texts.map(idsOf);
    const width = L ?? rows.reduce((m, r) => Math.max(m, r.length), 0);
    const data = new Int32Array(texts.length * width);
    rows.forEach((ids, i) => data.set(ids.length > width ? ids.slice(0, width) : ids, i * width));
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

// ---------------------------------------------------------------------------------------
// The fast path of `adapt` and `call` for `split: 'whitespace'` without n-grams: one scan
// per text that lowercases, drops punctuation, turns '<br />' into a space and splits, all
// on char codes, and looks each token up in a hash table by its code units, so only the
// distinct tokens ever become strings. `tokenize` stays the definition; the tests check
// that both give the same counts and ids.

/** Which built-in steps the scan does itself; a standardize function not listed here runs first. */
interface ScanSteps {
  lower: boolean;
  stripPunctuation: boolean;
  htmlBreaks: boolean;
}

const FUSED_STEPS = new Map<StandardizeName | StandardizeFunction | null, ScanSteps>([
  [null, { lower: false, stripPunctuation: false, htmlBreaks: false }],
  ['lower', { lower: true, stripPunctuation: false, htmlBreaks: false }],
  ['strip_punctuation', { lower: false, stripPunctuation: true, htmlBreaks: false }],
  ['lower_and_strip_punctuation', { lower: true, stripPunctuation: true, htmlBreaks: false }],
  [lowerStripHtmlBreaksAndPunctuation, { lower: true, stripPunctuation: true, htmlBreaks: true }],
]);

/** 1 for each ASCII character in Keras' punctuation pattern. */
const IS_PUNCTUATION = new Uint8Array(128);
for (const ch of '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~') IS_PUNCTUATION[ch.charCodeAt(0)] = 1;
const IS_WHITESPACE = new Uint8Array(128);
for (const ch of ' \t\n\v\f\r') IS_WHITESPACE[ch.charCodeAt(0)] = 1;
const HTML_BREAK = '<br />';

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** Open-addressing table from a token's UTF-16 code units to a dense id; each id keeps its string. */
class TokenTable {
  readonly tokens: string[] = [];
  private hashes = new Int32Array(1024);
  /** id + 1 per slot; 0 is empty. Kept at most half full. */
  private slots = new Int32Array(2048);

  get size(): number {
    return this.tokens.length;
  }

  /** The id of the token in `units[0, length)` with hash `hash`, or -1. */
  find(units: Uint16Array, length: number, hash: number): number {
    const mask = this.slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = this.slots[slot];
      if (entry === 0) return -1;
      const id = entry - 1;
      if (this.hashes[id] === hash && sameUnits(this.tokens[id], units, length)) return id;
    }
  }

  /** The token's id, adding it when new. */
  intern(units: Uint16Array, length: number, hash: number): number {
    const found = this.find(units, length, hash);
    return found >= 0 ? found : this.add(unitsToString(units, length), hash);
  }

  add(token: string, hash = hashString(token)): number {
    const id = this.tokens.length;
    if (id >= this.hashes.length) {
      const grown = new Int32Array(this.hashes.length * 2);
      grown.set(this.hashes);
      this.hashes = grown;
    }
    this.tokens.push(token);
    this.hashes[id] = hash;
    if (2 * this.tokens.length > this.slots.length) this.rehash(this.slots.length * 2);
    else this.place(id);
    return id;
  }

  private place(id: number): void {
    const mask = this.slots.length - 1;
    let slot = this.hashes[id] & mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
    this.slots[slot] = id + 1;
  }

  private rehash(size: number): void {
    this.slots = new Int32Array(size);
    for (let id = 0; id < this.tokens.length; id++) this.place(id);
  }
}

function sameUnits(token: string, units: Uint16Array, length: number): boolean {
  if (token.length !== length) return false;
  for (let k = 0; k < length; k++) if (token.charCodeAt(k) !== units[k]) return false;
  return true;
}

function unitsToString(units: Uint16Array, length: number): string {
  const CHUNK = 8192; // fromCharCode's argument count stays well inside the stack
  if (length <= CHUNK) return String.fromCharCode.apply(null, units.subarray(0, length) as unknown as number[]);
  let out = '';
  for (let k = 0; k < length; k += CHUNK) out += String.fromCharCode.apply(null, units.subarray(k, Math.min(length, k + CHUNK)) as unknown as number[]);
  return out;
}

function hashString(token: string): number {
  let hash = FNV_OFFSET;
  for (let k = 0; k < token.length; k++) hash = Math.imul(hash ^ token.charCodeAt(k), FNV_PRIME);
  return hash;
}

const DROP = -1;
const SPLIT = -2;
const MAYBE_BREAK = -3;
const actionTables = new WeakMap<ScanSteps, Int16Array>();

/**
 * What the scan does with each ASCII code under `steps`, in one table: the code to keep
 * (lowercased when asked), DROP (punctuation), SPLIT (whitespace) or MAYBE_BREAK ('<' when
 * '<br />' becomes a space; kept, or dropped as punctuation, when it does not start one).
 */
function asciiActions(steps: ScanSteps): Int16Array {
  let table = actionTables.get(steps);
  if (!table) {
    table = new Int16Array(128);
    for (let c = 0; c < 128; c++) {
      if (IS_WHITESPACE[c]) table[c] = SPLIT;
      else if (steps.htmlBreaks && c === 60) table[c] = MAYBE_BREAK;
      else if (steps.stripPunctuation && IS_PUNCTUATION[c]) table[c] = DROP;
      else table[c] = steps.lower && c >= 65 && c <= 90 ? c + 32 : c;
    }
    actionTables.set(steps, table);
  }
  return table;
}

/** Scratch space for one token's code units, grown to the longest text seen. */
let scratch = new Uint16Array(4096);

/**
 * Calls `onToken(units, length, hash)` for each whitespace-separated token of `text` after
 * the standardize steps; the same tokens, in order, as `tokenize` gives (without n-grams).
 */
function scanTokens(text: string, steps: ScanSteps, onToken: (units: Uint16Array, length: number, hash: number) => void): void {
  const n = text.length;
  if (scratch.length < n) scratch = new Uint16Array(Math.max(n, 2 * scratch.length));
  const units = scratch;
  const ascii = asciiActions(steps);
  let length = 0;
  let hash = FNV_OFFSET;
  for (let i = 0; i < n; i++) {
    let c = text.charCodeAt(i);
    if (c < 128) {
      const action = ascii[c];
      if (action >= 0) {
        c = action;
      } else if (action === DROP) {
        continue;
      } else if (action === MAYBE_BREAK && !isHtmlBreak(text, i, steps.lower)) {
        if (steps.stripPunctuation) continue;
      } else {
        // Whitespace, or a '<br />' that becomes a space.
        if (action === MAYBE_BREAK) i += HTML_BREAK.length - 1;
        if (length > 0) {
          onToken(units, length, hash);
          length = 0;
          hash = FNV_OFFSET;
        }
        continue;
      }
    }
    units[length++] = c;
    hash = Math.imul(hash ^ c, FNV_PRIME);
  }
  if (length > 0) onToken(units, length, hash);
}

/** '<br />' at `i`, after ASCII lowercasing when `lower` (the tutorial lowercases first). */
function isHtmlBreak(text: string, i: number, lower: boolean): boolean {
  if (i + HTML_BREAK.length > text.length) return false;
  for (let k = 1; k < HTML_BREAK.length; k++) {
    let c = text.charCodeAt(i + k);
    if (lower && c >= 65 && c <= 90) c += 32;
    if (c !== HTML_BREAK.charCodeAt(k)) return false;
  }
  return true;
}
