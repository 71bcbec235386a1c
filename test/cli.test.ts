import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, fixtureBytes, fixtureJson } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'shadergrad-cli-'));
// Built inside the project, so that `webgpu` resolves from node_modules as it does for dist/cli.js.
mkdirSync('node_modules/.cache', { recursive: true });
const cli = join(mkdtempSync('node_modules/.cache/shadergrad-cli-'), 'cli.mjs');
const MINI = join(FIXTURES, 'npz', 'mini.npz');

beforeAll(async () => {
  await build({ entryPoints: ['src/cli.ts'], outfile: cli, bundle: true, platform: 'node', format: 'esm', external: ['webgpu'], loader: { '.wgsl': 'text' }, logLevel: 'error' });
});

function run(...args: string[]) {
  const env = { ...process.env, KERAS_HOME: join(dir, 'keras'), IMDB_NPZ: '', IMDB_WORD_INDEX: '' };
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env, timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('shadergrad train', () => {
  it('bad flags exit 2; data too small for the tutorial exits 1 with the reason', () => {
    for (const args of [['train', '--epochs', '0'], ['train', '--batch-size', 'x'], ['train', '--early-stopping', '-1'], ['train', '--max-binding-bytes', '100']]) {
      const { code, stderr } = run(...args);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr).toMatch(/^shadergrad: .*--(epochs|batch-size|early-stopping|max-binding-bytes)/);
    }
    const small = run('train', '--data', MINI, '--epochs', '1', '--out', join(dir, 'out'));
    expect(small.code).toBe(1);
    expect(small.stderr).toMatch(/DatasetError: .*the training split has 9 reviews; the tutorial holds out the first 10000 for validation/);
  });
});

describe('shadergrad inspect', () => {
  it('prints a JSON summary of both splits', () => {
    const { code, stdout } = run('inspect', '--data', MINI, '--num-words', '20', '--head', '3');
    expect(code).toBe(0);
    const summary = JSON.parse(stdout);
    const want = fixtureJson('npz', 'expected.json').keras.num_words_20;
    expect(summary.numWords).toBe(20);
    expect(summary.train.count).toBe(9);
    expect(summary.train.labels).toEqual({ negative: 4, positive: 5 });
    expect(summary.train.first).toEqual(want.x_train[0]);
    expect(summary.train.firstLengths).toEqual(want.x_train.slice(0, 3).map((x: number[]) => x.length));
    expect(summary.test.maxLength).toBe(Math.max(...want.x_test.map((x: number[]) => x.length)));
  });

  it('--decode prints a review as text', () => {
    const index = join(dir, 'words.json');
    writeFileSync(index, JSON.stringify(Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`w${i + 1}`, i + 1]))));
    const { code, stdout } = run('inspect', '--data', MINI, '--decode', '0', '--split', 'test', '--word-index', index);
    expect(code).toBe(0);
    const first = fixtureJson('npz', 'expected.json').keras.default.x_test[0] as number[];
    const words = first.map((i) => (i === 1 ? '<START>' : i === 2 ? '<UNK>' : `w${i - 3}`));
    expect(stdout.trim()).toBe(words.join(' '));
  });

  it('bad flags and values exit 2 with a message and the usage', () => {
    for (const args of [['inspect', '--bogus'], ['inspect', '--num-words', 'ten'], ['inspect', '--data', MINI, '--decode', '99'], ['train-everything']]) {
      const { code, stderr } = run(...args);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr).toMatch(/^shadergrad: /);
      expect(stderr).toContain('Usage: shadergrad');
    }
  });

  it('a missing or corrupt file exits 1 with one clear message and no stack trace', () => {
    const missing = run('inspect', '--data', join(dir, 'nope.npz'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/DataNotFoundError: .*nope\.npz \(no such file\)/s);

    const corrupt = join(dir, 'corrupt.npz');
    const bytes = fixtureBytes('npz', 'mini_compressed.npz');
    writeFileSync(corrupt, bytes.subarray(0, bytes.length - 30));
    const broken = run('inspect', '--data', corrupt);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/ZipFormatError: .*corrupt\.npz/);
    for (const { stderr } of [missing, broken]) expect(stderr).not.toMatch(/\n\s+at /);
  });
});
