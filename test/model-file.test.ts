import { describe, expect, it } from 'vitest';
import { TextVectorization } from '../src/data/text-vectorization';
import { decodeModel, describeVectorizer, encodeModel, ModelFileError, vectorizerFrom, type ModelDescription } from '../src/nn/model-file';
import { encodeWeights, type NamedWeights } from '../src/nn/weights-file';

const weights: NamedWeights[] = [
  { name: 'embedding/embeddings', shape: [6, 2], values: Float32Array.from({ length: 12 }, (_, i) => i / 7 - 0.5) },
  { name: 'dense/kernel', shape: [2, 1], values: Float32Array.from([0.25, -1.5]) },
  { name: 'dense/bias', shape: [1], values: Float32Array.from([0.125]) },
];
const architecture = [
  { className: 'Embedding', config: { name: 'embedding', input_dim: 6, output_dim: 2 } },
  { className: 'GlobalAveragePooling1D', config: { name: 'global_average_pooling1d' } },
  { className: 'Dense', config: { name: 'dense', units: 1, activation: 'sigmoid' } },
];

function textModel(): ModelDescription {
  const layer = new TextVectorization({ maxTokens: 6, outputSequenceLength: 5 });
  layer.adapt(['good good film', 'bad film', 'bad bad bad']);
  return { architecture, vectorizer: describeVectorizer(layer), weights };
}

function expectModelError(fn: () => unknown, message: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(ModelFileError);
  expect((thrown as Error).message).toMatch(message);
  expect((thrown as Error).message).not.toContain('\n');
}

describe('model file (.sgm)', () => {
  it('round-trips architecture, vectorizer and weights', () => {
    const model = textModel();
    const back = decodeModel(encodeModel(model));
    expect(back.architecture).toEqual(model.architecture);
    expect(back.vectorizer).toEqual(model.vectorizer);
    expect(back.weights.map((w) => [w.name, w.shape, Array.from(w.values)])).toEqual(weights.map((w) => [w.name, w.shape, Array.from(w.values)]));
    const texts = ['good film', 'awful film', ''];
    expect(vectorizerFrom(back.vectorizer!).call(texts)).toEqual(vectorizerFrom(model.vectorizer!).call(texts));
  });

  it('round-trips a model without a vectorizer', () => {
    const back = decodeModel(encodeModel({ architecture, weights }));
    expect(back.vectorizer).toBeUndefined();
    expect(back.architecture).toEqual(architecture);
  });

  it('refuses a flipped bit anywhere: magic, header, vocabulary, weights', () => {
    const bytes = encodeModel(textModel());
    const text = new TextDecoder().decode(bytes);
    const positions = [3, 10, 20, text.indexOf('"architecture"') + 3, text.indexOf('"good"') + 2, bytes.length - 5];
    for (const at of positions) {
      const damaged = bytes.slice();
      damaged[at] ^= 0x04;
      expect(() => decodeModel(damaged, 'model.sgm'), `byte ${at}`).toThrow(ModelFileError);
    }
    const damaged = bytes.slice();
    damaged[bytes.length - 5] ^= 0x04;
    expectModelError(() => decodeModel(damaged, 'model.sgm'), /^model\.sgm: CRC-32 .* does not match/);
  });

  it('refuses a truncated file', () => {
    const bytes = encodeModel(textModel());
    expectModelError(() => decodeModel(bytes.subarray(0, bytes.length - 8), 'model.sgm'), /^model\.sgm: /);
  });

  it('refuses another version, saying which', () => {
    const newer = encodeWeights(weights, { model: { format: 'shadergrad-model', version: 2, architecture } });
    expectModelError(() => decodeModel(newer, 'new.sgm'), /^new\.sgm: a version 2 model file; this shadergrad reads version 1 \(written by a newer shadergrad\)$/);
  });

  it('refuses a weights file that holds no model', () => {
    expectModelError(() => decodeModel(encodeWeights(weights), 'weights.sgw'), /^weights\.sgw: a weights file without a model description/);
  });

  it('refuses a malformed architecture or vectorizer (checksummed, but wrong)', () => {
    const noClass = encodeWeights(weights, { model: { format: 'shadergrad-model', version: 1, architecture: [{ config: {} }] } });
    expectModelError(() => decodeModel(noClass, 'm.sgm'), /architecture layer 0 must be \{className, config\}/);
    const { config } = describeVectorizer(new TextVectorization());
    const repeated = encodeWeights(weights, { model: { format: 'shadergrad-model', version: 1, architecture, vectorizer: { config, vocabulary: ['', '[UNK]', 'a', 'a'] } } });
    expectModelError(() => decodeModel(repeated, 'm.sgm'), /^m\.sgm: vectorizer: TextVectorization: the vocabulary repeats "a"$/);
    expectModelError(() => encodeModel({ architecture: [], weights }), /architecture must be a non-empty list/);
  });
});
