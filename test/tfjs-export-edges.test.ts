/**
 * The edges of the TF.js Layers export and import that the round trips in tfjs-export.test.ts
 * leave untested: the model.json fields TF.js itself writes (checked against `model.toJSON`),
 * which layer carries the input shape, layers without a bias, an InputLayer or Keras'
 * `model_config` nesting on import, and each refusal's exact one-line message. No GPU.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { thrown } from './helpers.js';
import type { LayerSpec, ModelDescription } from '../src/nn/model-file';
import { TFJS_WEIGHTS_FILE, TfjsExportError, fromTfjsLayersModel, tfjsFiles, toTfjsLayersModel } from '../src/nn/tfjs-export';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const EXPORTED = 'Embedding, Dropout, GlobalAveragePooling1D, GlobalMaxPooling1D, Conv1D, Dense';

/** Embedding(6, 2), GlobalAveragePooling1D, Dense(1) without a bias: the smallest model with a layer of each kind of weight list. */
function small(): ModelDescription {
  return {
    architecture: [
      { className: 'Embedding', config: { name: 'embedding', input_dim: 6, output_dim: 2 } },
      { className: 'GlobalAveragePooling1D', config: { name: 'pool' } },
      { className: 'Dense', config: { name: 'dense', units: 1, use_bias: false } },
    ],
    weights: [
      { name: 'embedding/embeddings', shape: [6, 2], values: Float32Array.from({ length: 12 }, (_, i) => i / 4 - 1) },
      { name: 'dense/kernel', shape: [2, 1], values: Float32Array.of(0.5, -2) },
    ],
  };
}


describe('TF.js export: model.json as TF.js writes it', () => {
  it('format, generator, Keras version and backend are those of TF.js Layers 4.22 (as its own toJSON writes them)', () => {
    const theirs = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] }).toJSON(null, false) as unknown as Record<string, unknown>;
    const { modelJson } = toTfjsLayersModel(small());
    expect(modelJson.format).toBe('layers-model');
    expect(modelJson.generatedBy).toBe('shadergrad');
    expect(modelJson.convertedBy).toBeNull();
    expect(modelJson.modelTopology.keras_version).toBe(theirs.keras_version);
    expect(modelJson.modelTopology.backend).toBe(theirs.backend);
    expect(modelJson.modelTopology.class_name).toBe(theirs.class_name);
  });

  it('the Sequential is named "sequential" as in Keras, or as asked', () => {
    expect(toTfjsLayersModel(small()).modelJson.modelTopology.config.name).toBe('sequential');
    expect(toTfjsLayersModel(small(), { name: 'sentiment' }).modelJson.modelTopology.config.name).toBe('sentiment');
  });

  it('only the first layer carries batch_input_shape, and no layer a key its config lacks', () => {
    const layers = toTfjsLayersModel(small(), { sequenceLength: 5 }).modelJson.modelTopology.config.layers;
    expect(layers.map((l) => l.config)).toStrictEqual([
      { name: 'embedding', trainable: true, dtype: 'float32', input_dim: 6, output_dim: 2, batch_input_shape: [null, 5] },
      { name: 'pool', trainable: true, dtype: 'float32' },
      { name: 'dense', trainable: true, dtype: 'float32', units: 1, use_bias: false },
    ]);
  });

  it('a model without a vectorizer is two files, model.json ending in a newline', () => {
    const files = tfjsFiles(small());
    expect(Object.keys(files).sort()).toEqual([TFJS_WEIGHTS_FILE, 'model.json']);
    const text = new TextDecoder().decode(files['model.json']);
    expect(text.endsWith('}\n')).toBe(true);
    expect(JSON.parse(text).weightsManifest[0].weights.map((w: { name: string }) => w.name)).toEqual(['embedding/embeddings', 'dense/kernel']);
  });

  it('a Dense without a bias needs only its kernel, and TF.js predicts with it', async () => {
    const files = tfjsFiles(small(), { sequenceLength: 3 });
    const json = JSON.parse(new TextDecoder().decode(files['model.json']));
    const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: files[TFJS_WEIGHTS_FILE].slice().buffer }));
    const y = model.predict(tf.tensor2d([[1, 2, 3]])) as tf.Tensor;
    // Mean of embedding rows 1..3 ([-0.5,-0.25], [0,0.25], [0.5,0.75]) is [0, 0.25]; times [0.5, -2].
    expect(Array.from(await y.data())).toEqual([-0.5]);
    model.dispose();
  });
});

describe('TF.js export: refusals, one exact line each', () => {
  const withLayer = (layer: LayerSpec, weights = small().weights.slice(0, 1)) => () =>
    toTfjsLayersModel({ architecture: [small().architecture[0], layer], weights });

  it('a layer of another class lists the classes that are exported', () => {
    expect(thrown(TfjsExportError, withLayer({ className: 'LSTM', config: { name: 'lstm' } })).message).toBe(`layer 1 (LSTM) has no TF.js counterpart here; exported: ${EXPORTED}`);
  });

  it.each([
    ['no name', {}],
    ['an empty name', { name: '' }],
    ['a name that is not a string', { name: 7 }],
  ])('a layer with %s', (_, config) => {
    expect(thrown(TfjsExportError, withLayer({ className: 'Dropout', config: { rate: 0.5, ...config } })).message).toBe('layer 1 (Dropout) has no name in its config');
  });

  it('an Embedding with mask_zero (a mask no exported layer would honour)', () => {
    const model = small();
    model.architecture[0].config.mask_zero = true;
    expect(thrown(TfjsExportError, () => toTfjsLayersModel(model)).message).toBe('layer embedding: mask_zero is not exported (the pooling layers here ignore masks)');
    model.architecture[0].config.mask_zero = false;
    expect(toTfjsLayersModel(model).modelJson.modelTopology.config.layers[0].config.mask_zero).toBe(false);
  });

  it('a kernel of the wrong rank', () => {
    const model = small();
    model.weights[1] = { ...model.weights[1], shape: [2] };
    expect(thrown(TfjsExportError, () => toTfjsLayersModel(model)).message).toBe('weight dense/kernel has shape [2], expected rank 2');
  });
});

describe('TF.js import: what Keras and TF.js write', () => {
  const dense = { class_name: 'Dense', config: { name: 'd', units: 1, use_bias: false } };
  const manifest = [{ paths: ['w'], weights: [{ name: 'd/kernel', shape: [2, 1], dtype: 'float32' }] }];
  const kernel = new Uint8Array(Float32Array.of(1.5, -3).buffer);

  it('an InputLayer at the front (as Keras 3 writes a Sequential) is dropped', () => {
    const input = { class_name: 'InputLayer', config: { batch_input_shape: [null, 2], dtype: 'float32', sparse: false, name: 'input_layer' } };
    const read = fromTfjsLayersModel({ modelTopology: { class_name: 'Sequential', config: { name: 's', layers: [input, dense] } }, weightsManifest: manifest }, kernel);
    expect(read.architecture.map((l) => l.className)).toEqual(['Dense']);
  });

  it("Keras' converter nesting under model_config is read; a null model_config is ignored", () => {
    const sequential = { class_name: 'Sequential', config: { layers: [dense] } };
    for (const modelTopology of [{ keras_version: '2.15.0', backend: 'tensorflow', model_config: sequential }, { ...sequential, model_config: null }]) {
      expect(fromTfjsLayersModel({ modelTopology, weightsManifest: manifest }, kernel).weights.map((w) => Array.from(w.values))).toEqual([[1.5, -3]]);
    }
  });

  it('configs keep exactly the keys they had (trainable true when absent) and drop what shadergrad does not take', () => {
    const layers = [
      { class_name: 'Embedding', config: { name: 'e', input_dim: 4, output_dim: 2, embeddings_initializer: { class_name: 'RandomUniform' }, trainable: false } },
      { class_name: 'GlobalMaxPooling1D', config: { name: 'p' } },
    ];
    const weights = [{ paths: ['w'], weights: [{ name: 'e/embeddings', shape: [4, 2], dtype: 'float32' }] }];
    const read = fromTfjsLayersModel({ modelTopology: { class_name: 'Sequential', config: { layers } }, weightsManifest: weights }, new Uint8Array(32));
    expect(read.architecture).toStrictEqual([
      { className: 'Embedding', config: { name: 'e', trainable: false, input_dim: 4, output_dim: 2 } },
      { className: 'GlobalMaxPooling1D', config: { name: 'p', trainable: true } },
    ]);
  });

  it('weights from a view into a larger buffer, and an entry without dtype, read as float32', () => {
    const big = new Uint8Array(16);
    big.set(kernel, 4);
    const noDtype = [{ paths: ['w'], weights: [{ name: 'd/kernel', shape: [2, 1] }] }];
    const read = fromTfjsLayersModel({ modelTopology: { class_name: 'Sequential', config: { layers: [dense] } }, weightsManifest: noDtype }, big.subarray(4, 12));
    expect(Array.from(read.weights[0].values)).toEqual([1.5, -3]);
  });
});

describe('TF.js import: refusals, one exact line each', () => {
  const dense = { class_name: 'Dense', config: { name: 'd', units: 1, use_bias: false } };
  const read = (layers: unknown, weights: object[] = [], bytes = new Uint8Array(0)) =>
    thrown(TfjsExportError, () => fromTfjsLayersModel({ modelTopology: { class_name: 'Sequential', config: { layers } }, weightsManifest: [{ paths: ['w'], weights }] }, bytes)).message;

  it('a functional model, or a Sequential without layers', () => {
    expect(thrown(TfjsExportError, () => fromTfjsLayersModel({ modelTopology: { class_name: 'Functional', config: {} } }, new Uint8Array(0))).message).toBe(
      'TF.js model: only Sequential models are read (class_name "Functional")',
    );
    expect(thrown(TfjsExportError, () => fromTfjsLayersModel({ modelTopology: { class_name: 'Sequential', config: {} } }, new Uint8Array(0))).message).toBe(
      'TF.js model: modelTopology.config.layers is missing',
    );
  });

  it.each([
    ['a config that is a string', 'x'],
    ['a null config', null],
  ])('a layer with %s', (_, config) => {
    expect(read([{ class_name: 'Dense', config }])).toBe('TF.js model: layer 0 must be {class_name, config}');
  });

  it('a layer shadergrad has not, listing those it has', () => {
    expect(read([{ class_name: 'LSTM', config: { name: 'l' } }])).toBe(`TF.js model: layer 0 (LSTM) is not a layer shadergrad has (${EXPORTED})`);
  });

  it('weight bytes that do not match the manifest, in bytes and float32s', () => {
    expect(read([dense], [{ name: 'd/kernel', shape: [2, 1], dtype: 'float32' }], new Uint8Array(4))).toBe(
      'TF.js model: the weights take 4 bytes, the manifest describes 2 float32s (8 bytes)',
    );
  });

  it('a weight that is not float32, or quantized', () => {
    expect(read([dense], [{ name: 'd/kernel', shape: [2, 1], dtype: 'int32' }], new Uint8Array(8))).toBe('TF.js model: weight d/kernel is int32; only float32 is read');
    const quantized = { name: 'd/kernel', shape: [2, 1], dtype: 'float32', quantization: { dtype: 'uint8', scale: 1, min: 0 } };
    expect(read([dense], [quantized], new Uint8Array(8))).toBe('TF.js model: weight d/kernel is quantized; only float32 is read');
  });
});
