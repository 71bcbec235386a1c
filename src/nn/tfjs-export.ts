/**
 * A model description (model-file.ts) as a TensorFlow.js Layers model: `model.json`
 * (format "layers-model": a Keras Sequential topology with snake_case layer configs, and a
 * weights manifest) and one weight shard, `group1-shard1of1.bin` (float32 little-endian, in
 * manifest order), plus `vectorizer.json` (the TextVectorization config and vocabulary) when
 * the model was trained from text. `tf.loadLayersModel` reads the first two; TF.js has no
 * TextVectorization, so a page tokenizes with shadergrad's and feeds the ids.
 *
 * TF.js matches weights to layers by name (`dense/kernel`, `embedding/embeddings`, ...) and
 * uses Keras' layouts (Dense kernel [in, out], Conv1D kernel [width, in, out]), which are
 * shadergrad's too. Pure functions: the caller writes the files.
 */
import type { LayerSpec, ModelDescription } from './model-file.js';

export const TFJS_WEIGHTS_FILE = 'group1-shard1of1.bin';

/** A model description that cannot be written as a TF.js Layers model. */
export class TfjsExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TfjsExportError';
  }
}

type Config = Record<string, unknown>;

/** The layer classes TF.js knows under Keras' names, each with the config keys it takes (TF.js fills in the rest). */
const EXPORTED_KEYS = {
  Embedding: ['input_dim', 'output_dim', 'mask_zero'],
  Dropout: ['rate', 'noise_shape', 'seed'],
  GlobalAveragePooling1D: ['data_format'],
  GlobalMaxPooling1D: ['data_format'],
  Conv1D: ['filters', 'kernel_size', 'strides', 'padding', 'data_format', 'dilation_rate', 'activation', 'use_bias'],
  Dense: ['units', 'activation', 'use_bias'],
} as const satisfies Record<string, readonly string[]>;
type ExportedClass = keyof typeof EXPORTED_KEYS;

/** Activations TF.js names as Keras does. */
const ACTIVATIONS = new Set(['linear', 'relu', 'sigmoid', 'tanh', 'softmax', 'elu', 'selu', 'softplus', 'softsign', 'swish', 'gelu']);

export interface TfjsModelJson {
  format: 'layers-model';
  generatedBy: string;
  convertedBy: null;
  modelTopology: {
    class_name: 'Sequential';
    config: { name: string; layers: { class_name: ExportedClass; config: Config }[] };
    keras_version: string;
    backend: string;
  };
  weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: 'float32' }[] }[];
}

export interface TfjsExportOptions {
  /** Ids per input row; default the vectorizer's `output_sequence_length`, else any length. */
  sequenceLength?: number | null;
  /** The Sequential's name. Default 'sequential'. */
  name?: string;
}

/** The files of a TF.js Layers model, by name: `model.json`, the weight shard, and `vectorizer.json` for a text model. */
export function tfjsFiles(model: ModelDescription, options: TfjsExportOptions = {}): Record<string, Uint8Array> {
  const { modelJson, weightData } = toTfjsLayersModel(model, options);
  const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value, null, 1) + '\n');
  const files: Record<string, Uint8Array> = { 'model.json': encode(modelJson), [TFJS_WEIGHTS_FILE]: weightData };
  if (model.vectorizer) files['vectorizer.json'] = encode(model.vectorizer);
  return files;
}

/** `model.json`'s content and the weight shard's bytes. */
export function toTfjsLayersModel(model: ModelDescription, options: TfjsExportOptions = {}): { modelJson: TfjsModelJson; weightData: Uint8Array } {
  const sequenceLength = options.sequenceLength ?? (model.vectorizer?.config.output_sequence_length as number | null | undefined) ?? null;
  const layers = model.architecture.map((layer, i) => layerConfig(layer, i, i === 0 ? [null, sequenceLength] : undefined));
  const byName = new Map(model.weights.map((w) => [w.name, w]));
  const layerNames = new Set(layers.map((l) => l.config.name as string));
  for (const w of model.weights) {
    if (!layerNames.has(w.name.split('/')[0])) throw new TfjsExportError(`weight ${w.name} belongs to no layer of the architecture`);
  }
  // Manifest order: layer by layer, each layer's weights in the order they were given.
  const ordered = layers.flatMap((l) => model.weights.filter((w) => w.name.split('/')[0] === l.config.name));
  for (const l of layers) checkWeights(l, byName);
  const floats = ordered.reduce((n, w) => n + w.values.length, 0);
  const data = new Float32Array(floats);
  let at = 0;
  for (const w of ordered) {
    data.set(w.values, at);
    at += w.values.length;
  }
  const modelJson: TfjsModelJson = {
    format: 'layers-model',
    generatedBy: 'shadergrad',
    convertedBy: null,
    modelTopology: {
      class_name: 'Sequential',
      config: { name: options.name ?? 'sequential', layers },
      keras_version: 'tfjs-layers 4.22.0',
      backend: 'tensor_flow.js',
    },
    weightsManifest: [{ paths: [TFJS_WEIGHTS_FILE], weights: ordered.map((w) => ({ name: w.name, shape: [...w.shape], dtype: 'float32' as const })) }],
  };
  return { modelJson, weightData: new Uint8Array(data.buffer) };
}

function layerConfig(layer: LayerSpec, index: number, batchInputShape: (number | null)[] | undefined): { class_name: ExportedClass; config: Config } {
  const { className, config } = layer;
  if (!(className in EXPORTED_KEYS)) {
    throw new TfjsExportError(`layer ${index} (${className}) has no TF.js counterpart here; exported: ${Object.keys(EXPORTED_KEYS).join(', ')}`);
  }
  const name = config.name;
  if (typeof name !== 'string' || name === '') throw new TfjsExportError(`layer ${index} (${className}) has no name in its config`);
  const out: Config = { name, trainable: config.trainable ?? true, dtype: 'float32' };
  for (const key of EXPORTED_KEYS[className as ExportedClass]) if (config[key] !== undefined) out[key] = config[key];
  if (out.activation !== undefined && !ACTIVATIONS.has(out.activation as string)) {
    throw new TfjsExportError(`layer ${name}: activation ${JSON.stringify(out.activation)} is not one TF.js knows`);
  }
  if (className === 'Embedding' && out.mask_zero) throw new TfjsExportError(`layer ${name}: mask_zero is not exported (the pooling layers here ignore masks)`);
  if (batchInputShape) out.batch_input_shape = batchInputShape;
  return { class_name: className as ExportedClass, config: out };
}

/** The weights each exported layer needs, by Keras' names and shapes. */
function checkWeights(layer: { class_name: ExportedClass; config: Config }, byName: Map<string, { shape: number[] }>): void {
  const { name } = layer.config;
  const need = (weight: string, rank: number) => {
    const w = byName.get(`${name}/${weight}`);
    if (!w) throw new TfjsExportError(`layer ${name} (${layer.class_name}) needs the weight ${name}/${weight}`);
    if (w.shape.length !== rank) throw new TfjsExportError(`weight ${name}/${weight} has shape [${w.shape}], expected rank ${rank}`);
  };
  switch (layer.class_name) {
    case 'Embedding':
      return need('embeddings', 2);
    case 'Dense':
    case 'Conv1D':
      need('kernel', layer.class_name === 'Dense' ? 2 : 3);
      if (layer.config.use_bias !== false) need('bias', 1);
      return;
    default:
      return;
  }
}

/**
 * The other way: a TF.js Layers model (`model.json`'s content and its weight shards joined
 * in manifest order) of a supported architecture as a model description, for shadergrad to
 * load. An InputLayer at the front is dropped (its shape is the first layer's input);
 * float32 weights only.
 */
export function fromTfjsLayersModel(modelJson: unknown, weightData: ArrayBuffer | Uint8Array): ModelDescription {
  const fail = (problem: string) => new TfjsExportError(`TF.js model: ${problem}`);
  const json = modelJson as Partial<TfjsModelJson> & { modelTopology?: { model_config?: unknown } };
  let topology = json?.modelTopology as Record<string, unknown> | undefined;
  // Keras' converter nests the model under model_config.
  if (topology && typeof topology.model_config === 'object' && topology.model_config !== null) topology = topology.model_config as Record<string, unknown>;
  if (!topology || topology.class_name !== 'Sequential') throw fail(`only Sequential models are read (class_name ${JSON.stringify(topology?.class_name)})`);
  const config = topology.config as { layers?: unknown } | unknown[] | undefined;
  const list = Array.isArray(config) ? config : config?.layers;
  if (!Array.isArray(list)) throw fail('modelTopology.config.layers is missing');
  const architecture: LayerSpec[] = [];
  list.forEach((entry, i) => {
    const { class_name: className, config: layerConfig } = (entry ?? {}) as { class_name?: unknown; config?: unknown };
    if (className === 'InputLayer') return;
    if (typeof className !== 'string' || typeof layerConfig !== 'object' || layerConfig === null) throw fail(`layer ${i} must be {class_name, config}`);
    const exported = layerConfig as Config;
    if (!(className in EXPORTED_KEYS)) throw fail(`layer ${i} (${className}) is not a layer shadergrad has (${Object.keys(EXPORTED_KEYS).join(', ')})`);
    const out: Config = { name: exported.name, trainable: exported.trainable ?? true };
    for (const key of EXPORTED_KEYS[className as ExportedClass]) if (exported[key] !== undefined) out[key] = exported[key];
    architecture.push({ className, config: out });
  });
  const specs = (json.weightsManifest ?? []).flatMap((group) => group.weights) as { name: string; shape: number[]; dtype?: string; quantization?: unknown }[];
  const bytes = weightData instanceof Uint8Array ? weightData : new Uint8Array(weightData);
  const total = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
  if (bytes.byteLength !== total * 4) throw fail(`the weights take ${bytes.byteLength} bytes, the manifest describes ${total} float32s (${total * 4} bytes)`);
  const floats = new Float32Array(bytes.slice().buffer);
  let at = 0;
  const weights = specs.map((spec) => {
    if ((spec.dtype ?? 'float32') !== 'float32' || spec.quantization) throw fail(`weight ${spec.name} is ${spec.quantization ? 'quantized' : spec.dtype}; only float32 is read`);
    const length = spec.shape.reduce((a, b) => a * b, 1);
    const values = floats.slice(at, at + length);
    at += length;
    return { name: spec.name, shape: [...spec.shape], values };
  });
  const description: ModelDescription = { architecture, weights };
  // The same checks as an export: every layer's weights present, every weight a layer's.
  toTfjsLayersModel(description);
  return description;
}
