/**
 * What src/nn/execution.ts promises beyond the numbers the training tests check (found by
 * StrykerJS): evaluate and predict run with Dropout off on every executor; the captured steps
 * submit every 64 steps (a long epoch's command buffer stays bounded), no more and no less; and fit,
 * evaluate and predict free every buffer they made.
 */
import { describe, expect, it } from 'vitest';
import type { Gpu } from '../src/gpu/gpu.js';
import { Dense, Dropout, Embedding, GlobalAveragePooling1D, type Layer } from '../src/nn/layers.js';
import { Sequential, type TokenMatrix } from '../src/nn/model.js';
import { syntheticReviews, useGpu } from './gpu-helpers.js';

const [VOCAB, STEPS] = [30, 6];

function model(gpu: Gpu, layers: Layer[], fuse: boolean | 'auto', jitCompile: boolean | 'auto' = 'auto'): Sequential {
  const m = new Sequential(layers);
  m.build(gpu, [STEPS], { seed: 3 });
  m.compile({ optimizer: 'adam', fuse, jitCompile });
  return m;
}

const withDropout = () => [new Embedding(VOCAB, 8), new Dropout(0.5), new GlobalAveragePooling1D(), new Dense(1, { activation: 'sigmoid' })];
const withoutDropout = () => [new Embedding(VOCAB, 8), new GlobalAveragePooling1D(), new Dense(1, { activation: 'sigmoid' })];

/** `rows` reviews of STEPS ids below VOCAB. */
const reviews = (rows: number, seed: number): { x: TokenMatrix; y: Uint8Array } =>
  syntheticReviews(rows, seed, { vocab: VOCAB, steps: STEPS, minLength: 2, highFrom: VOCAB / 2, skewed: false });

describe('executors: what the training tests do not read', () => {
  const gpu = useGpu();

  for (const [kind, fuse, jit] of [['eager', false, false], ['captured', false, 'auto']] as const) {
    it(`evaluate and predict run with Dropout off (${kind} steps)`, async () => {
      const data = reviews(16, 4); // two whole batches of 8: no step past the last row
      const [a, b] = [model(gpu(), withDropout(), fuse, jit), model(gpu(), withoutDropout(), fuse, jit)];
      await b.setWeights(await a.getWeights());
      expect(await a.predict(data.x, { batchSize: 8 })).toEqual(await b.predict(data.x, { batchSize: 8 }));
      expect(await a.evaluate(data.x, data.y, { batchSize: 8, verbose: 0 })).toEqual(await b.evaluate(data.x, data.y, { batchSize: 8, verbose: 0 }));
      expect(a.execution).toBe(kind);
      a.dispose();
      b.dispose();
    });
  }

  // (fit's steps submit each: every step writes its gradient index from the host first, which submits what came before it.)
  it('the captured steps of evaluate and predict submit once every 64 steps', async () => {
    const m = model(gpu(), withoutDropout(), false);
    const [one, many] = [reviews(1, 6), reviews(130, 7)];
    const submits = async (run: () => Promise<unknown>) => {
      const before = gpu().stats.submits;
      await run();
      return gpu().stats.submits - before;
    };
    const options = { batchSize: 1, verbose: 0 as const };
    // 130 steps of one row: submits after steps 64 and 128, on top of what one step costs.
    expect((await submits(() => m.predict(many.x, options))) - (await submits(() => m.predict(one.x, options)))).toBe(2);
    expect((await submits(() => m.evaluate(many.x, many.y, options))) - (await submits(() => m.evaluate(one.x, one.y, options)))).toBe(2);
    expect(m.execution).toBe('captured');
    m.dispose();
  });

  for (const fuse of [false, 'auto'] as const) {
    it(`fit, evaluate and predict free every buffer they made (${fuse === false ? 'captured' : 'fused'} steps)`, async () => {
      const m = model(gpu(), withoutDropout(), fuse);
      const data = reviews(40, 8);
      const before = gpu().stats.bytesInUse;
      await m.fit(data.x, data.y, { batchSize: 16, epochs: 2, verbose: 0, validationData: [data.x, data.y] });
      await m.evaluate(data.x, data.y, { batchSize: 16, verbose: 0 });
      await m.predict(data.x, { batchSize: 16 });
      expect(gpu().stats.bytesInUse).toBe(before);
      m.dispose();
    });
  }
});
