/**
 * Edges of src/data/text-vectorization.ts that test/text-vectorization.test.ts leaves open
 * (StrykerJS survivors): code-point order on both sides of the surrogate range, the token
 * table past 1,024 and 2,048 tokens and under FNV-1a hash collisions, a token longer than the
 * scan's scratch space, characters that are not ASCII whitespace, and the checks of
 * setVocabulary, call, getConfig and fromConfig (index_lookup.py and text_vectorization.py).
 */
import { describe, expect, it } from 'vitest';
import {
  TextVectorization,
  TextVectorizationError,
  compareCodePoints,
  lowerStripHtmlBreaksAndPunctuation,
  registerStandardize,
} from '../src/data/text-vectorization.js';
import { expectDataError } from './helpers.js';

const ids = (layer: TextVectorization, texts: string[]) => Array.from(layer.call(texts).data);
/** The token table's hash (32-bit FNV-1a over UTF-16 units), to check each test's premise. */
const fnv1a = (s: string) => [...s].reduce((h, c) => Math.imul(h ^ c.charCodeAt(0), 0x01000193), 0x811c9dc5);
const refused = (fn: () => unknown, message: RegExp) => expectDataError(fn, TextVectorizationError, { message });

describe('vocabulary order', () => {
  it('compares by code point on both sides of the surrogate range', () => {
    const ascending = ['a', '\uD7FF', '\uE000', '\uFFFF', '\u{10000}', '\u{10FFFF}'];
    for (let i = 0; i < ascending.length; i++) {
      for (let j = i + 1; j < ascending.length; j++) {
        expect(Math.sign(compareCodePoints(ascending[i], ascending[j])), `${i} < ${j}`).toBe(-1);
        expect(Math.sign(compareCodePoints(ascending[j], ascending[i])), `${j} > ${i}`).toBe(1);
      }
    }
    const layer = new TextVectorization({ standardize: null });
    layer.adapt(['\uD7FF \u{10000} \uE000']);
    expect(layer.getVocabulary(false)).toEqual(['\u{10000}', '\uE000', '\uD7FF']); // ties: high to low
  });

  it('an unadapted layer has only the padding and OOV tokens', () => {
    const layer = new TextVectorization();
    expect(layer.getVocabulary()).toEqual(['', '[UNK]']);
    expect(layer.vocabularySize()).toBe(2);
  });
});

describe('the token table', () => {
  it('counts and looks up more than 2,048 distinct tokens', () => {
    const words = Array.from({ length: 2100 }, (_, i) => `w${String(i).padStart(4, '0')}`);
    const layer = new TextVectorization();
    layer.adapt([words.join(' '), words.join(' '), words[1500]]);
    // w1500 (the 1,501st token seen) three times first, then every other word (twice) by token, high to low.
    const vocabulary = ['', '[UNK]', words[1500], ...words.filter((_, i) => i !== 1500).reverse()];
    expect(layer.getVocabulary()).toEqual(vocabulary);
    expect(ids(layer, [words.join(' ')])).toEqual(words.map((w) => vocabulary.indexOf(w)));
    // Just after the table grew (1,025 tokens), a token whose FNV-1a hash is 0, as an unused entry's, is unknown.
    expect(fnv1a('akhnp9x')).toBe(0);
    expect(ids(new TextVectorization({ vocabulary: words.slice(0, 1025) }), ['akhnp9x'])).toEqual([1]);
  });

  // FNV-1a (32 bits) collisions, of different lengths, of equal lengths, and a token whose
  // prefix has its hash: the table must compare the tokens themselves.
  for (const [a, b] of [['costarring', 'liquid'], ['declinate', 'macallums'], ['wordcge0a1w', 'word']]) {
    it(`tells apart '${a}' and '${b}', whose hashes collide`, () => {
      expect(fnv1a(a)).toBe(fnv1a(b));
      const layer = new TextVectorization();
      layer.adapt([`${a} ${b} ${b}`]);
      expect(layer.getVocabulary()).toEqual(['', '[UNK]', b, a]);
      expect(ids(new TextVectorization({ vocabulary: [a] }), [`${a} ${b}`])).toEqual([2, 1]);
      expect(ids(new TextVectorization({ vocabulary: [b] }), [`${a} ${b}`])).toEqual([1, 2]);
    });
  }
});

describe('the scan', () => {
  it('keeps a token of a million characters whole', () => {
    const long = 'x'.repeat(1_000_000);
    const layer = new TextVectorization();
    layer.adapt([`${long} a`]);
    expect(layer.getVocabulary().map((t) => t.length)).toEqual([0, 5, 1_000_000, 1]);
    expect(layer.getVocabulary()[2]).toBe(long);
    expect(ids(layer, [`a ${long}`])).toEqual([3, 2]);
  });

  it("splits on ASCII whitespace only: NUL and U+0080 stay in the token; 'Z' is lowercased", () => {
    const layer = new TextVectorization({ vocabulary: ['a\0b', 'a\u0080b', 'z'] });
    expect(layer.tokenize('a\0b a\u0080b Z')).toEqual(['a\0b', 'a\u0080b', 'z']);
    expect(ids(layer, ['a\0b a\u0080b Z'])).toEqual([2, 3, 4]);
  });
});

describe('setVocabulary', () => {
  it("takes '' and '[UNK]' off the front only together; '[UNK]' later is an ordinary token", () => {
    const layer = new TextVectorization({ standardize: null, vocabulary: ['x', '[UNK]', 'y'] });
    expect(layer.getVocabulary()).toEqual(['', '[UNK]', 'x', '[UNK]', 'y']);
    expect(ids(layer, ['y [UNK] x'])).toEqual([4, 3, 2]);
    expect(new TextVectorization({ vocabulary: ['a', 'b', 'c'] }).getVocabulary()).toEqual(['', '[UNK]', 'a', 'b', 'c']);
    refused(() => new TextVectorization({ vocabulary: ['', 'a', 'b'] }), /padding token '' may only be first/);
  });

  it('accepts exactly maxTokens entries', () => {
    expect(new TextVectorization({ maxTokens: 4, vocabulary: ['a', 'b'] }).vocabularySize()).toBe(4);
  });

  it('names the first five repeated tokens', () => {
    refused(() => new TextVectorization({ vocabulary: [...'abcdef', ...'abcdef'] }), /repeats "a", "b", "c", "d", "e"$/);
  });

  it('refuses a string or a non-string entry', () => {
    refused(() => new TextVectorization().setVocabulary('ab' as never), /a vocabulary must be an array of strings/);
    refused(() => new TextVectorization().setVocabulary(['a', 3 as never]), /a vocabulary must be an array of strings/);
  });
});

describe('input checks', () => {
  for (const split of ['whitespace', 'character'] as const) {
    it(`split '${split}': a text that is not a string, a standardize function that returns none`, () => {
      refused(() => new TextVectorization({ split }).call([3 as never]), /each input must be a string, got number/);
      const standardize = (() => 5) as never;
      refused(() => new TextVectorization({ split, standardize }).call(['a']), /the standardize function returned number, not a string/);
    });
  }

  it('call refuses a single string', () => {
    refused(() => new TextVectorization().call('a b' as never), /expected an array of strings/);
  });

  it('ngrams: a string is refused, as in Keras, and so is an empty list (Keras’ own check lets () through)', () => {
    for (const ngrams of ['2', []]) refused(() => new TextVectorization({ ngrams: ngrams as never }), /ngrams must be null, an integer or a list of integers/);
  });

  it('a built-in standardize name cannot be registered', () => {
    refused(() => registerStandardize('lower', (t) => t), /registerStandardize: 'lower' is a built-in standardize mode/);
    expect(TextVectorization.fromConfig({ standardize: 'lower' }).tokenize('A.b')).toEqual(['a.b']);
  });
});

describe('getConfig and fromConfig', () => {
  it('getConfig: the default name, trainable, and the vocabulary given', () => {
    expect(new TextVectorization({ vocabulary: ['a', 'b'] }).getConfig()).toMatchObject({ name: 'text_vectorization', trainable: true, vocabulary: ['a', 'b'] });
  });

  it('fromConfig: Keras’ defaults for missing keys', () => {
    const layer = TextVectorization.fromConfig({});
    expect([layer.name, layer.split, layer.standardize, layer.maxTokens, layer.ngrams, layer.outputSequenceLength]).toEqual([
      'text_vectorization',
      'whitespace',
      'lower_and_strip_punctuation',
      null,
      null,
      null,
    ]);
  });

  it('fromConfig reads name, split, standardize and vocabulary', () => {
    const layer = TextVectorization.fromConfig({ name: 'vec', split: 'character', standardize: 'strip_punctuation', vocabulary: ['a', 'B'] });
    expect([layer.name, layer.split, layer.standardize]).toEqual(['vec', 'character', 'strip_punctuation']);
    expect(layer.getVocabulary()).toEqual(['', '[UNK]', 'a', 'B']);
    expect(TextVectorization.fromConfig({ split: null, standardize: null })).toMatchObject({ split: null, standardize: null });
    expect(TextVectorization.fromConfig({ standardize: 'lower_strip_html_breaks_and_punctuation' }).standardize).toBe(lowerStripHtmlBreaksAndPunctuation);
    refused(() => TextVectorization.fromConfig({ standardize: 'nope' }), /unknown standardize "nope"/);
  });

  it('fromConfig refuses the settings of other output modes, and a config that is not an object', () => {
    for (const [key, value] of [['pad_to_max_tokens', true], ['sparse', true], ['ragged', true], ['idf_weights', [1]], ['encoding', 'latin-1']] as const) {
      refused(() => TextVectorization.fromConfig({ [key]: value }), new RegExp(`${key}=${JSON.stringify(value).replace(/[[\]]/g, '\\$&')} is not supported`));
    }
    for (const config of [null, 'config', 3]) refused(() => TextVectorization.fromConfig(config as never), /config must be an object/);
  });
});
