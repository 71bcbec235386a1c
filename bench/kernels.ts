/**
 * Benchmark: the kernel page's measurement in Node (bench/kernel-throughput.ts): every kernel of
 * the tutorial model at the training shapes, each beside a copy kernel moving as many bytes, on
 * the adapter at hand (Dawn: a GPU's Vulkan driver, or SwiftShader).
 *
 *   npm run bench:kernels -- [--batches 64,256,512] [--repeats 20] [--wall-clock] [--swiftshader] [--out bench/results/node-kernels.json]
 *
 * Prints a markdown table per kernel and the copy kernel's runs; writes the JSON (the page's
 * fields, plus the machine, the load average and Node's version).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { Gpu } from '../src/gpu/gpu.js';
import { DEFAULT_BATCHES, DEFAULT_REPEATS, copiesBySize, fmt, formatBytes, measureKernels, timingText, type KernelThroughput } from './kernel-throughput.js';
import { SettingError, wholeNumber, wholeNumbers } from './pages/settings.js';
import { machine } from './tutorial-runs.js';

const DEFAULT_OUT = join('bench', 'results', 'node-kernels.json');

function readFlags(argv: string[]) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        batches: { type: 'string', default: DEFAULT_BATCHES.join(',') },
        repeats: { type: 'string', default: String(DEFAULT_REPEATS) },
        'wall-clock': { type: 'boolean', default: false },
        swiftshader: { type: 'boolean', default: false },
        out: { type: 'string', default: DEFAULT_OUT },
      },
    }));
  } catch (error) {
    // Node's own message names the flag ("Unknown option '--batch'"): one line, as a SettingError.
    throw new SettingError((error as Error).message.split('\n')[0]);
  }
  return {
    batches: wholeNumbers('--batches', values.batches, 1),
    repeats: wholeNumber('--repeats', values.repeats, 1),
    forceWallClock: values['wall-clock'],
    swiftshader: values.swiftshader,
    out: values.out,
  };
}

/** The kernels as a markdown table, the host-side index, then the copy kernel's runs. */
function printTables(r: KernelThroughput): void {
  console.log(`Timing: ${timingText(r)}. % of copy: against the copy kernel moving the same bytes, timed beside it.\n`);
  console.log('| kernel | entry | batch | µs | GB/s | % of copy |');
  console.log('|---|---|---|---|---|---|');
  for (const k of r.kernels) console.log(`| ${k.kernel} | ${k.entry} | ${k.batch} | ${fmt(k.timeUs)} | ${fmt(k.gbps)} | ${fmt(k.percentOfCopy)} |`);
  for (const h of r.hostIndex) console.log(`| embedding | index (host CPU, ${h.uniqueIds} distinct ids) | ${h.batch} | ${fmt(h.timeUs)} | — | — |`);
  console.log('\n| copy: bytes moved | µs | GB/s | timed beside |');
  console.log('|---|---|---|---|');
  for (const c of copiesBySize(r.copy)) console.log(`| ${formatBytes(c.bytes)} | ${fmt(c.timeUs)} | ${fmt(c.gbps)} | ${c.beside}, batch ${c.batch} |`);
}

async function main(argv: string[]): Promise<void> {
  const flags = readFlags(argv);
  const gpu = await Gpu.create({ forceSwiftShader: flags.swiftshader });
  console.log(`Using ${gpu.describe()}`);
  const loadAverageBefore = loadavg();
  const started = performance.now();
  // Progress on one rewritten line, on a terminal only (not in a log).
  const progress = process.stderr.isTTY ? (text: string) => process.stderr.write(`\r\x1b[K${text}`) : undefined;
  let measured: KernelThroughput;
  try {
    measured = await measureKernels(gpu, flags, progress);
  } finally {
    if (progress) progress('');
    gpu.close();
  }
  const { settings, ...results } = measured;
  const summary = {
    benchmark: 'kernels: each kernel of the tutorial model at the training shapes, beside a copy kernel moving as many bytes',
    date: new Date().toISOString(),
    adapter: gpu.report ?? null,
    adapterName: gpu.describe(),
    machine: machine(),
    node: process.version,
    /** The 1-, 5- and 15-minute load averages before and after (other work on the machine slows the wall clock). */
    loadAverageBefore,
    loadAverageAfter: loadavg(),
    seconds: (performance.now() - started) / 1000,
    settings,
    ...results,
  };
  printTables(measured);
  mkdirSync(dirname(flags.out), { recursive: true });
  writeFileSync(flags.out, JSON.stringify(summary, null, 2) + '\n');
  console.log(`\n${results.kernels.length} kernel timings in ${summary.seconds.toFixed(1)} s on ${summary.adapterName}. Wrote ${flags.out}`);
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error) => {
    const message = error instanceof SettingError ? error.message : error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    console.error(`shadergrad bench:kernels: ${message}`);
    process.exit(1);
  },
);
