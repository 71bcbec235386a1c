/**
 * The exported files loaded by TensorFlow.js itself (`tf.loadLayersModel`, pure-JS CPU
 * backend, through an IOHandler that reads the bytes as the HTTP loader would), predicting
 * within 1e-5 of a plain TypeScript forward pass on the same ids and weights.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { RandomState } from '../src/data/random-state';
import { TextVectorization } from '../src/data/text-vectorization';
import { describeVectorizer, type LayerSpec, type ModelDescription } from '../src/nn/model-file';
import { TFJS_WEIGHTS_FILE, TfjsExportError, fromTfjsLayersModel, tfjsFiles, toTfjsLayersModel } from '../src/nn/tfjs-export';
import type { NamedWeights } from '../src/nn/weights-file';
import { Conv1D, Dense, Dropout, Embedding, GlobalAveragePooling1D, GlobalMaxPooling1D } from '../src/nn/layers';
import { Sequential } from '../src/nn/model';
import { expectClose, randomIds, useGpu } from './gpu-helpers';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Loads exported files the way tf.loadLayersModel loads model.json and its shards over HTTP. */
async function loadExported(files: Record<string, Uint8Array>): Promise<tf.LayersModel> {
  const json = JSON.parse(new TextDecoder().decode(files['model.json']));
  const handler: tf.io.IOHandler = {
    load: async () => ({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((group: { weights: tf.io.WeightsManifestEntry[] }) => group.weights),
      weightData: json.weightsManifest[0].paths.map((p: string) => files[p].slice().buffer)[0],
      format: json.format,
      generatedBy: json.generatedBy,
      convertedBy: json.convertedBy,
    }),
  };
  return tf.loadLayersModel(handler);
}

const rng = new RandomState(7);
const uniform = (n: number, scale: number) => Float32Array.from({ length: n }, () => (rng.randomSample() * 2 - 1) * scale);

// The plain TypeScript forward pass (float64), Keras' semantics: inference, so Dropout is the identity.
type Rows = number[][]; // [steps][channels] for one example
function forward(architecture: LayerSpec[], weights: NamedWeights[], ids: Int32Array, steps: number): number[][] {
  const w = new Map(weights.map((x) => [x.name, x]));
  const out: number[][] = [];
  for (let r = 0; r < ids.length / steps; r++) {
    let seq: Rows = [];
    let vec: number[] = [];
    for (const { className, config } of architecture) {
      const name = config.name as string;
      const act = (x: number) => ({ relu: Math.max(0, x), sigmoid: 1 / (1 + Math.exp(-x)), linear: x })[(config.activation as string) ?? 'linear']!;
      if (className === 'Embedding') {
        const table = w.get(`${name}/embeddings`)!;
        const dim = table.shape[1];
        seq = Array.from(ids.subarray(r * steps, (r + 1) * steps), (id) => Array.from(table.values.subarray(id * dim, (id + 1) * dim)));
      } else if (className === 'Conv1D') {
        const kernel = w.get(`${name}/kernel`)!;
        const bias = w.get(`${name}/bias`)!;
        const [k, cin, cout] = kernel.shape;
        seq = Array.from({ length: seq.length - k + 1 }, (_, t) =>
          Array.from({ length: cout }, (_, o) => {
            let s = bias.values[o];
            for (let j = 0; j < k; j++) for (let c = 0; c < cin; c++) s += seq[t + j][c] * kernel.values[(j * cin + c) * cout + o];
            return act(s);
          }),
        );
      } else if (className === 'GlobalAveragePooling1D') {
        vec = seq[0].map((_, c) => seq.reduce((s, row) => s + row[c], 0) / seq.length);
      } else if (className === 'GlobalMaxPooling1D') {
        vec = seq[0].map((_, c) => Math.max(...seq.map((row) => row[c])));
      } else if (className === 'Dense') {
        const kernel = w.get(`${name}/kernel`)!;
        const bias = w.get(`${name}/bias`)!;
        const [nin, nout] = kernel.shape;
        vec = Array.from({ length: nout }, (_, o) => {
          let s = bias.values[o];
          for (let i = 0; i < nin; i++) s += vec[i] * kernel.values[i * nout + o];
          return act(s);
        });
      } // Dropout: identity at inference
    }
    out.push(vec);
  }
  return out;
}

function tutorialModel(): ModelDescription {
  const vectorizer = new TextVectorization({ maxTokens: 30, outputSequenceLength: 12 });
  vectorizer.adapt(['a wonderful moving film', 'a boring waste of time', 'the film was fine, the acting wonderful', 'time well spent']);
  const vocab = vectorizer.vocabularySize();
  return {
    architecture: [
      { className: 'Embedding', config: { name: 'embedding', input_dim: vocab, output_dim: 16, mask_zero: false, trainable: true, dtype: 'float32' } },
      { className: 'Dropout', config: { name: 'dropout', rate: 0.2, seed: null, noise_shape: null } },
      { className: 'GlobalAveragePooling1D', config: { name: 'global_average_pooling1d', data_format: 'channels_last', keepdims: false } },
      { className: 'Dropout', config: { name: 'dropout_1', rate: 0.2 } },
      { className: 'Dense', config: { name: 'dense', units: 1, activation: 'sigmoid', use_bias: true } },
    ],
    vectorizer: describeVectorizer(vectorizer),
    weights: [
      { name: 'embedding/embeddings', shape: [vocab, 16], values: uniform(vocab * 16, 0.5) },
      { name: 'dense/kernel', shape: [16, 1], values: uniform(16, 1) },
      { name: 'dense/bias', shape: [1], values: uniform(1, 0.1) },
    ],
  };
}

function convModel(): ModelDescription {
  return {
    architecture: [
      { className: 'Embedding', config: { name: 'embedding', input_dim: 50, output_dim: 8 } },
      { className: 'Conv1D', config: { name: 'conv1d', filters: 6, kernel_size: [3], strides: [1], padding: 'valid', data_format: 'channels_last', dilation_rate: [1], groups: 1, activation: 'relu', use_bias: true } },
      { className: 'GlobalMaxPooling1D', config: { name: 'global_max_pooling1d', data_format: 'channels_last', keepdims: false } },
      { className: 'Dense', config: { name: 'dense', units: 4, activation: 'relu', use_bias: true } },
      { className: 'Dense', config: { name: 'dense_1', units: 1, activation: 'sigmoid', use_bias: true } },
    ],
    weights: [
      { name: 'embedding/embeddings', shape: [50, 8], values: uniform(400, 0.5) },
      { name: 'conv1d/kernel', shape: [3, 8, 6], values: uniform(144, 0.5) },
      { name: 'conv1d/bias', shape: [6], values: uniform(6, 0.1) },
      { name: 'dense/kernel', shape: [6, 4], values: uniform(24, 0.8) },
      { name: 'dense/bias', shape: [4], values: uniform(4, 0.1) },
      { name: 'dense_1/kernel', shape: [4, 1], values: uniform(4, 1) },
      { name: 'dense_1/bias', shape: [1], values: uniform(1, 0.1) },
    ],
  };
}

async function tfjsPredict(files: Record<string, Uint8Array>, ids: Int32Array, steps: number): Promise<Float32Array> {
  const model = await loadExported(files);
  const x = tf.tensor2d(Float32Array.from(ids), [ids.length / steps, steps]);
  const y = model.predict(x) as tf.Tensor;
  const values = (await y.data()) as Float32Array;
  tf.dispose([x, y]);
  model.dispose();
  return values;
}

describe('TF.js Layers export', () => {
  it('the newer tutorial’s model (Embedding, Dropout, GlobalAveragePooling1D, Dropout, Dense) predicts as the reference', async () => {
    const model = tutorialModel();
    const files = tfjsFiles(model);
    expect(Object.keys(files).sort()).toEqual([TFJS_WEIGHTS_FILE, 'model.json', 'vectorizer.json']);
    const ids = (await import('../src/nn/model-file')).vectorizerFrom(model.vectorizer!).call(['a wonderful, moving film', 'a boring waste of time', 'unknown words only', '']);
    const got = await tfjsPredict(files, ids.data, 12);
    const want = forward(model.architecture, model.weights, ids.data, 12).map((r) => r[0]);
    expect(got.length).toBe(4);
    got.forEach((p, i) => expect(Math.abs(p - want[i]), `row ${i}`).toBeLessThan(1e-5));
    // The probabilities differ between rows: the test would notice weights loaded in the wrong place.
    expect(new Set(Array.from(got, (p) => p.toFixed(4))).size).toBe(4);
  });

  it('a Conv1D model (Embedding, Conv1D relu, GlobalMaxPooling1D, Dense, Dense) predicts as the reference', async () => {
    const model = convModel();
    const ids = Int32Array.from({ length: 5 * 10 }, (_, i) => (i * 37 + 11) % 50);
    const got = await tfjsPredict(tfjsFiles(model, { sequenceLength: 10 }), ids, 10);
    const want = forward(model.architecture, model.weights, ids, 10).map((r) => r[0]);
    got.forEach((p, i) => expect(Math.abs(p - want[i]), `row ${i}`).toBeLessThan(1e-5));
  });

  it('writes Keras class names, snake_case configs and the weights manifest TF.js reads', () => {
    const { modelJson, weightData } = toTfjsLayersModel(convModel(), { sequenceLength: 10 });
    const layers = modelJson.modelTopology.config.layers;
    expect(layers.map((l) => l.class_name)).toEqual(['Embedding', 'Conv1D', 'GlobalMaxPooling1D', 'Dense', 'Dense']);
    expect(layers[0].config).toEqual({ name: 'embedding', trainable: true, dtype: 'float32', input_dim: 50, output_dim: 8, batch_input_shape: [null, 10] });
    expect(layers[1].config).not.toHaveProperty('groups');
    expect(modelJson.weightsManifest[0].weights.map((w) => w.name)).toEqual(['embedding/embeddings', 'conv1d/kernel', 'conv1d/bias', 'dense/kernel', 'dense/bias', 'dense_1/kernel', 'dense_1/bias']);
    expect(weightData.byteLength).toBe(4 * (400 + 144 + 6 + 24 + 4 + 4 + 1));
  });

  it('refuses what it cannot export, with one line', () => {
    const model = convModel();
    const bad = (architecture: LayerSpec[], weights = model.weights) => () => toTfjsLayersModel({ architecture, weights });
    expect(bad([{ className: 'LSTM', config: { name: 'lstm' } }])).toThrow(TfjsExportError);
    expect(bad([{ className: 'LSTM', config: { name: 'lstm' } }])).toThrow(/layer 0 \(LSTM\) has no TF\.js counterpart here/);
    expect(bad(model.architecture, model.weights.filter((w) => w.name !== 'conv1d/bias'))).toThrow(/layer conv1d \(Conv1D\) needs the weight conv1d\/bias/);
    expect(bad([{ className: 'Dense', config: { name: 'dense', units: 1, activation: 'mish' } }], [])).toThrow(/activation "mish" is not one TF\.js knows/);
    expect(bad(model.architecture.slice(0, 3), model.weights)).toThrow(/weight dense\/kernel belongs to no layer/);
  });
});

describe('TF.js Layers import', () => {
  it('a model built and saved by TF.js loads as a description that predicts as TF.js, and exports back unchanged', async () => {
    const made = tf.sequential({
      layers: [
        tf.layers.embedding({ inputDim: 20, outputDim: 5, inputLength: 7 }),
        tf.layers.dropout({ rate: 0.3 }),
        tf.layers.globalAveragePooling1d({}),
        tf.layers.dense({ units: 3, activation: 'relu' }),
        tf.layers.dense({ units: 1, activation: 'sigmoid' }),
      ],
    });
    // Saved through TF.js' own serializer, as `model.save('downloads://...')` would write it.
    let artifacts: tf.io.ModelArtifacts | undefined;
    await made.save(tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    const modelJson = { modelTopology: artifacts!.modelTopology, weightsManifest: [{ paths: ['w.bin'], weights: artifacts!.weightSpecs! }] };
    const description = fromTfjsLayersModel(modelJson, artifacts!.weightData as ArrayBuffer);
    expect(description.architecture.map((l) => l.className)).toEqual(['Embedding', 'Dropout', 'GlobalAveragePooling1D', 'Dense', 'Dense']);

    const ids = Int32Array.from({ length: 3 * 7 }, (_, i) => (i * 13 + 5) % 20);
    const x = tf.tensor2d(Float32Array.from(ids), [3, 7]);
    const expected = (await (made.predict(x) as tf.Tensor).data()) as Float32Array;
    const reference = forward(description.architecture, description.weights, ids, 7).map((r) => r[0]);
    reference.forEach((p, i) => expect(Math.abs(p - expected[i]), `row ${i}`).toBeLessThan(1e-5));
    const again = await tfjsPredict(tfjsFiles(description, { sequenceLength: 7 }), ids, 7);
    again.forEach((p, i) => expect(Math.abs(p - expected[i]), `row ${i}`).toBeLessThan(1e-6));
    tf.dispose(x);
  });

  it('refuses what shadergrad has no layer for, or weights that do not fit the manifest', () => {
    const topology = { class_name: 'Sequential', config: { layers: [{ class_name: 'LSTM', config: { name: 'lstm' } }] } };
    expect(() => fromTfjsLayersModel({ modelTopology: topology }, new Uint8Array())).toThrow(/layer 0 \(LSTM\) is not a layer shadergrad has/);
    const dense = { class_name: 'Sequential', config: { layers: [{ class_name: 'Dense', config: { name: 'd', units: 1, batch_input_shape: [null, 2] } }] } };
    const manifest = [{ paths: ['w'], weights: [{ name: 'd/kernel', shape: [2, 1], dtype: 'float32' }, { name: 'd/bias', shape: [1], dtype: 'float32' }] }];
    expect(() => fromTfjsLayersModel({ modelTopology: dense, weightsManifest: manifest }, new Uint8Array(8))).toThrow(/the weights take 8 bytes, the manifest describes 3 float32s/);
    expect(fromTfjsLayersModel({ modelTopology: dense, weightsManifest: manifest }, new Uint8Array(12)).weights.map((w) => w.name)).toEqual(['d/kernel', 'd/bias']);
  });
});

describe('TF.js agrees with shadergrad’s own predict on the GPU', () => {
  const gpu = useGpu();

  for (const [what, makeLayers, steps] of [
    ['the newer tutorial’s model', () => [new Embedding(40, 16), new Dropout(0.2), new GlobalAveragePooling1D(), new Dropout(0.2), new Dense(1, { activation: 'sigmoid' })], 12],
    ['a Conv1D model', () => [new Embedding(40, 8), new Conv1D(6, 3, { activation: 'relu' }), new GlobalMaxPooling1D(), new Dense(4, { activation: 'relu' }), new Dense(1, { activation: 'sigmoid' })], 10],
  ] as const) {
    it(what, async () => {
      const model = new Sequential(makeLayers());
      model.build(gpu(), [steps], { seed: 3 });
      const values = await model.getWeights();
      const description: ModelDescription = {
        architecture: model.layers.map((layer) => ({ className: layer.className, config: layer.getConfig() })),
        weights: model.weights.map((w, i) => ({ name: w.name, shape: [...w.tensor.shape], values: values[i] })),
      };
      const ids = randomIds(6 * steps, 5, 40);
      const ours = await model.predict({ data: ids, shape: [6, steps] });
      const theirs = await tfjsPredict(tfjsFiles(description, { sequenceLength: steps }), ids, steps);
      expectClose(theirs, ours, { atol: 1e-5, rtol: 0 });
      model.dispose();
    });
  }
});
