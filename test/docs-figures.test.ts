/**
 * Every benchmark figure quoted between `<!-- figures:NAME -->` markers in README.md and
 * bench/README.md is what scripts/docs-figures.mjs renders from bench/results/*.json
 * (`npm run docs:figures` re-renders them after a benchmark run).
 */
import { describe, expect, it } from 'vitest';
import { DOCUMENTS, loadResults, RENDERERS, renderDocuments, renderText } from '../scripts/docs-figures.mjs';

describe('figures in the READMEs match bench/results', () => {
  const { docs, used } = renderDocuments();

  for (const path of DOCUMENTS) {
    it(`${path}: every marked figure is its JSON's`, () => {
      const { text, rendered } = docs.find((d) => d.path === path)!;
      const [before, after] = [text.split('\n'), rendered.split('\n')];
      const line = before.findIndex((l, i) => l !== after[i]);
      expect(line, `${path}:${line + 1} quotes\n  ${before[line]}\nwhere bench/results gives\n  ${after[line]}\n(npm run docs:figures re-renders it)`).toBe(-1);
      expect(rendered).toBe(text);
    });
  }

  it('every renderer has its markers in a README, and the READMEs quote the figures the issue found drifting', () => {
    expect(Object.keys(RENDERERS).filter((name) => !used.has(name))).toEqual([]);
    const all = docs.map((d) => d.text).join('\n');
    // The kernel page's share of copy, README and bench README alike (it once said 62% in one, 60.7% in the other).
    expect(all.match(/<!-- figures:kernels-fused-share -->[^<]*</g)).toEqual(['<!-- figures:kernels-fused-share -->60.7%<', '<!-- figures:kernels-fused-share -->60.7%<']);
    expect(all).not.toMatch(/39–48 s|4\.9–5\.7|57 →|354, 466/);
  });

  it('a figure that differs from its JSON is re-rendered (the check can fail)', () => {
    const real = loadResults();
    const profile = structuredClone(real('profile'));
    const kernels: { kernel: string; perStepMs: number }[] = profile.captured.kernels;
    kernels.find((k) => k.kernel === 'relu:forward')!.perStepMs += 0.5;
    // The row that sums every kernel the captured table does not name (relu, sigmoid, BCE, accuracy).
    const named = ['mean-pool:forwardGathered4', 'embedding:backwardPieces4', 'embedding:backward4', 'rows:scatter', 'dense:forward', 'dense:inputGradient', 'dense:kernelGradient', 'dense:biasGradient', 'optimizer-adam:adam', 'mean-pool:backward4', 'copy:takeRows4', 'copy:takeRows'];
    const others = kernels.filter((k) => !named.includes(k.kernel)).reduce((a, k) => a + k.perStepMs, 0);
    const bench = docs.find((d) => d.path === 'bench/README.md')!.text;
    const changed = renderText(bench, (name) => (name === 'profile' ? profile : real(name)));
    expect(changed).not.toBe(bench);
    expect(changed).toContain(`| relu, sigmoid, BCE, accuracy | ${others.toFixed(1)} |`);
  });

  it('an unknown or mismatched marker is an error naming it', () => {
    const results = loadResults();
    expect(() => renderText('<!-- figures:nope -->1<!-- /figures:nope -->', results)).toThrow(/figures:nope: no renderer/);
    expect(() => renderText('<!-- figures:load -->1<!-- /figures:train -->', results)).toThrow(/figures:load is closed by \/figures:train/);
  });
});
