/**
 * shadergrad's model file (`.sgm`): everything needed to use a trained model, in one file:
 * the architecture (each layer's Keras class name and Keras `get_config()`), the text
 * vectorizer's config and vocabulary when the model was trained from text, and the weights.
 *
 * It is a weights file (weights-file.ts: magic "SGWTS002", one CRC-32 over the whole file,
 * header included, float32 data) whose header `meta` holds
 *
 *   {"model": {"format": "shadergrad-model", "version": 1,
 *              "architecture": [{"className": "Embedding", "config": {...}}, ...],
 *              "vectorizer": {"config": {...}, "vocabulary": ["", "[UNK]", ...]}}}
 *
 * so a damaged byte anywhere is refused before any of it is believed. Pure functions over
 * bytes: Node and browsers alike.
 */
import { quoteValue } from '../data/errors.js';
import { TextVectorization, type TextVectorizationConfig } from '../data/text-vectorization.js';
import { decodeWeightsFile, encodeWeights, WeightsFileError, type NamedWeights } from './weights-file.js';

export const MODEL_FORMAT = 'shadergrad-model';
export const MODEL_FILE_VERSION = 1;

/** One layer as Keras serializes it inside a Sequential: class name and snake_case config. */
export interface LayerSpec {
  className: string;
  config: Record<string, unknown>;
}

export interface VectorizerSpec {
  config: TextVectorizationConfig;
  /** With '' and '[UNK]' first, as `getVocabulary()` gives it. */
  vocabulary: string[];
}

export interface ModelDescription {
  architecture: LayerSpec[];
  vectorizer?: VectorizerSpec;
  weights: NamedWeights[];
}

/** A model file that is damaged, of another version, or not a model file. */
export class ModelFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFileError';
  }
}

/** The vectorizer part of a model description, from a layer. */
export function describeVectorizer(layer: TextVectorization): VectorizerSpec {
  return { config: layer.getConfig(), vocabulary: layer.getVocabulary() };
}

/** The layer a vectorizer part describes, with its vocabulary set. */
export function vectorizerFrom(spec: VectorizerSpec): TextVectorization {
  const layer = TextVectorization.fromConfig({ ...spec.config, vocabulary: null });
  layer.setVocabulary(spec.vocabulary);
  return layer;
}

export function encodeModel(model: ModelDescription): Uint8Array {
  checkArchitecture(model.architecture, (problem) => new ModelFileError(`encodeModel: ${problem}`));
  const header: Record<string, unknown> = { format: MODEL_FORMAT, version: MODEL_FILE_VERSION, architecture: model.architecture };
  if (model.vectorizer) header.vectorizer = { config: model.vectorizer.config, vocabulary: model.vectorizer.vocabulary };
  return encodeWeights(model.weights, { model: header });
}

/** Parses a model file; `file` names it in errors. */
export function decodeModel(bytes: Uint8Array, file = 'model'): ModelDescription {
  const fail = (problem: string) => new ModelFileError(`${file}: ${problem}`);
  let decoded: ReturnType<typeof decodeWeightsFile>;
  try {
    decoded = decodeWeightsFile(bytes, file);
  } catch (error) {
    if (error instanceof WeightsFileError) throw new ModelFileError(error.message);
    throw error;
  }
  const model = decoded.meta?.model;
  if (!isRecord(model)) throw fail('a weights file without a model description (no architecture): train again to write a model.sgm, or load it with loadWeights');
  if (model.format !== MODEL_FORMAT) throw fail(`not a model file (format ${quoteValue(model.format)}, expected "${MODEL_FORMAT}")`);
  if (model.version !== MODEL_FILE_VERSION) {
    throw fail(`a version ${quoteValue(model.version)} model file; this shadergrad reads version ${MODEL_FILE_VERSION}${typeof model.version === 'number' && model.version > MODEL_FILE_VERSION ? ' (written by a newer shadergrad)' : ''}`);
  }
  const architecture = checkArchitecture(model.architecture, fail);
  const description: ModelDescription = { architecture, weights: decoded.weights };
  if (model.vectorizer !== undefined) {
    const v = model.vectorizer;
    if (!isRecord(v) || !isRecord(v.config) || !Array.isArray(v.vocabulary)) throw fail('vectorizer must hold a config object and a vocabulary list');
    const spec = { config: v.config as unknown as TextVectorizationConfig, vocabulary: v.vocabulary as string[] };
    try {
      vectorizerFrom(spec); // the same checks as building it: a usable config and vocabulary
    } catch (error) {
      throw fail(`vectorizer: ${(error as Error).message}`);
    }
    description.vectorizer = spec;
  }
  return description;
}

function checkArchitecture(value: unknown, fail: (problem: string) => Error): LayerSpec[] {
  if (!Array.isArray(value) || value.length === 0) throw fail('architecture must be a non-empty list of layers');
  return value.map((layer, i) => {
    if (!isRecord(layer) || typeof layer.className !== 'string' || layer.className === '' || !isRecord(layer.config)) {
      throw fail(`architecture layer ${i} must be {className, config}`);
    }
    return { className: layer.className, config: layer.config };
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
