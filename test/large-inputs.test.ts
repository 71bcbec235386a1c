/**
 * The whole vocabulary (numWords unset: 88,587 words) and sequences padded to the longest
 * review (2,494 tokens) train correctly on both paths, which agree. On the full imdb.npz,
 * when $IMDB_NPZ points at it (CI sets it); a slice of the reviews keeps it short.
 */
import { describe, expect, it } from 'vitest';
import { loadData } from '../src/data/files.js';
import { padSequences } from '../src/data/sequences.js';
import { Dense, Embedding, GlobalAveragePooling1D } from '../src/nn/layers.js';
import { Sequential, type TokenMatrix } from '../src/nn/model.js';
import { expectClose, useGpu } from './gpu-helpers.js';
import { fullDataset } from './helpers.js';

const path = fullDataset('test/large-inputs.test.ts (the full vocabulary and the longest reviews)');
const REVIEWS = 640;

describe.skipIf(!path)('large inputs ($IMDB_NPZ)', () => {
  const gpu = useGpu();

  it('trains with the whole vocabulary and the longest review, fused and general alike', async () => {
    const [[xTrain, yTrain]] = await loadData({ path });
    const vocab = xTrain.values.reduce((a, b) => Math.max(a, b), 0) + 1;
    const longest = xTrain.maxLength();
    expect(vocab).toBe(88587);
    expect(longest).toBe(2494);
    // The longest review and its neighbours, then the first reviews: every length is in.
    const pick = Int32Array.from({ length: REVIEWS }, (_, i) => i);
    const at = Array.from({ length: xTrain.length }, (_, i) => i).find((i) => xTrain.lengthOf(i) === longest)!;
    pick[0] = at;
    const rows: Int32Array[] = Array.from(pick, (i) => xTrain.get(i));
    const padded = padSequences(rows, { maxlen: longest, padding: 'post' });
    const x: TokenMatrix = { data: padded.data, shape: [REVIEWS, longest] };
    const y = Uint8Array.from(pick, (i) => yTrain[i]);

    const histories: Record<string, number[]>[] = [];
    const weights: Float32Array[][] = [];
    for (const jitCompile of [true, false]) {
      const model = new Sequential([new Embedding(vocab, 16), new GlobalAveragePooling1D(), new Dense(16, { activation: 'relu' }), new Dense(1, { activation: 'sigmoid' })]);
      model.build(gpu(), [longest], { seed: 1 });
      model.compile({ jitCompile });
      const history = await model.fit(x, y, { epochs: 2, batchSize: 128, verbose: 0, seed: 2 });
      expect(model.fusedReason).toBe(jitCompile ? null : 'compiled with jitCompile: false');
      histories.push(history.history);
      weights.push(await model.getWeights());
      model.dispose();
    }
    expect(histories[0].loss.every(Number.isFinite)).toBe(true);
    expectClose(histories[0].loss, histories[1].loss, { atol: 1e-6, rtol: 1e-5 });
    weights[0].forEach((w, i) => expectClose(w, weights[1][i], { atol: 2e-5, rtol: 1e-3 }));
  });
});
