/**
 * Benchmark: shadergrad's whole tutorial run against a CPU yardstick, PyTorch with Keras'
 * semantics (bench/peer_torch.py), alternately in one command: shadergrad, PyTorch, shadergrad,
 * PyTorch, ... Each run is a fresh process (`node dist/cli.js train`, `/usr/bin/python3
 * bench/peer_torch.py`), timed from its start to its exit: loading, training, evaluating.
 *
 *   npm run bench:peer -- [--rounds 2] [--recipe tutorial] [--epochs N] [--data PATH] [--threads 2]
 *                         [--python /usr/bin/python3] [--torch-device cpu|cuda] [--out bench/results/peer.json]
 *
 * Runs only where `--python` can import PyTorch (here Debian's: `apt-get install -y python3-torch`);
 * elsewhere it says so and exits 0. `--torch-device cuda` puts PyTorch on a GPU instead (the real-GPU
 * run, bench/gpu-run.sh). `--recipe fasttext-bigram` runs Keras' bigram example on both sides, PyTorch
 * with SparseAdam on the embedding (`--lazy-embedding`), as shadergrad's recipe uses LazyAdam. Writes the JSON with the load average around every run (a crowded machine
 * slows both sides, not equally).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { IMDB_NPZ, locateDataFile } from '../src/data/files.js';
import { median } from './stats.js';
import { getRecipe } from '../src/runner/recipes.js';
import { machine, timedProcess } from './tutorial-runs.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2' },
    recipe: { type: 'string', default: 'tutorial' },
    epochs: { type: 'string' },
    data: { type: 'string' },
    threads: { type: 'string', default: '2' },
    python: { type: 'string', default: '/usr/bin/python3' },
    'torch-device': { type: 'string', default: 'cpu' },
    out: { type: 'string', default: join('bench', 'results', 'peer.json') },
  },
});
const PYTHON = values.python!;
const torchDevice = values['torch-device']!;
const rounds = Number(values.rounds);
const recipe = getRecipe(values.recipe!);
const epochs = values.epochs === undefined ? recipe.fit.epochs : Number(values.epochs);
// A recipe whose optimizer is row-sparse (LazyAdam) has PyTorch update the embedding row-sparse too (SparseAdam).
const optimizer = recipe.optimizer();
const lazyEmbedding = typeof optimizer !== 'string' && optimizer.rowSparse;

const probe = spawnSync(PYTHON, ['-c', `import torch, numpy; torch.zeros(1, device='${torchDevice}'); print(torch.__version__)`], { encoding: 'utf8' });
if (probe.status !== 0) {
  console.log(`bench:peer: skipped, ${PYTHON} cannot import torch and numpy or has no '${torchDevice}' device (apt-get install -y python3-torch installs both); nothing was measured.`);
  process.exit(0);
}
const torchVersion = probe.stdout.trim();
const data = await locateDataFile(IMDB_NPZ, { path: values.data });
const out = join('bench', 'results', 'tmp', 'peer');

interface Run {
  tool: 'shadergrad' | 'pytorch';
  round: number;
  /** From the process's start to its exit. */
  wallSeconds: number;
  /** The phases the run itself reports. */
  seconds: Record<string, number>;
  test: { loss: number; accuracy: number };
  loadAverageBefore: number[];
  loadAverageAfter: number[];
}

let adapter = '';
let pytorchDevice = 'cpu';
function runShadergrad(round: number): Run {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const run = timedProcess(process.execPath, ['dist/cli.js', 'train', '--recipe', recipe.name, '--epochs', String(epochs), '--data', data, '--out', out]);
  const history = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8'));
  adapter = history.adapter;
  return { tool: 'shadergrad', round, wallSeconds: run.wallSeconds, seconds: history.seconds, test: history.test, loadAverageBefore: run.loadAverageBefore, loadAverageAfter: loadavg() };
}

function runPytorch(round: number): Run {
  const run = timedProcess(PYTHON, ['bench/peer_torch.py', '--data', data, '--recipe', recipe.name, '--epochs', String(epochs), '--threads', values.threads!, '--device', torchDevice, ...(lazyEmbedding ? ['--lazy-embedding'] : [])]);
  const report = JSON.parse(run.stdout.trim().split('\n').pop()!);
  pytorchDevice = report.device ?? 'cpu';
  return { tool: 'pytorch', round, wallSeconds: run.wallSeconds, seconds: report.seconds, test: report.test, loadAverageBefore: run.loadAverageBefore, loadAverageAfter: loadavg() };
}

const runs: Run[] = [];
for (let round = 1; round <= rounds; round++) {
  for (const run of [runShadergrad, runPytorch]) {
    const r = run(round);
    runs.push(r);
    console.log(`round ${round}: ${r.tool.padEnd(10)} ${r.wallSeconds.toFixed(1)} s, test accuracy ${r.test.accuracy.toFixed(4)} (load average ${r.loadAverageBefore[0].toFixed(1)} before)`);
  }
}
const summarise = (tool: Run['tool']) => {
  const mine = runs.filter((r) => r.tool === tool);
  return { medianWallSeconds: median(mine.map((r) => r.wallSeconds)), testAccuracy: mine.map((r) => r.test.accuracy) };
};
/** What `uptime` says: the 1-, 5- and 15-minute load averages, against the machine's cores. */
function loadNote(all: Run[]): { atStart: number[]; atEnd: number[]; note: string } {
  const atStart = all[0].loadAverageBefore;
  const atEnd = all[all.length - 1].loadAverageAfter;
  const oneMinute = all.flatMap((r) => [r.loadAverageBefore[0], r.loadAverageAfter[0]]);
  const [low, high] = [Math.min(...oneMinute), Math.max(...oneMinute)];
  const cores = machine().cores;
  const crowded = high > cores;
  return {
    atStart,
    atEnd,
    note: `measured once (${all.length} runs); the 1-minute load average ran from ${low.toFixed(1)} to ${high.toFixed(1)} on ${cores} cores` +
      (crowded ? ': other jobs shared the CPU, which inflates both sides\' times, not equally' : ''),
  };
}
const shadergrad = summarise('shadergrad');
const pytorch = summarise('pytorch');
const summary = {
  benchmark: `the ${recipe.name} recipe's whole run (load, ${epochs} epochs at batch ${recipe.fit.batchSize}${recipe.data.validationSize ? ' with validation' : ''}, test), each a fresh process, shadergrad and PyTorch alternately, ${rounds} round${rounds === 1 ? '' : 's'}`,
  recipe: recipe.name,
  date: new Date().toISOString(),
  adapter,
  machine: machine(),
  node: process.version,
  loadAverage: loadNote(runs),
  pytorchSetup: { version: torchVersion, device: pytorchDevice, threads: Number(values.threads), script: `bench/peer_torch.py (Keras initialisers, Keras Adam epsilon 1e-7, BCE from logits${lazyEmbedding ? '; SparseAdam on the embedding, as LazyAdam' : ''})` },
  /** PyTorch's median whole run over shadergrad's: above 1, shadergrad is faster. */
  ratio: pytorch.medianWallSeconds / shadergrad.medianWallSeconds,
  shadergrad,
  pytorch,
  runs,
};
mkdirSync(dirname(values.out!), { recursive: true });
writeFileSync(values.out!, JSON.stringify(summary, null, 2) + '\n');
console.log(`\n| | median whole run | test accuracy |\n|---|---|---|`);
console.log(`| shadergrad (${adapter.split(':')[0]}) | ${shadergrad.medianWallSeconds.toFixed(1)} s | ${shadergrad.testAccuracy.map((a) => a.toFixed(4)).join(', ')} |`);
console.log(`| PyTorch ${torchVersion}, ${torchDevice === 'cpu' ? `${values.threads} threads` : pytorchDevice} | ${pytorch.medianWallSeconds.toFixed(1)} s | ${pytorch.testAccuracy.map((a) => a.toFixed(4)).join(', ')} |`);
console.log(`\nshadergrad is ${summary.ratio.toFixed(2)}x PyTorch's speed (PyTorch's whole run over shadergrad's); load average now ${loadavg().map((l) => l.toFixed(1)).join(', ')}`);
console.log(summary.loadAverage.note);
console.log(`Wrote ${values.out}`);
