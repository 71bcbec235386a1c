import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  KERAS_PUNCTUATION_PATTERN,
  TextVectorization,
  TextVectorizationError,
  asciiLower,
  compareCodePoints,
  lowerStripHtmlBreaksAndPunctuation,
  registerStandardize,
  type TextVectorizationOptions,
} from '../src/data/text-vectorization';
import { fixtureJson } from './helpers';

// Written by test/fixtures/text/make_vectorization.py, a byte-level Python reference of Keras' steps
// whose tie order comes from numpy's np.lexsort, as in keras/src/layers/preprocessing/index_lookup.py.
interface Case {
  name: string;
  max_tokens: number | null;
  standardize: string | null;
  split: 'whitespace' | 'character' | null;
  ngrams: number | number[] | null;
  length: number | null;
  vocabulary: string[];
  ids: number[][];
}
const fixture = fixtureJson<{ corpus: string[]; queries: string[]; cases: Case[] }>('text', 'vectorization.json');

function layerFor(c: Case): TextVectorization {
  const standardize =
    c.standardize === 'lower_strip_html_breaks_and_punctuation' ? lowerStripHtmlBreaksAndPunctuation : (c.standardize as TextVectorizationOptions['standardize']);
  return new TextVectorization({ maxTokens: c.max_tokens, standardize, split: c.split, ngrams: c.ngrams, outputSequenceLength: c.length });
}

describe('TextVectorization against the Python reference of Keras', () => {
  it('fixture covers ten configurations', () => expect(fixture.cases).toHaveLength(10));
  for (const c of fixture.cases) {
    it(`${c.name}: vocabulary and ids`, () => {
      const layer = layerFor(c);
      layer.adapt(fixture.corpus);
      expect(layer.getVocabulary()).toEqual(c.vocabulary);
      const out = layer.call(fixture.queries);
      const width = c.ids[0].length;
      expect(out.shape).toEqual([fixture.queries.length, width]);
      expect(Array.from(out.data)).toEqual(c.ids.flat());
    });
  }
});

describe('TextVectorization behaviour', () => {
  it('reproduces the example in Keras’ docstring', () => {
    const layer = new TextVectorization({ maxTokens: 5000, outputSequenceLength: 4 });
    layer.adapt(['foo bar', 'bar baz', 'baz bada boom']);
    const out = layer.call(['foo qux bar', 'qux baz']);
    expect(Array.from(out.data)).toEqual([4, 1, 3, 0, 1, 2, 0, 0]);
    expect(out.shape).toEqual([2, 4]);
  });

  it('orders ties by the token, high to low, by code point (not UTF-16 units)', () => {
    const layer = new TextVectorization({ standardize: null });
    layer.adapt(['a b \uE000 \u{1F600} c c']);
    expect(layer.getVocabulary(false)).toEqual(['c', '\u{1F600}', '\uE000', 'b', 'a']);
    expect(compareCodePoints('\u{1F600}', '\uE000')).toBeGreaterThan(0);
    expect('\u{1F600}' < '\uE000').toBe(true); // what a plain comparison would get wrong
  });

  it('lowercases ASCII only, as tf.strings.lower without an encoding', () => {
    expect(asciiLower('ÉCOLE Straße ABC')).toBe('École straße abc');
    expect(new TextVectorization().tokenize('ÉCOLE, Don’t!')).toEqual(['École', 'don’t']);
  });

  it('uses Keras’ exact punctuation set and removes it rather than splitting on it', () => {
    const stripped = Array.from({ length: 128 }, (_, i) => String.fromCharCode(i)).filter((ch) => new RegExp(KERAS_PUNCTUATION_PATTERN).test(ch));
    expect(stripped.join('')).toBe('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');
    expect(new TextVectorization().tokenize("it's e-mail")).toEqual(['its', 'email']);
  });

  it('cuts and pads at the end; without a length pads to the longest row', () => {
    const layer = new TextVectorization({ vocabulary: ['a', 'b'], outputSequenceLength: 3 });
    expect(Array.from(layer.call(['a b a b', 'b']).data)).toEqual([2, 3, 2, 3, 0, 0]);
    const ragged = new TextVectorization({ vocabulary: ['a', 'b'] });
    const out = ragged.call(['a', 'b a x', '']);
    expect(out.shape).toEqual([3, 3]);
    expect(Array.from(out.data)).toEqual([2, 0, 0, 3, 2, 1, 0, 0, 0]);
    expect(ragged.call([]).shape).toEqual([0, 0]);
  });

  it('keeps maxTokens - 2 learned tokens', () => {
    const layer = new TextVectorization({ maxTokens: 4 });
    layer.adapt(['x x x y y z']);
    expect(layer.getVocabulary()).toEqual(['', '[UNK]', 'x', 'y']);
    expect(layer.vocabularySize()).toBe(4);
  });

  it('never learns the padding or OOV tokens', () => {
    const layer = new TextVectorization({ standardize: null, split: null });
    layer.adapt(['', '[UNK]', '[UNK]', 'word']);
    expect(layer.getVocabulary()).toEqual(['', '[UNK]', 'word']);
    expect(Array.from(layer.call(['', '[UNK]', 'word']).data)).toEqual([0, 1, 2]);
  });

  it('a second adapt starts from scratch', () => {
    const layer = new TextVectorization();
    layer.adapt(['a a b']);
    layer.adapt(['c']);
    expect(layer.getVocabulary()).toEqual(['', '[UNK]', 'c']);
  });

  it('setVocabulary replaces an adapted vocabulary, and adapt replaces a set one (index_lookup.py)', () => {
    const layer = new TextVectorization();
    layer.adapt(['x y y']);
    layer.setVocabulary(['q']);
    expect(layer.getVocabulary()).toEqual(['', '[UNK]', 'q']);
    layer.adapt(['z']);
    expect(layer.getVocabulary()).toEqual(['', '[UNK]', 'z']);
  });

  it('setVocabulary takes lists with or without the special tokens', () => {
    const a = new TextVectorization();
    a.setVocabulary(['', '[UNK]', 'x', 'y']);
    const b = new TextVectorization({ vocabulary: ['x', 'y'] });
    expect(a.getVocabulary()).toEqual(b.getVocabulary());
    expect(Array.from(b.call(['y x z']).data)).toEqual([3, 2, 1]);
  });

  it('getConfig / fromConfig round-trips, with Keras’ snake_case keys', () => {
    const layer = new TextVectorization({ maxTokens: 100, ngrams: [1, 3], outputSequenceLength: 7, standardize: lowerStripHtmlBreaksAndPunctuation });
    layer.adapt(['Some text<br />here, and <br />there']);
    const config = layer.getConfig();
    expect(config).toMatchObject({
      max_tokens: 100,
      standardize: 'lower_strip_html_breaks_and_punctuation',
      split: 'whitespace',
      ngrams: [1, 3],
      output_mode: 'int',
      output_sequence_length: 7,
      vocabulary: null,
      vocabulary_size: layer.vocabularySize(),
    });
    const copy = TextVectorization.fromConfig(JSON.parse(JSON.stringify(config)));
    copy.setVocabulary(layer.getVocabulary());
    const texts = ['here and there', 'Other <br />TEXT'];
    expect(copy.call(texts)).toEqual(layer.call(texts));
    expect(copy.getConfig()).toMatchObject({ ...config, vocabulary: null });
  });

  it('a registered standardize function is saved by name; an unregistered one refuses', () => {
    const shout = (t: string) => t.toUpperCase();
    const layer = new TextVectorization({ standardize: shout });
    expect(() => layer.getConfig()).toThrow(/not registered/);
    registerStandardize('test_shout', shout);
    expect(layer.getConfig().standardize).toBe('test_shout');
    expect(TextVectorization.fromConfig({ ...layer.getConfig() }).tokenize('a b')).toEqual(['A', 'B']);
    expect(() => TextVectorization.fromConfig({ standardize: 'nope' })).toThrow(/unknown standardize "nope"/);
  });
});

describe('TextVectorization refuses bad input with one line', () => {
  const bad: [string, () => unknown, RegExp][] = [
    ['maxTokens 1', () => new TextVectorization({ maxTokens: 1 }), /maxTokens must be an integer >= 2, got 1/],
    ['outputSequenceLength 0', () => new TextVectorization({ outputSequenceLength: 0 }), /outputSequenceLength must be an integer >= 1/],
    ['standardize typo', () => new TextVectorization({ standardize: 'lowercase' as never }), /standardize must be/],
    ['split typo', () => new TextVectorization({ split: 'space' as never }), /split must be/],
    ['ngrams 0', () => new TextVectorization({ ngrams: 0 }), /ngrams width must be an integer >= 1/],
    ['ngrams without split', () => new TextVectorization({ ngrams: 2, split: null }), /ngrams needs a split/],
    ['output mode', () => new TextVectorization({ outputMode: 'multi_hot' as never }), /only outputMode 'int'/],
    ['empty vocabulary', () => new TextVectorization({ vocabulary: [] }), /empty vocabulary/],
    ['repeated tokens', () => new TextVectorization({ vocabulary: ['a', 'b', 'a'] }), /repeats "a"/],
    ['padding token inside', () => new TextVectorization({ vocabulary: ['a', ''] }), /padding token '' may only be first/],
    ['vocabulary over maxTokens', () => new TextVectorization({ maxTokens: 3, vocabulary: ['a', 'b'] }), /has 4 entries .* more than maxTokens 3/],
    ['adapt on a layer made with a vocabulary', () => new TextVectorization({ vocabulary: ['a'] }).adapt(['b']), /cannot adapt a layer made with a vocabulary/],
    ['non-string text', () => new TextVectorization().call([3 as never]), /must be a string, got number/],
    ['fromConfig tf_idf', () => TextVectorization.fromConfig({ output_mode: 'tf_idf' as never }), /output_mode="tf_idf" is not supported/],
  ];
  for (const [what, fn, message] of bad) {
    it(what, () => {
      let thrown: unknown;
      try {
        fn();
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(TextVectorizationError);
      expect((thrown as Error).message).toMatch(message);
      expect((thrown as Error).message).not.toContain('\n');
    });
  }
});

describe('the fast path of adapt and call agrees with tokenize', () => {
  // Pieces that stress the scan: case, non-ASCII case, each kind of ASCII whitespace, punctuation,
  // '<br />' in both cases and cut short, surrogate pairs, the special tokens.
  const pieces = ['a', 'B', 'ab', 'É', 'é', ' ', '  ', '\t', '\n', '\v', '\f', '\r', '\u00a0', '.', "'", '-', '<', '<br />', '<BR />', '<br /', 'br', '[UNK]', '😀', '\uE000', 'x', 'Yy'];
  const text = fc.array(fc.constantFrom(...pieces), { maxLength: 30 }).map((p) => p.join(''));
  const modes: TextVectorizationOptions['standardize'][] = ['lower_and_strip_punctuation', 'lower', 'strip_punctuation', null, lowerStripHtmlBreaksAndPunctuation, (t: string) => t.replace(/b/g, 'B')];

  /** The vocabulary by the definition: tokenize, count, sort as index_lookup.py does. */
  function referenceVocabulary(layer: TextVectorization, texts: string[], maxTokens: number | null): string[] {
    const counts = new Map<string, number>();
    for (const t of texts) for (const token of layer.tokenize(t)) counts.set(token, (counts.get(token) ?? 0) + 1);
    counts.delete('');
    counts.delete('[UNK]');
    const sorted = [...counts.keys()].sort((a, b) => counts.get(b)! - counts.get(a)! || compareCodePoints(b, a));
    return ['', '[UNK]', ...sorted.slice(0, maxTokens === null ? undefined : maxTokens - 2)];
  }

  for (const [m, standardize] of modes.entries()) {
    it(`standardize #${m}`, () => {
      fc.assert(
        fc.property(fc.array(text, { maxLength: 12 }), fc.array(text, { maxLength: 5 }), fc.option(fc.integer({ min: 2, max: 8 }), { nil: null }), (corpus, queries, maxTokens) => {
          const layer = new TextVectorization({ standardize, maxTokens, outputSequenceLength: 6 });
          layer.adapt(corpus);
          expect(layer.getVocabulary()).toEqual(referenceVocabulary(layer, corpus, maxTokens));
          const expected = queries.flatMap((q) => {
            const ids = layer.tokenize(q).map((t) => layer.tokenId(t)).slice(0, 6);
            return [...ids, ...new Array(6 - ids.length).fill(0)];
          });
          expect(Array.from(layer.call(queries).data)).toEqual(expected);
        }),
        { numRuns: 300 },
      );
    });
  }
});
