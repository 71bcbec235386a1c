/**
 * What src/nn/model.ts (`Sequential`) promises beyond what the training tests read (found by
 * StrykerJS): each refusal's exact message (an unbuilt model, an output that is not one probability
 * per sample, a bad `verbose`, missing or bad labels, token ids that are not a [samples, steps]
 * int32 matrix or fall below the embedding, `fuse: true` without a compiled step, a device lost
 * before evaluate or predict); what `Sequential.load` reads the input length from (the first layer's
 * `batch_input_shape`, else the vectorizer's output length) and what it refuses; the bounded
 * message of weights that do not fit (and the model built to compare them, freed); a model built
 * for sequences of any length; and Keras 3's summary: a cell of exactly its column's width on one
 * line, and the byte sizes' units at their boundaries (keras/src/utils/summary_utils.py
 * `readable_memory_size`: B, KB, MB, GB, TB, PB).
 */
import { describe, expect, it } from 'vitest';
import { TextVectorization } from '../src/data/text-vectorization.js';
import { Gpu } from '../src/gpu/gpu.js';
import { Dense, Dropout, Embedding, GlobalAveragePooling1D, Layer, type Shape } from '../src/nn/layers.js';
import { describeVectorizer, ModelFileError, type ModelDescription } from '../src/nn/model-file.js';
import { Sequential, TrainingError, type TokenMatrix } from '../src/nn/model.js';
import { WeightsFileError } from '../src/nn/weights-file.js';
import { syntheticReviews, useGpu } from './gpu-helpers.js';
import { rejected, thrown } from './helpers.js';

const [VOCAB, STEPS] = [10, 3];

/** Embedding -> mean over the steps -> one sigmoid unit, with fixed layer names. */
const small = (gpu: Gpu, name = 'sequential', steps: number | null = STEPS, dim = 4): Sequential => {
  const m = new Sequential([new Embedding(VOCAB, dim, { name: 'e' }), new GlobalAveragePooling1D({ name: 'g' }), new Dense(1, { activation: 'sigmoid', name: 'd' })], name);
  m.build(gpu, [steps as number], { seed: 1 });
  m.compile({ optimizer: 'adam' });
  return m;
};

/** Two samples of STEPS ids. */
const twoRows = (): TokenMatrix => ({ data: Int32Array.from([1, 2, 3, 4, 5, 6]), shape: [2, STEPS] });

describe('Sequential: refusals, one exact message each', () => {
  const gpu = useGpu();

  it('an unbuilt model names the call that needs build()', async () => {
    const m = new Sequential([new Embedding(VOCAB, 4), new GlobalAveragePooling1D(), new Dense(1)], 'unbuilt');
    for (const [what, call] of [
      ['fit', () => m.fit(twoRows(), [0, 1])],
      ['evaluate', () => m.evaluate(twoRows(), [0, 1])],
      ['predict', () => m.predict(twoRows())],
      ['describe', () => m.describe()],
      ['describe', () => m.save()],
    ] as const) {
      const error = await rejected(Error, call());
      expect(error.message).toBe(`unbuilt: call build() before ${what}()`);
    }
  });

  it('an output that is not one probability per sample is refused by describe and fit, naming both', async () => {
    const m = new Sequential([new Embedding(VOCAB, 4), new Dense(1, { activation: 'sigmoid' })], 'per_step');
    m.build(gpu(), [STEPS]);
    m.compile({});
    const message = (what: string) =>
      `per_step.${what}: the model's output (None, 3, 1) is not one probability per sample; ` +
      'binary_crossentropy with one 0/1 label per sample needs (None, 1) (pool the steps axis first, e.g. GlobalAveragePooling1D)';
    for (const [what, call] of [
      ['describe', () => m.describe()],
      ['fit', () => m.fit(twoRows(), [0, 1], { verbose: 0 })],
    ] as const) {
      const error = await rejected(RangeError, call());
      expect(error.message).toBe(message(what));
    }
    m.dispose();
  });

  it('an output of rank 1, (None,), is one value per sample: describe accepts it', async () => {
    const m = new Sequential([new Dropout(0.5, { name: 'drop', seed: 7 })]);
    m.build(gpu(), []);
    const description = await m.describe();
    expect(description.architecture).toEqual([{ className: 'Dropout', config: { ...m.layers[0].getConfig(), batch_input_shape: [null] } }]);
    expect(description.weights).toEqual([]);
    m.dispose();
  });

  it('verbose other than 0, 1 or 2 is refused by fit and evaluate', async () => {
    const m = small(gpu());
    const fit = await rejected(RangeError, m.fit(twoRows(), [0, 1], { verbose: 3 as 0 }));
    expect(fit.message).toBe('fit: verbose must be 0, 1 or 2, got 3');
    const evaluate = await rejected(RangeError, m.evaluate(twoRows(), [0, 1], { verbose: -1 as 0 }));
    expect(evaluate.message).toBe('evaluate: verbose must be 0, 1 or 2, got -1');
    m.dispose();
  });

  it('labels: none given, and a bad first label', async () => {
    const m = small(gpu());
    const none = await rejected(RangeError, m.fit(twoRows(), undefined as unknown as number[], { verbose: 0 }));
    expect(none.message).toBe('training data: 0 labels for 2 samples');
    const first = await rejected(RangeError, m.evaluate(twoRows(), [2, 1], { verbose: 0 }));
    expect(first.message).toBe('evaluate data: label 0 is 2; binary_crossentropy needs 0 or 1');
    const val = await rejected(RangeError, m.fit(twoRows(), [0, 1], { verbose: 0, validationData: [twoRows(), [0.5, 1]] }));
    expect(val.message).toBe('validationData: label 0 is 0.5; binary_crossentropy needs 0 or 1');
    m.dispose();
  });

  it('token ids: no matrix, no shape, a shape of rank 3, and an id below 0', async () => {
    const m = small(gpu());
    const expected = 'predict data: expected int32 token ids of shape [samples, steps]';
    for (const x of [undefined, null, { data: new Int32Array(6) }, { data: new Int32Array(6), shape: [2, STEPS, 1] }]) {
      const error = await rejected(TypeError, m.predict(x as unknown as TokenMatrix));
      expect(error.message).toBe(expected);
    }
    const ids = Int32Array.from([1, 2, 3, -1, 5, 6]);
    const below = await rejected(RangeError, m.predict({ data: ids, shape: [2, STEPS] }));
    expect(below.message).toBe("predict data: token id -1 at sample 1, position 0 is outside the embedding's [0, 10)");
    m.dispose();
  });

  it('fuse: true with jitCompile: false is refused by fit, evaluate and predict', async () => {
    const m = small(gpu(), 'strict');
    m.compile({ jitCompile: false, fuse: true });
    for (const call of [() => m.fit(twoRows(), [0, 1], { verbose: 0 }), () => m.evaluate(twoRows(), [0, 1], { verbose: 0 }), () => m.predict(twoRows())]) {
      const error = await rejected(Error, call());
      expect(error.message).toBe('strict: fuse: true needs a compiled step; jitCompile is false');
    }
    m.dispose();
  });

  it('a device lost before evaluate or predict names epoch 1 and no step', async () => {
    const own = await Gpu.create();
    const m = small(own);
    own.device.destroy();
    for (const call of [() => m.evaluate(twoRows(), [0, 1], { verbose: 0 }), () => m.predict(twoRows())]) {
      const error = await rejected(TrainingError, call());
      // The rest is the GPU's own words.
      expect(error.message).toMatch(/^GPU failure at epoch 1: the GPU device was lost/);
    }
  });
});

describe('Sequential: executors and sequence lengths', () => {
  const gpu = useGpu();

  it('fuse: false runs the captured steps, and says why; the same model fuses under fuse: auto', async () => {
    // The tutorial's shape, which the fused kernels take.
    const m = new Sequential([new Embedding(VOCAB, 4), new GlobalAveragePooling1D(), new Dense(3, { activation: 'relu' }), new Dense(1, { activation: 'sigmoid' })]);
    m.build(gpu(), [STEPS], { seed: 2 });
    m.compile({});
    const data = syntheticReviews(8, 3, { vocab: VOCAB, steps: STEPS, minLength: 1, highFrom: 5, skewed: false });
    await m.predict(data.x);
    expect([m.execution, m.fusedReason]).toEqual(['fused', null]);
    m.compile({ fuse: false });
    await m.predict(data.x);
    expect([m.execution, m.fusedReason]).toEqual(['captured', 'compiled with fuse: false']);
    await m.fit(data.x, data.y, { verbose: 0 });
    expect([m.execution, m.fusedReason]).toEqual(['captured', 'compiled with fuse: false']);
    m.dispose();
  });

  it('a model built for sequences of any length (None) predicts sequences of each length', async () => {
    const any = small(gpu(), 'any', null);
    expect(any.layers[0].computeOutputShape([null, null])).toEqual([null, null, 4]);
    const weights = await any.getWeights();
    for (const steps of [2, 5]) {
      const fixed = small(gpu(), 'fixed', steps);
      fixed.setWeights(weights);
      const x = syntheticReviews(6, steps, { vocab: VOCAB, steps, minLength: 1, highFrom: 5, skewed: false }).x;
      expect(await any.predict(x)).toEqual(await fixed.predict(x));
      fixed.dispose();
    }
    any.dispose();
  });
});

describe('Sequential.describe and Sequential.load', () => {
  const gpu = useGpu();

  it('describe gives batch_input_shape to the first layer only, and the vectorizer when given one', async () => {
    const m = small(gpu());
    const vectorizer = new TextVectorization({ maxTokens: VOCAB, outputSequenceLength: STEPS });
    vectorizer.adapt(['good film', 'bad film', 'a good plot']);
    const description = await m.describe(vectorizer);
    expect(description.architecture.map((a) => a.config.batch_input_shape)).toEqual([[null, STEPS], undefined, undefined]);
    expect(description.architecture.slice(1).map((a) => 'batch_input_shape' in a.config)).toEqual([false, false]);
    expect(description.vectorizer).toEqual(describeVectorizer(vectorizer));
    expect('vectorizer' in (await m.describe())).toBe(false);
    // Through the file: the vectorizer comes back with its vocabulary.
    const loaded = Sequential.load(gpu(), await m.save({ vectorizer }));
    expect(loaded.vectorizer?.getVocabulary()).toEqual(vectorizer.getVocabulary());
    expect(loaded.vectorizer?.outputSequenceLength).toBe(STEPS);
    loaded.model.dispose();
    m.dispose();
  });

  it('a model without layers is refused, named by the file (default "model")', () => {
    for (const [name, expected] of [
      [undefined, 'model: the model has no layers'],
      ['empty.sgm', 'empty.sgm: the model has no layers'],
    ] as const) {
      const error = thrown(ModelFileError, () => Sequential.load(gpu(), { architecture: [], weights: [] }, name));
      expect(error.message).toBe(expected);
    }
  });

  it('the input length comes from batch_input_shape, else from the vectorizer', async () => {
    const m = small(gpu(), 'sequential', 5);
    const x = syntheticReviews(4, 9, { vocab: VOCAB, steps: 5, minLength: 1, highFrom: 5, skewed: false }).x;
    const expected = await m.predict(x);
    const vectorizer = new TextVectorization({ maxTokens: VOCAB, outputSequenceLength: 5 });
    vectorizer.adapt(['good film', 'bad film']);
    const description = await m.describe(vectorizer);
    delete description.architecture[0].config.batch_input_shape;
    const { model, vectorizer: back } = Sequential.load(gpu(), description);
    expect(back?.outputSequenceLength).toBe(5);
    expect(await model.predict(x)).toEqual(expected);
    model.dispose();
    m.dispose();
  });

  it('sequences of length 1 load', async () => {
    const m = small(gpu(), 'sequential', 1);
    const x: TokenMatrix = { data: Int32Array.from([3, 7]), shape: [2, 1] };
    const { model } = Sequential.load(gpu(), await m.save());
    expect(await model.predict(x)).toEqual(await m.predict(x));
    model.dispose();
    m.dispose();
  });

  it('a batch_input_shape that does not give a positive integer length is refused, quoted', async () => {
    const m = small(gpu());
    const base = await m.describe();
    const withShape = (shape: unknown): ModelDescription => {
      const [first, ...rest] = base.architecture;
      const config = { ...first.config, batch_input_shape: shape };
      if (shape === undefined) delete config.batch_input_shape;
      return { ...base, architecture: [{ ...first, config }, ...rest] };
    };
    for (const [shape, quoted] of [
      [[null, 0], '[null,0]'],
      [[null, -2], '[null,-2]'],
      [[null, 2.5], '[null,2.5]'],
      [[null, '3'], '[null,"3"]'],
      [[null, null], '[null,null]'],
      [[null, STEPS, 1], '[null,3,1]'],
      [[STEPS], '[3]'],
      [undefined, 'undefined'],
      ['3', '"3"'],
    ] as const) {
      const error = thrown(ModelFileError, () => Sequential.load(gpu(), withShape(shape), 'bad.sgm'));
      expect(error.message).toBe(`bad.sgm: the first layer's batch_input_shape (${quoted}) does not give the input length`);
    }
    m.dispose();
  });

  it('weights that do not fit are refused, each list cut at 300 characters', async () => {
    // 40 Dense(1) layers after a one-wide embedding: kernels 1x1, biases 1.
    const layers = () => [new Embedding(VOCAB, 1), new GlobalAveragePooling1D(), ...Array.from({ length: 40 }, () => new Dense(1))];
    const m = new Sequential(layers());
    m.build(gpu(), [STEPS]);
    const description = await m.describe();
    description.weights[0] = { ...description.weights[0], shape: [VOCAB + 1, 1], values: new Float32Array(VOCAB + 1) };
    const dense = Array.from({ length: 40 }, () => '1x1, 1').join(', ');
    const [saved, mine] = [`11x1, ${dense}`, `10x1, ${dense}`];
    expect(saved.length).toBeGreaterThan(300);
    const before = gpu().stats.bytesInUse;
    const error = thrown(ModelFileError, () => Sequential.load(gpu(), description, 'long.sgm'));
    // The model it built to compare shapes is freed.
    expect(gpu().stats.bytesInUse).toBe(before);
    expect(error.message).toBe(`long.sgm: weights of shapes (${saved.slice(0, 300)}) do not fit its architecture's (${mine.slice(0, 300)})`);
    // A short list is quoted whole.
    const other = small(gpu());
    const short = await other.describe();
    short.weights[1] = { ...short.weights[1], shape: [4, 2], values: new Float32Array(8) };
    expect(thrown(ModelFileError, () => Sequential.load(gpu(), short, 'short.sgm')).message).toBe(
      "short.sgm: weights of shapes (10x4, 4x2, 1) do not fit its architecture's (10x4, 4x1, 1)",
    );
    m.dispose();
    other.dispose();
  });

  it('loadWeightsBytes names the file ("weights" by default) and both lists of names and shapes', async () => {
    const [four, two] = [small(gpu(), 'four'), small(gpu(), 'two', STEPS, 2)];
    const bytes = await four.saveWeightsBytes();
    const message = (file: string) =>
      `${file}: weights do not fit the model: the file has e/embeddings [10, 4], d/kernel [4, 1], d/bias [1]; ` +
      'the model has e/embeddings [10, 2], d/kernel [2, 1], d/bias [1]';
    for (const [file, call] of [
      ['weights', () => two.loadWeightsBytes(bytes)],
      ['w.sgw', () => two.loadWeightsBytes(bytes, 'w.sgw')],
    ] as const) {
      const error = thrown(WeightsFileError, call);
      expect(error.message).toBe(message(file));
    }
    // Same shapes, another name: refused too.
    const renamed = new Sequential([new Embedding(VOCAB, 4, { name: 'other' }), new GlobalAveragePooling1D(), new Dense(1, { activation: 'sigmoid', name: 'd' })]);
    renamed.build(gpu(), [STEPS]);
    expect(thrown(WeightsFileError, () => renamed.loadWeightsBytes(bytes)).message).toBe(
      'weights: weights do not fit the model: the file has e/embeddings [10, 4], d/kernel [4, 1], d/bias [1]; ' +
        'the model has other/embeddings [10, 4], d/kernel [4, 1], d/bias [1]',
    );
    for (const m of [four, two, renamed]) m.dispose();
  });
});

/** A stand-in layer of `params` parameters that keeps its input's shape: summary reads only its name, class, shape and count. */
class Counted extends Layer {
  constructor(private readonly params: number) {
    super('Counted', 'counted', 'big');
  }

  computeOutputShape(inputShape: Shape): Shape {
    return inputShape;
  }

  call(): never {
    throw new Error('a stand-in for summary() only');
  }

  override countParams(): number {
    return this.params;
  }
}

describe("Sequential.summary: Keras 3's table at its boundaries", () => {
  const gpu = useGpu();
  const printed = (m: Sequential) => {
    const lines: string[] = [];
    m.summary((l) => lines.push(...l.split('\n')));
    return lines;
  };

  it('a cell exactly as wide as its column stays on one line; 256 parameters are 1.00 KB', () => {
    // "aaaaaaaaaaaaaaaaaaaaaaa (Dense)" is 31 characters: the first column's 33 less its padding.
    const m = new Sequential([new Embedding(50, 5, { name: 'e' }), new GlobalAveragePooling1D({ name: 'g' }), new Dense(1, { name: 'a'.repeat(23) })], 'fits');
    m.build(gpu(), [3]);
    expect(printed(m)).toEqual([
      'Model: "fits"',
      '┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓',
      '┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃',
      '┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩',
      '│ e (Embedding)                   │ (None, 3, 5)           │           250 │',
      '├─────────────────────────────────┼────────────────────────┼───────────────┤',
      '│ g (GlobalAveragePooling1D)      │ (None, 5)              │             0 │',
      '├─────────────────────────────────┼────────────────────────┼───────────────┤',
      '│ aaaaaaaaaaaaaaaaaaaaaaa (Dense) │ (None, 1)              │             6 │',
      '└─────────────────────────────────┴────────────────────────┴───────────────┘',
      ' Total params: 256 (1.00 KB)',
      ' Trainable params: 256 (1.00 KB)',
      ' Non-trainable params: 0 (0.00 B)',
    ]);
    m.dispose();
  });

  it('a cell one character wider wraps at its space; 262,144 parameters are 1.00 MB', () => {
    const m = new Sequential([new Embedding(262142, 1, { name: 'e' }), new GlobalAveragePooling1D({ name: 'g' }), new Dense(1, { name: 'b'.repeat(24) })], 'wraps');
    m.build(gpu(), [3]);
    expect(printed(m)).toEqual([
      'Model: "wraps"',
      '┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓',
      '┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃',
      '┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩',
      '│ e (Embedding)                   │ (None, 3, 1)           │       262,142 │',
      '├─────────────────────────────────┼────────────────────────┼───────────────┤',
      '│ g (GlobalAveragePooling1D)      │ (None, 1)              │             0 │',
      '├─────────────────────────────────┼────────────────────────┼───────────────┤',
      '│ bbbbbbbbbbbbbbbbbbbbbbbb        │ (None, 1)              │             2 │',
      '│ (Dense)                         │                        │               │',
      '└─────────────────────────────────┴────────────────────────┴───────────────┘',
      ' Total params: 262,144 (1.00 MB)',
      ' Trainable params: 262,144 (1.00 MB)',
      ' Non-trainable params: 0 (0.00 B)',
    ]);
    m.dispose();
  });

  it('sizes in B, KB, MB, GB, TB and PB: the unit is the first in which the size is under 1024', () => {
    const totals = (params: number) => {
      const lines = printed(new Sequential([new Counted(params)]));
      return lines.filter((l) => l.startsWith(' Total params'))[0];
    };
    // float32 weights: 4 bytes a parameter.
    expect(totals(255)).toBe(' Total params: 255 (1020.00 B)');
    expect(totals(256)).toBe(' Total params: 256 (1.00 KB)');
    // 1,048,572 bytes: 1023.996 KB, still KB, printed with two decimals as Keras' "{:.2f}" does.
    expect(totals(262_143)).toBe(' Total params: 262,143 (1024.00 KB)');
    expect(totals(262_144)).toBe(' Total params: 262,144 (1.00 MB)');
    expect(totals(2_621_440)).toBe(' Total params: 2,621,440 (10.00 MB)');
    expect(totals(160_289)).toBe(' Total params: 160,289 (626.13 KB)');
    // Past 1 GB Keras goes on to GB, TB and PB (a fastText table of 1M x 300 is 1.12 GB, not 1144.41 MB).
    expect(totals(268_435_455)).toBe(' Total params: 268,435,455 (1024.00 MB)');
    expect(totals(268_435_456)).toBe(' Total params: 268,435,456 (1.00 GB)');
    expect(totals(300_000_000)).toBe(' Total params: 300,000,000 (1.12 GB)');
    expect(totals(2 ** 38)).toBe(' Total params: 274,877,906,944 (1.00 TB)');
    expect(totals(2 ** 48)).toBe(' Total params: 281,474,976,710,656 (1.00 PB)');
    expect(totals(2 ** 47 * 3)).toBe(' Total params: 422,212,465,065,984 (1.50 PB)');
    // 1024 PB and up: Keras' loop has divided once more when it falls through to its last line.
    expect(totals(2 ** 58)).toMatch(/ \(1\.00 PB\)$/);
  });
});
