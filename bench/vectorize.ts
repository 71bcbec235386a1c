/**
 * Benchmark: the newer tutorial's text pipeline over the 50,000 raw IMDB reviews, in
 * shadergrad and in plain Python/numpy doing Keras' steps (bench/vectorize_keras.py):
 * list and read `train/` and `test/` (class folders, seed-42 numpy shuffle of train),
 * standardize (lower case, '<br />' removed, punctuation stripped), split, build the
 * 10,000-token vocabulary from the 25,000 training reviews, map all 50,000 to ids and pad
 * to 250. The two alternate, each run a fresh process; both print a sha256 of the
 * vocabulary and of the id matrix, which must agree.
 *
 *   npm run bench:vectorize -- [--runs 5] [--dir EXTRACTED_aclImdb]
 *
 * Without --dir the texts are extracted from ../shared/data/aclImdb_v1_texts.tar.gz into a
 * temporary folder (not timed). Writes bench/results/vectorize.json and prints a table.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { textDatasetFromDirectory } from '../src/data/text-datasets.js';
import { TextVectorization, lowerStripHtmlBreaksAndPunctuation } from '../src/data/text-vectorization.js';
import { median } from './stats.js';

interface Run {
  seconds: number;
  loadSeconds: number;
  adaptSeconds: number;
  vectorizeSeconds: number;
  cpuSeconds: number;
  peakRssMB: number;
  vocabularySha256: string;
  idsSha256: string;
}

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, dir: { type: 'string' }, child: { type: 'boolean' } } });
const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

if (values.child) {
  const dir = values.dir!;
  const cpuStart = process.cpuUsage();
  const t0 = performance.now();
  const train = await textDatasetFromDirectory(join(dir, 'train'), { seed: 42 });
  const test = await textDatasetFromDirectory(join(dir, 'test'), { shuffle: false });
  const t1 = performance.now();
  const layer = new TextVectorization({ maxTokens: 10000, outputSequenceLength: 250, standardize: lowerStripHtmlBreaksAndPunctuation });
  layer.adapt(train.texts);
  const t2 = performance.now();
  const ids = layer.call([...train.texts, ...test.texts]);
  const t3 = performance.now();
  const cpu = process.cpuUsage(cpuStart);
  if (ids.shape[0] !== 50000 || ids.shape[1] !== 250) throw new Error(`unexpected shape ${ids.shape}`);
  const run: Run = {
    seconds: (t3 - t0) / 1000,
    loadSeconds: (t1 - t0) / 1000,
    adaptSeconds: (t2 - t1) / 1000,
    vectorizeSeconds: (t3 - t2) / 1000,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    vocabularySha256: sha256(layer.getVocabulary().join('\n')),
    idsSha256: sha256(new Uint8Array(ids.data.buffer, ids.data.byteOffset, ids.data.byteLength)),
  };
  console.log(JSON.stringify(run));
} else {
  const here = dirname(fileURLToPath(import.meta.url));
  const repo = join(here, '..', '..');
  let dir = values.dir;
  let extracted: string | undefined;
  if (!dir) {
    const tarball = join(repo, '..', 'shared', 'data', 'aclImdb_v1_texts.tar.gz');
    if (!existsSync(tarball)) throw new Error(`no --dir given and ${tarball} not found`);
    extracted = mkdtempSync(join(tmpdir(), 'sg-bench-vectorize-'));
    execFileSync('tar', ['-xzf', tarball, '-C', extracted]);
    dir = join(extracted, 'aclImdb');
  }
  const runs = Number(values.runs);
  const child = (command: string, args: string[]): Run & Record<string, unknown> => {
    const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${result.stderr}`);
    return JSON.parse(result.stdout.trim().split('\n').pop()!);
  };
  const shadergrad: Run[] = [];
  const python: (Run & Record<string, unknown>)[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      shadergrad.push(child(process.execPath, [fileURLToPath(import.meta.url), '--child', '--dir', dir]));
      python.push(child('python3', [join(repo, 'bench', 'vectorize_keras.py'), dir]));
      console.log(`run ${i + 1}/${runs}: shadergrad ${shadergrad[i].seconds.toFixed(2)} s, Python ${python[i].seconds.toFixed(2)} s`);
    }
  } finally {
    if (extracted) rmSync(extracted, { recursive: true, force: true });
  }
  const same = [...shadergrad, ...python].every((r) => r.vocabularySha256 === shadergrad[0].vocabularySha256 && r.idsSha256 === shadergrad[0].idsSha256);
  if (!same) throw new Error('shadergrad and Python disagree on the vocabulary or the ids: see the runs');
  const phases = ['seconds', 'loadSeconds', 'adaptSeconds', 'vectorizeSeconds', 'cpuSeconds'] as const;
  const summary = (rs: Run[]) => ({
    ...(Object.fromEntries(phases.map((p) => [`median_${p}`, median(rs.map((r) => r[p]))])) as Record<`median_${(typeof phases)[number]}`, number>),
    peakRssMB: Math.max(...rs.map((r) => r.peakRssMB)),
    runs: rs,
  });
  const s = summary(shadergrad);
  const p = summary(python);
  const result = {
    benchmark: 'read the 50,000 raw IMDB reviews (train seed-42 shuffle), standardize as the tutorial, build the 10,000-token vocabulary from train, map all to ids, pad to 250',
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, memoryGB: Math.round(totalmem() / 2 ** 30) },
    node: process.version,
    python: python[0].python,
    numpy: python[0].numpy,
    vocabularySha256: shadergrad[0].vocabularySha256,
    idsSha256: shadergrad[0].idsSha256,
    shadergrad: summary(shadergrad),
    pythonKeras: summary(python),
    speedup: p.median_seconds / s.median_seconds,
  };
  const out = join(repo, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'vectorize.json'), JSON.stringify(result, null, 2) + '\n');
  const row = (name: string, r: ReturnType<typeof summary>) =>
    `| ${name} | ${r.median_seconds.toFixed(2)} s | ${r.median_loadSeconds.toFixed(2)} s | ${r.median_adaptSeconds.toFixed(2)} s | ${r.median_vectorizeSeconds.toFixed(2)} s | ${r.median_cpuSeconds.toFixed(2)} s | ${r.peakRssMB.toFixed(0)} MB |`;
  console.log(`\n${result.machine.cpu}, ${result.machine.cores} cores; ${runs} runs each, alternating, fresh processes\n`);
  console.log('| path | total | list + read | vocabulary (25,000) | ids + pad (50,000) | CPU time | peak RSS |\n|---|---|---|---|---|---|---|');
  console.log(row(`shadergrad (Node ${process.version})`, s));
  console.log(row(`Python ${result.python} + numpy ${result.numpy} (Keras' steps)`, p));
  console.log(`\nSame vocabulary and ids (sha256 ${result.idsSha256.slice(0, 12)}...). shadergrad is ${result.speedup.toFixed(1)}x faster. Wrote bench/results/vectorize.json`);
}
