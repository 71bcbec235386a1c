/**
 * Benchmark: this checkout's tutorial run against another build of shadergrad (an earlier commit,
 * checked out and built elsewhere), alternately in one command, so that both meet the same machine:
 * each round runs `node <dir>/dist/cli.js train` for the baseline, then for this checkout, and reads
 * the history.json each writes (whole-run seconds, median epoch, test figures).
 *
 *   git worktree add /tmp/prev <commit> && (cd /tmp/prev && npm ci && npm run build)
 *   npm run bench:versus -- --baseline /tmp/prev [--rounds 2] [--epochs 40] [--label previous] [-- extra train flags]
 *
 * Writes bench/results/versus-<label>.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { median } from './stats.js';
import { machine } from './tutorial-runs.js';

const { values, positionals } = parseArgs({
  options: { baseline: { type: 'string' }, rounds: { type: 'string', default: '2' }, epochs: { type: 'string', default: '40' }, label: { type: 'string', default: 'previous' } },
  allowPositionals: true,
});
if (!values.baseline) throw new Error('--baseline DIR: a built checkout of the shadergrad to compare with');
const rounds = Number(values.rounds);
const out = join('bench', 'results', 'tmp', 'versus');
mkdirSync(out, { recursive: true });

interface Run {
  seconds: number;
  medianEpochSeconds: number;
  test: { loss: number; accuracy: number };
}

function train(dir: string): Run {
  // A fresh folder each run: a checkpoint left by an interrupted run would be refused.
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const args = [join(dir, 'dist', 'cli.js'), 'train', '--epochs', values.epochs!, '--out', out, ...positionals];
  execFileSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const h = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8'));
  return { seconds: h.seconds.total, medianEpochSeconds: median(h.epochSeconds), test: h.test };
}

const baseline: Run[] = [];
const current: Run[] = [];
const load: number[] = [];
for (let r = 0; r < rounds; r++) {
  load.push(loadavg()[0]);
  baseline.push(train(resolve(values.baseline)));
  current.push(train('.'));
  console.log(`round ${r + 1}: baseline ${baseline[r].seconds.toFixed(1)} s, this checkout ${current[r].seconds.toFixed(1)} s`);
}
const wholeRun = (runs: Run[]) => median(runs.map((x) => x.seconds));
const summary = {
  benchmark: `the tutorial (${values.epochs} epochs, flags: ${positionals.join(' ') || 'none'}), this checkout against ${values.baseline}, alternately, ${rounds} rounds`,
  date: new Date().toISOString(),
  machine: machine(),
  loadAverageAtEachRound: load,
  baseline: { dir: values.baseline, runs: baseline, medianWholeRunSeconds: wholeRun(baseline) },
  current: { runs: current, medianWholeRunSeconds: wholeRun(current) },
  /** This checkout's median whole run over the baseline's (below 1: faster). */
  ratio: wholeRun(current) / wholeRun(baseline),
};
writeFileSync(join('bench', 'results', `versus-${values.label}.json`), JSON.stringify(summary, null, 2) + '\n');
console.log(`this checkout / baseline, median whole run: ${summary.ratio.toFixed(3)}; test accuracy ${current[0].test.accuracy} vs ${baseline[0].test.accuracy}`);
