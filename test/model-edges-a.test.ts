/**
 * What src/nn/model.ts promises about building, summing up and compiling a Sequential that the
 * training tests do not read (found by StrykerJS): the whole of `summary()`'s table, character for
 * character, as Keras 3 prints it (the tutorial model's table, written out here from Keras' own
 * output, not from this engine's); the exact messages of `add`, `build` and `compile` when they
 * refuse; the name a TrainingError carries; and an uncompiled model's empty optimizer name.
 */
import { describe, expect, it } from 'vitest';
import { Dense, Embedding, GlobalAveragePooling1D } from '../src/nn/layers.js';
import { Sequential, TrainingError } from '../src/nn/model.js';
import { useGpu } from './gpu-helpers.js';
import { thrown } from './helpers.js';

/** The tutorial's model with Keras' default layer names (given, since this file makes several models). */
const tutorialLayers = () => [
  new Embedding(10000, 16, { name: 'embedding' }),
  new GlobalAveragePooling1D({ name: 'global_average_pooling1d' }),
  new Dense(16, { activation: 'relu', name: 'dense' }),
  new Dense(1, { activation: 'sigmoid', name: 'dense_1' }),
];

/** Every call of summary's `print`, each as one string (a wrapped row is one call of two lines). */
function printed(model: Sequential): string[] {
  const calls: string[] = [];
  model.summary((text) => calls.push(text));
  return calls;
}

describe('Sequential.summary: the whole table, as Keras 3 prints it', () => {
  const gpu = useGpu();

  it("prints the tutorial model's table exactly as Keras 3 does (160,289 parameters)", () => {
    const model = new Sequential(tutorialLayers());
    model.build(gpu(), [256], { seed: 0 });
    // Keras 3's `model.summary()` for this model (TensorFlow's word-embeddings tutorial), with
    // 160,289 float32 parameters = 641,156 bytes = 626.13 KB.
    const keras = [
      'Model: "sequential"',
      '┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓',
      '┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃',
      '┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩',
      '│ embedding (Embedding)           │ (None, 256, 16)        │       160,000 │',
      '├─────────────────────────────────┼────────────────────────┼───────────────┤',
      '│ global_average_pooling1d        │ (None, 16)             │             0 │\n│ (GlobalAveragePooling1D)        │                        │               │',
      '├─────────────────────────────────┼────────────────────────┼───────────────┤',
      '│ dense (Dense)                   │ (None, 16)             │           272 │',
      '├─────────────────────────────────┼────────────────────────┼───────────────┤',
      '│ dense_1 (Dense)                 │ (None, 1)              │            17 │',
      '└─────────────────────────────────┴────────────────────────┴───────────────┘',
      ' Total params: 160,289 (626.13 KB)',
      ' Trainable params: 160,289 (626.13 KB)',
      ' Non-trainable params: 0 (0.00 B)',
    ];
    expect(printed(model)).toEqual(keras);
    model.dispose();
  });

  it('names the model it sums up, wraps a name just past its 31 columns, and draws no rule after a single row', () => {
    // 'dense_layer_with_long_name (Dense)' is 34 characters: one line would not fit the 31 columns
    // between the first column's borders, so the type goes onto a second line (Keras' rich table).
    const model = new Sequential([new Dense(3, { name: 'dense_layer_with_long_name' })], 'tiny_model');
    model.build(gpu(), [2], { seed: 0 });
    expect(printed(model)).toEqual([
      'Model: "tiny_model"',
      '┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓',
      '┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃',
      '┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩',
      // 2·3 weights + 3 biases
      '│ dense_layer_with_long_name      │ (None, 3)              │             9 │\n│ (Dense)                         │                        │               │',
      '└─────────────────────────────────┴────────────────────────┴───────────────┘',
      ' Total params: 9 (36.00 B)',
      ' Trainable params: 9 (36.00 B)',
      ' Non-trainable params: 0 (0.00 B)',
    ]);
    model.dispose();
  });

  // This engine's own choice: Keras 3 prints `?` for every shape of an unbuilt model and `0 (unbuilt)`
  // for the layers that will hold weights. Here the shapes are those of token rows of any length.
  it('sums up a model before build() for token rows of any length, (None, None), with no weights yet', () => {
    const model = new Sequential([new Embedding(50, 8, { name: 'embedding' }), new GlobalAveragePooling1D({ name: 'pool' }), new Dense(1, { name: 'dense' })], 'unbuilt');
    expect(printed(model).slice(4, 9)).toEqual([
      '│ embedding (Embedding)           │ (None, None, 8)        │             0 │',
      '├─────────────────────────────────┼────────────────────────┼───────────────┤',
      '│ pool (GlobalAveragePooling1D)   │ (None, 8)              │             0 │',
      '├─────────────────────────────────┼────────────────────────┼───────────────┤',
      '│ dense (Dense)                   │ (None, 1)              │             0 │',
    ]);
  });
});

describe('Sequential: add, build and compile refuse with exact messages', () => {
  const gpu = useGpu();

  it('refuses a layer added after build(), a build without layers and a second build()', () => {
    const model = new Sequential([new Dense(1)], 'text_model');
    model.build(gpu(), [4], { seed: 0 });
    expect(thrown(Error, () => model.add(new Dense(1))).message).toBe('text_model: add layers before build()');
    expect(model.layers).toHaveLength(1);
    const bytes = gpu().stats.bytesInUse;
    expect(thrown(Error, () => model.build(gpu(), [4], { seed: 0 })).message).toBe('text_model: already built');
    expect(gpu().stats.bytesInUse).toBe(bytes); // nothing made for the refused build
    model.dispose();
    expect(thrown(Error, () => new Sequential([], 'empty').build(gpu(), [4])).message).toBe('empty: no layers to build');
  });

  it("compile refuses a loss, metrics, jitCompile or fuse it does not know, naming what it got", () => {
    const model = () => new Sequential([new Dense(1)]);
    const refusal = (options: object) => thrown(RangeError, () => model().compile(options as never)).message;
    expect(refusal({ loss: 'mse' })).toBe("compile: unsupported loss 'mse'");
    // One known metric next to an unknown one: any unknown one is refused, and every one is listed.
    expect(refusal({ metrics: ['accuracy', 'auc'] })).toBe('compile: unsupported metrics accuracy, auc');
    expect(refusal({ metrics: ['auc'] })).toBe('compile: unsupported metrics auc');
    expect(refusal({ jitCompile: 'yes' })).toBe("compile: jitCompile must be true, false or 'auto', got yes");
    expect(refusal({ fuse: 1 })).toBe("compile: fuse must be true, false or 'auto', got 1");
    // What it knows, it takes (no metrics at all included, as Keras does).
    for (const options of [{}, { metrics: [] }, { metrics: ['accuracy'] }, { jitCompile: false, fuse: true }, { jitCompile: 'auto', fuse: 'auto' }]) {
      expect(() => model().compile(options as never)).not.toThrow();
    }
  });

  it("an uncompiled model's optimizer name is empty; compiling names it", () => {
    const model = new Sequential([new Dense(1)]);
    expect(model.optimizerName).toBe('');
    expect(model.compiledOptimizer).toBeNull();
    model.compile({ optimizer: 'sgd' });
    expect(model.optimizerName).toBe('sgd');
  });
});

describe('TrainingError', () => {
  const gpu = useGpu();

  it('a NaN loss stops fit with an error named TrainingError (what a caller sees printed)', async () => {
    const model = new Sequential([new Embedding(10, 4), new GlobalAveragePooling1D(), new Dense(1, { activation: 'sigmoid' })]);
    model.build(gpu(), [3], { seed: 0 });
    model.compile({ jitCompile: false });
    const weights = await model.getWeights();
    weights[2][0] = Number.NaN; // the output bias: every logit, so every loss, is NaN
    model.setWeights(weights);
    const error = await model.fit({ data: Int32Array.of(1, 2, 3, 4, 5, 6), shape: [2, 3] }, [0, 1], { verbose: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingError);
    expect((error as Error).name).toBe('TrainingError');
    expect(String(error)).toMatch(/^TrainingError: loss is NaN at epoch 1, step 1: /);
    model.dispose();
  });
});
