/**
 * The kernel-throughput measurement in Node (bench/kernel-throughput.ts), as the kernel page and
 * `npm run bench:kernels` run it: the result's shape and arithmetic, not its speed.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { measureKernels, timingText } from '../bench/kernel-throughput.js';
import { useGpu } from './gpu-helpers.js';

/** Every kernel the page times, unfused then fused (a kernel dropped from the table fails here). */
const KERNEL_NAMES = [
  'embedding forward', 'embedding backward', 'mean-pool forward', 'mean-pool backward',
  'dense 16→16 forward', 'dense 16→16 inputGradient', 'dense 16→16 kernelGradient', 'dense 16→16 biasGradient',
  'relu forward', 'relu backward',
  'dense 16→1 forward', 'dense 16→1 inputGradient', 'dense 16→1 kernelGradient', 'dense 16→1 biasGradient',
  'sigmoid forward', 'sigmoid backward', 'bce from logits forward', 'bce from logits backward', 'accuracy countCorrect', 'add main', 'adam update',
  'fused embedding-bag forward', 'fused embedding-bag forward + mark', 'fused embedding-bag backward', 'fused head trainSample', 'fused head gradients', 'fused adam update',
];

describe('measureKernels in Node', () => {
  const gpu = useGpu();

  it('times every kernel beside a copy of as many bytes, with figures computed from the recorded ones', async () => {
    const statuses: string[] = [];
    const result = await measureKernels(gpu(), { batches: [8], repeats: 1, forceWallClock: false }, (text) => statuses.push(text));
    expect(result.settings).toMatchObject({ batches: [8], repeats: 1, timing: 'auto', steps: 256, dim: 16, vocab: 10_000, hidden: 16 });
    // Timestamps only where the adapter has them at full resolution; the page's rule.
    const hasTimestamps = gpu().device.features.has('timestamp-query');
    expect(result.timing).toBe(hasTimestamps && !result.quantized ? 'timestamp-query' : 'wall-clock');
    if (!hasTimestamps) expect(result.timestampQuantumNs).toBeNull();
    expect(result.kernels.map((k) => `${k.kernel} ${k.entry}`)).toEqual(KERNEL_NAMES);
    expect(statuses).toHaveLength(1 + KERNEL_NAMES.length);
    for (const k of result.kernels) {
      const what = `${k.kernel} ${k.entry}`;
      expect(k.batch, what).toBe(8);
      expect(k.timeUs, what).toBeGreaterThan(0);
      expect(k.bytes, what).toBeGreaterThan(0);
      expect(Number.isFinite(k.percentOfCopy), `${what}: % of copy ${k.percentOfCopy}`).toBe(true);
      expect(k.gbps, what).toBeCloseTo(k.bytes / k.timeUs / 1000, 9);
      if (k.flop !== null) expect(k.gflops, what).toBeCloseTo(k.flop / k.timeUs / 1000, 9);
      const copy = result.copy.find((c) => c.beside === what && c.batch === k.batch)!;
      expect(copy, `${what}: its copy`).toBeTruthy();
      // The copy moves at least the kernel's bytes, rounded up to whole vec4s read and written.
      expect(copy.bytes).toBeGreaterThanOrEqual(k.bytes);
      expect(copy.bytes - k.bytes).toBeLessThan(2 * 4 * 4);
      expect(copy.timeUs).toBeGreaterThan(0);
      expect(k.percentOfCopy, what).toBeCloseTo((100 * k.gbps) / copy.gbps, 6);
    }
    // The unfused embedding's row-sparse backward writes one row per distinct id: the index says how many.
    expect(result.hostIndex).toHaveLength(1);
    const [index] = result.hostIndex;
    expect(index).toMatchObject({ batch: 8, tokens: 8 * 256 });
    expect(index.uniqueIds).toBeGreaterThan(1);
    expect(index.uniqueIds).toBeLessThanOrEqual(index.tokens);
    expect(index.timeUs).toBeGreaterThan(0);
    expect(result.kernels[1].shape).toBe(`[8, 256, 16]→[${index.uniqueIds}, 16]`);
  });

  it('wall-clock timing when asked for, even where the adapter has timestamps', async () => {
    const result = await measureKernels(gpu(), { batches: [2], repeats: 1, forceWallClock: true });
    expect(result).toMatchObject({ timing: 'wall-clock', quantized: false, timestampQuantumNs: null });
    expect(result.settings.timing).toBe('wall-clock');
    expect(timingText(result)).toBe('wall clock over 1 dispatches (wall-clock timing asked for)');
  });
});

describe('npm run bench:kernels', () => {
  mkdirSync('node_modules/.cache', { recursive: true });
  // Built inside the project, so that `webgpu` resolves from node_modules as it does for dist/bench/kernels.js.
  const command = join(mkdtempSync('node_modules/.cache/shadergrad-bench-kernels-'), 'kernels.mjs');
  beforeAll(async () => {
    await build({ entryPoints: ['bench/kernels.ts'], outfile: command, bundle: true, platform: 'node', format: 'esm', external: ['webgpu'], loader: { '.wgsl': 'text' }, logLevel: 'error' });
  });
  const run = (...args: string[]) => spawnSync(process.execPath, [command, ...args], { encoding: 'utf8', timeout: 60_000 });

  it('prints the adapter and the tables and writes the JSON with the machine it ran on', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'shadergrad-bench-kernels-')), 'nested', 'kernels.json');
    const { status, stdout, stderr } = run('--batches', '4', '--repeats', '1', '--wall-clock', '--out', out);
    expect(status, stderr).toBe(0);
    expect(stdout).toMatch(/^Using .+\(.*(software|hardware)/);
    expect(stdout).toContain('| fused embedding-bag | backward | 4 |');
    expect(stdout).toContain('| copy: bytes moved | µs | GB/s | timed beside |');
    const written = JSON.parse(readFileSync(out, 'utf8'));
    expect(written.settings).toMatchObject({ batches: [4], repeats: 1, timing: 'wall-clock' });
    expect(written.adapter.features).toBeInstanceOf(Array);
    expect(written.machine.cores).toBeGreaterThan(0);
    expect(written.loadAverageBefore).toHaveLength(3);
    expect(written.kernels).toHaveLength(KERNEL_NAMES.length);
    expect(written.copy).toHaveLength(KERNEL_NAMES.length);
  });

  it('a bad flag is one line naming it, and a non-zero exit', () => {
    for (const [args, message] of [
      [['--repeats', '0'], /^shadergrad bench:kernels: --repeats must be a whole number of at least 1, got '0'\n$/],
      [['--batches', '64,x'], /^shadergrad bench:kernels: --batches must be whole numbers .*got '64,x'\n$/],
      [['--batch', '64'], /^shadergrad bench:kernels: Unknown option '--batch'.*\n$/],
    ] as const) {
      const { status, stdout, stderr } = run(...args);
      expect(status, args.join(' ')).toBe(1);
      expect(stderr).toMatch(message);
      expect(stdout).toBe('');
    }
  });
});
