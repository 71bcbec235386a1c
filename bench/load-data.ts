/**
 * Benchmark: load the full imdb.npz with numWords 10000 and pad both splits to
 * 256 ('post'), in shadergrad and in Python (np.load plus Keras' load_data
 * steps, bench/load_data_keras.py), alternating, each run in a fresh process so
 * that every figure is a cold load with its own peak RSS.
 *
 *   npm run bench:load -- [--runs 5] [--data PATH]
 *
 * Writes bench/results/load-data.json and prints a table.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { IMDB_NPZ, loadData, locateDataFile } from '../src/data/files.js';
import { padSequences } from '../src/data/sequences.js';
import { median } from './stats.js';

interface Run {
  seconds: number;
  peakRssMB: number;
}

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, data: { type: 'string' }, child: { type: 'boolean' } } });

if (values.child) {
  const started = performance.now();
  const [[xTrain], [xTest]] = await loadData({ path: values.data, numWords: 10000 });
  const train = padSequences(xTrain, { maxlen: 256, padding: 'post' });
  const test = padSequences(xTest, { maxlen: 256, padding: 'post' });
  const seconds = (performance.now() - started) / 1000;
  if (train.shape[0] !== 25000 || test.shape[1] !== 256) throw new Error('unexpected shapes');
  console.log(JSON.stringify({ seconds, peakRssMB: process.resourceUsage().maxRSS / 1024 }));
} else {
  const path = await locateDataFile(IMDB_NPZ, { path: values.data });
  const runs = Number(values.runs);
  const here = dirname(fileURLToPath(import.meta.url));
  const repo = join(here, '..', '..');
  const child = (command: string, args: string[]): Run & Record<string, unknown> => {
    const result = spawnSync(command, args, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${result.stderr}`);
    return JSON.parse(result.stdout.trim().split('\n').pop()!);
  };
  const shadergrad: Run[] = [];
  const python: (Run & Record<string, unknown>)[] = [];
  for (let i = 0; i < runs; i++) {
    shadergrad.push(child(process.execPath, [fileURLToPath(import.meta.url), '--child', '--data', path]));
    python.push(child('python3', [join(repo, 'bench', 'load_data_keras.py'), path]));
  }
  const summary = (rs: Run[]) => ({ medianSeconds: median(rs.map((r) => r.seconds)), peakRssMB: Math.max(...rs.map((r) => r.peakRssMB)), runs: rs });
  const result = {
    benchmark: 'load imdb.npz (numWords 10000) and pad train and test to 256, post',
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, memoryGB: Math.round(totalmem() / 2 ** 30) },
    node: process.version,
    python: python[0].python,
    numpy: python[0].numpy,
    file: path,
    shadergrad: summary(shadergrad),
    pythonKeras: summary(python),
    speedup: median(python.map((r) => r.seconds)) / median(shadergrad.map((r) => r.seconds)),
  };
  const out = join(repo, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'load-data.json'), JSON.stringify(result, null, 2) + '\n');
  const row = (name: string, s: ReturnType<typeof summary>) => `| ${name} | ${s.medianSeconds.toFixed(3)} s | ${s.peakRssMB.toFixed(0)} MB |`;
  console.log(`${result.machine.cpu}, ${result.machine.cores} cores; ${runs} cold runs each, alternating\n`);
  console.log('| path | median time | peak RSS |\n|---|---|---|');
  console.log(row('shadergrad (Node ' + process.version + ')', result.shadergrad));
  console.log(row(`Python ${result.python} + numpy ${result.numpy} (np.load + Keras steps)`, result.pythonKeras));
  console.log(`\nshadergrad is ${result.speedup.toFixed(1)}x faster. Wrote bench/results/load-data.json`);
}
