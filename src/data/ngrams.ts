/**
 * N-gram features for fastText-style models (Joulin et al., "Bag of Tricks for Efficient Text
 * Classification", 2016): each review's token ids followed by ids for its n-grams. Pure: no GPU,
 * no file system, so the library, the command line and a browser page share it, and a typed
 * review goes through the same code as the dataset (`reviewNgrams`).
 *
 * Two kinds, as `NgramSpec` says:
 * - 'index': Keras' examples/imdb_fasttext.py (Keras 2.3). Every n-gram (n = 2 up to ngramRange)
 *   seen in the TRAINING reviews gets an id from numWords + 1 (`create_ngram_set`, `start_index =
 *   max_features + 1`); `add_ngram` appends, to every review, the ids of its n-grams found in that
 *   index: all its bigrams left to right, then its trigrams. Keras enumerates a Python set, whose
 *   order is an accident of CPython's hash table; here ids follow first appearance (training
 *   reviews in order; in each, n = 2 first, then 3, left to right). Same n-grams, same id range;
 *   only which id labels which n-gram differs, which changes the initial weights (drawn by row)
 *   but not what a model can learn.
 * - 'hashed': fastText's word n-grams (src/dictionary.cc, `Dictionary::addWordNgrams`): no index
 *   to build or store; an n-gram's id is numWords + 1 + (hash % buckets), with fastText's hash:
 *   each token is hashed as the word it would be in a text file of ids (its decimal digits,
 *   `Dictionary::hash`, FNV-1a 32-bit over signed chars), kept as int32, then combined in uint64
 *   arithmetic, `h = h * 116049371 + hashes[j]`. fastText's end-of-line token `</s>` (whose
 *   bigram with the last word fastText also hashes) has no id here and is left out.
 *
 * test/fixtures/ngrams/keras_fasttext.py is the same in Python, the oracle of test/ngrams.test.ts.
 */
import { Sequences } from './sequences.js';

/** Keras' n-gram index over the training reviews. */
export interface IndexedNgrams {
  kind: 'index';
  index: NgramIndex;
}

/** fastText's hashed n-grams: bigrams (ngramRange 2) or bigrams and trigrams (3), into `buckets` ids. */
export interface HashedNgrams {
  kind: 'hashed';
  ngramRange: number;
  numWords: number;
  buckets: number;
}

export type NgramSpec = IndexedNgrams | HashedNgrams;

/** Every n-gram key is a number below 2^53: tokens in base (largest training token + 1). */
const MAX_EXACT_KEY = Number.MAX_SAFE_INTEGER;
const EMPTY = -1;
const MIN_TABLE_SIZE = 1024;

/**
 * An open-addressing table from an n-gram's key to its id, one per n: a JS Map of 1.2 million
 * entries costs several times the memory and time of two typed arrays.
 */
class KeyTable {
  keys: Float64Array;
  ids: Int32Array;
  count = 0;

  constructor(capacity = MIN_TABLE_SIZE) {
    this.keys = new Float64Array(capacity).fill(EMPTY);
    this.ids = new Int32Array(capacity);
  }

  /** The slot holding `key`, or the empty slot where it would go. */
  private slot(key: number): number {
    const mask = this.keys.length - 1;
    // Mix both 32-bit halves of the key (keys run past 2^32 from trigrams on).
    let h = Math.imul(key >>> 0, 0x9e3779b1) ^ Math.imul(Math.floor(key / 4294967296) | 0, 0x85ebca77);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 13;
    let i = h & mask;
    while (this.keys[i] !== EMPTY && this.keys[i] !== key) i = (i + 1) & mask;
    return i;
  }

  get(key: number): number {
    const i = this.slot(key);
    return this.keys[i] === EMPTY ? -1 : this.ids[i];
  }

  /** Add `key` with `id` unless present; true when added. */
  add(key: number, id: number): boolean {
    const i = this.slot(key);
    if (this.keys[i] !== EMPTY) return false;
    this.keys[i] = key;
    this.ids[i] = id;
    if (++this.count * 2 > this.keys.length) this.grow();
    return true;
  }

  private grow(): void {
    const { keys, ids } = this;
    this.keys = new Float64Array(keys.length * 2).fill(EMPTY);
    this.ids = new Int32Array(keys.length * 2);
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] === EMPTY) continue;
      const to = this.slot(keys[i]);
      this.keys[to] = keys[i];
      this.ids[to] = ids[i];
    }
  }
}

/** Keras' `token_indice`: n-gram -> id, built from the training reviews only (`NgramIndex.fromTraining`). */
export class NgramIndex {
  /** The n-grams' keys in id order, per n (`ngram(id)` decodes one). */
  private readonly orderN: Uint8Array;
  private readonly orderKeys: Float64Array;

  private constructor(
    /** Keras' ngram_range: n-grams of every n from 2 to it. */
    readonly ngramRange: number,
    /** Keras' num_words: the first n-gram id is numWords + 1. */
    readonly numWords: number,
    /** Tokens are digits of keys in this base: the largest training token + 1. */
    readonly base: number,
    /** tables[n - 2]: the n-grams of length n. */
    private readonly tables: KeyTable[],
    orderN: Uint8Array,
    orderKeys: Float64Array,
  ) {
    this.orderN = orderN;
    this.orderKeys = orderKeys;
  }

  /** Keras' `create_ngram_set` over every training review, for n = 2 .. ngramRange. */
  static fromTraining(train: Sequences | ArrayLike<number>[], options: { ngramRange: number; numWords: number }): NgramIndex {
    const { ngramRange, numWords } = checkRange(options);
    const seqs = asSequences(train);
    checkTokens(seqs, numWords);
    let base = 1;
    for (const token of seqs.values) if (token >= base) base = token + 1;
    if (base ** ngramRange > MAX_EXACT_KEY) {
      throw new RangeError(`n-grams: ${ngramRange}-grams of tokens up to ${base - 1} do not fit an exact key (base^n must stay below 2^53)`);
    }
    const tables = Array.from({ length: ngramRange - 1 }, () => new KeyTable());
    let orderN = new Uint8Array(MIN_TABLE_SIZE);
    let orderKeys = new Float64Array(MIN_TABLE_SIZE);
    let next = numWords + 1;
    for (let r = 0; r < seqs.length; r++) {
      const start = seqs.offsets[r];
      const end = seqs.offsets[r + 1];
      for (let n = 2; n <= ngramRange; n++) {
        const table = tables[n - 2];
        for (let i = start; i + n <= end; i++) {
          const key = ngramKey(seqs.values, i, n, base);
          if (!table.add(key, next)) continue;
          const k = next++ - numWords - 1;
          if (k === orderKeys.length) {
            orderN = grown(orderN);
            orderKeys = grown(orderKeys);
          }
          orderN[k] = n;
          orderKeys[k] = key;
        }
      }
    }
    if (next > 0x7fffffff) throw new RangeError(`n-grams: ${next - numWords - 1} n-grams after ${numWords} words overflow int32 ids`);
    const size = next - numWords - 1;
    return new NgramIndex(ngramRange, numWords, base, tables, orderN.slice(0, size), orderKeys.slice(0, size));
  }

  /** How many n-grams have ids. */
  get size(): number {
    return this.orderKeys.length;
  }

  /** Keras' `max_features` after adding n-grams: the largest id + 1, the embedding's row count. */
  get vocabularySize(): number {
    return this.numWords + 1 + this.size;
  }

  /** The id of the n-gram tokens[start .. start + n), or -1 when the training reviews never had it. */
  lookup(tokens: ArrayLike<number>, start: number, n: number): number {
    if (n < 2 || n > this.ngramRange) return -1;
    for (let i = start; i < start + n; i++) if (!(tokens[i] >= 0 && tokens[i] < this.base)) return -1;
    return this.tables[n - 2].get(ngramKey(tokens, start, n, this.base));
  }

  /** True when every token of `tokens` can be part of an indexed n-gram (lies in [0, base)). */
  covers(tokens: ArrayLike<number>): boolean {
    for (let i = 0; i < tokens.length; i++) if (!(tokens[i] >= 0 && tokens[i] < this.base)) return false;
    return true;
  }

  /** The id of the n-gram whose key (tokens in base `base`) is `key`, or -1. */
  idOfKey(n: number, key: number): number {
    return this.tables[n - 2].get(key);
  }

  /** The n-gram whose id is `id` (inverse of `lookup`). */
  ngram(id: number): number[] {
    const k = id - this.numWords - 1;
    if (!(Number.isInteger(k) && k >= 0 && k < this.size)) throw new RangeError(`n-grams: ${id} is not an n-gram id in [${this.numWords + 1}, ${this.vocabularySize})`);
    const tokens: number[] = [];
    let key = this.orderKeys[k];
    for (let j = 0; j < this.orderN[k]; j++) {
      tokens.unshift(key % this.base);
      key = Math.floor(key / this.base);
    }
    return tokens;
  }
}

/** The embedding's row count for `spec`: the largest id it can produce + 1. */
export function ngramVocabularySize(spec: NgramSpec): number {
  return spec.kind === 'index' ? spec.index.vocabularySize : checkHashed(spec).numWords + 1 + spec.buckets;
}

/** Keras' `add_ngram` (kind 'index') or fastText's `addWordNgrams` (kind 'hashed') over every review. */
export function addNgrams(sequences: Sequences | ArrayLike<number>[], spec: NgramSpec): Sequences {
  const seqs = asSequences(sequences);
  const ngramRange = spec.kind === 'index' ? spec.index.ngramRange : checkHashed(spec).ngramRange;
  checkTokens(seqs, spec.kind === 'index' ? spec.index.numWords : spec.numWords);
  // A review of L tokens gains at most L - 1 bigrams, L - 2 trigrams, ...: L * ngramRange is a bound.
  const out = new Int32Array(seqs.values.length * ngramRange);
  const offsets = new Int32Array(seqs.length + 1);
  const append = spec.kind === 'index' ? appendIndexed(spec.index) : appendHashed(spec);
  let used = 0;
  for (let r = 0; r < seqs.length; r++) {
    const review = seqs.values.subarray(seqs.offsets[r], seqs.offsets[r + 1]);
    out.set(review, used);
    used = append(review, out, used + review.length);
    offsets[r + 1] = used;
  }
  return new Sequences(out.slice(0, used), offsets);
}

/** One review's tokens with its n-gram ids appended: what `addNgrams` does to each review of a dataset. */
export function reviewNgrams(ids: ArrayLike<number>, spec: NgramSpec): Int32Array {
  return addNgrams([ids], spec).values;
}

type Append = (review: Int32Array, out: Int32Array, at: number) => number;

/**
 * Keras' add_ngram loops n over 2..ngram_range outside and positions inside, and scans the list it
 * is growing: from n = 3 on, windows reach into the ids just appended. Those ids are above every
 * training token, so no such window is in the index: scanning the review alone gives the same list.
 */
function appendIndexed(index: NgramIndex): Append {
  return (review, out, at) => {
    const inRange = index.covers(review);
    for (let n = 2; n <= index.ngramRange; n++) {
      for (let i = 0; i + n <= review.length; i++) {
        const id = inRange ? index.idOfKey(n, ngramKey(review, i, n, index.base)) : index.lookup(review, i, n);
        if (id >= 0) out[at++] = id;
      }
    }
    return at;
  };
}

const FASTTEXT_NGRAM_MULTIPLIER = 116049371;
const TWO_32 = 4294967296;

/** Token hashes are cached for ids below this (every id of a 20,000-word vocabulary). */
const TOKEN_HASH_CACHE = 1 << 16;

function appendHashed(spec: HashedNgrams): Append {
  const { ngramRange, numWords, buckets } = spec;
  const first = numWords + 1;
  const cache = Int32Array.from({ length: TOKEN_HASH_CACHE }, (_, token) => fasttextTokenHash(token));
  let hashes = new Int32Array(256);
  const hashState = { hi: 0, lo: 0 };
  return (review, out, at) => {
    if (hashes.length < review.length) hashes = new Int32Array(review.length * 2);
    for (let i = 0; i < review.length; i++) {
      const token = review[i];
      hashes[i] = token >= 0 && token < TOKEN_HASH_CACHE ? cache[token] : fasttextTokenHash(token);
    }
    for (let i = 0; i < review.length; i++) {
      // uint64_t h = hashes[i]: an int32 sign-extended to 64 bits, kept as two uint32 halves.
      hashState.lo = hashes[i] >>> 0;
      hashState.hi = hashes[i] < 0 ? 0xffffffff : 0;
      for (let j = i + 1; j < review.length && j < i + ngramRange; j++) {
        multiplyAdd(hashState, hashes[j]);
        out[at++] = first + mod64(hashState.hi, hashState.lo, buckets);
      }
    }
    return at;
  };
}

/** h = h * 116049371 + x (an int32, sign-extended), modulo 2^64; h is { hi, lo }, two uint32 halves. */
function multiplyAdd(h: { hi: number; lo: number }, x: number): void {
  const { hi, lo } = h;
  const k = FASTTEXT_NGRAM_MULTIPLIER;
  // lo * k is up to 2^59: split lo into 16-bit halves so every partial product is exact.
  const high = (lo >>> 16) * k;
  const low = (lo & 0xffff) * k;
  const highUpper = Math.floor(high / 65536);
  const rest = (high % 65536) * 65536 + low;
  const carry = highUpper + Math.floor(rest / TWO_32);
  const productLo = rest % TWO_32;
  const productHi = (Math.imul(hi, k) + carry) >>> 0;
  const sumLo = productLo + (x >>> 0);
  h.hi = (productHi + (x < 0 ? 0xffffffff : 0) + (sumLo >= TWO_32 ? 1 : 0)) >>> 0;
  h.lo = sumLo >>> 0;
}

/** (hi * 2^32 + lo) mod m, for m below 2^31, without leaving the exact range of doubles. */
function mod64(hi: number, lo: number, m: number): number {
  let r = hi % m;
  r = (r * 65536 + (lo >>> 16)) % m;
  return (r * 65536 + (lo & 0xffff)) % m;
}

/** fastText's `Dictionary::hash` of a token id's decimal digits, as the int32 fastText keeps it. */
export function fasttextTokenHash(token: number): number {
  let h = 0x811c9dc5;
  let digits = Math.abs(token);
  // FNV-1a runs over the characters from the first: collect the digits, then hash from the top.
  let scale = 1;
  while (scale * 10 <= digits) scale *= 10;
  if (token < 0) h = Math.imul(h ^ 0x2d, 0x01000193); // '-'
  for (; scale >= 1; scale /= 10) {
    const digit = Math.floor(digits / scale);
    digits -= digit * scale;
    h = Math.imul(h ^ (0x30 + digit), 0x01000193);
  }
  return h | 0;
}

/** fastText's `Dictionary::hash` (FNV-1a 32-bit over UTF-8 bytes taken as signed chars), unsigned. */
export function fasttextHash(word: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(word)) h = Math.imul(h ^ (byte >= 128 ? byte - 256 : byte), 0x01000193);
  return h >>> 0;
}

function grown<T extends Uint8Array | Float64Array>(array: T): T {
  const larger = new (array.constructor as new (length: number) => T)(array.length * 2);
  larger.set(array);
  return larger;
}

function ngramKey(tokens: ArrayLike<number>, start: number, n: number, base: number): number {
  let key = tokens[start];
  for (let j = 1; j < n; j++) key = key * base + tokens[start + j];
  return key;
}

function asSequences(sequences: Sequences | ArrayLike<number>[]): Sequences {
  return sequences instanceof Sequences ? sequences : Sequences.fromArrays(sequences);
}

function checkRange<T extends { ngramRange: number; numWords: number }>(options: T): T {
  const { ngramRange, numWords } = options;
  if (!Number.isInteger(ngramRange) || ngramRange < 2) throw new RangeError(`n-grams: ngramRange must be an integer of at least 2 (2: bigrams, 3: bigrams and trigrams), got ${ngramRange}`);
  if (!Number.isSafeInteger(numWords) || numWords < 1) throw new RangeError(`n-grams: numWords must be a positive integer, got ${numWords}`);
  return options;
}

/** Word ids run below numWords (load_data's num_words): from numWords + 1 on, ids name n-grams. */
function checkTokens(seqs: Sequences, numWords: number): void {
  for (const token of seqs.values) {
    if (!(token >= 0 && token <= numWords)) {
      throw new RangeError(`n-grams: token ids must lie in [0, ${numWords}] (numWords), got ${token}: n-gram ids start at ${numWords + 1}`);
    }
  }
}

function checkHashed(spec: HashedNgrams): HashedNgrams {
  checkRange(spec);
  const { buckets, numWords } = spec;
  if (!Number.isInteger(buckets) || buckets < 1 || numWords + 1 + buckets > 0x7fffffff) {
    throw new RangeError(`n-grams: buckets must be a positive integer with numWords + 1 + buckets at most 2^31 - 1 (int32 ids), got ${buckets}`);
  }
  return spec;
}
