/**
 * The command line and the file system, as an attacker or a slip of the keyboard uses them:
 * every bad flag or path ends in one line (`shadergrad: ...`), exit 2 for a usage error and 1
 * for a bad file, quickly, with no stack trace, and before any GPU work.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { imdbMembers, npyBytes, zipBytes } from './fuzz/writers.js';
import { FIXTURES } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'shadergrad-hostile-cli-'));
mkdirSync('node_modules/.cache', { recursive: true });
const cli = join(mkdtempSync('node_modules/.cache/shadergrad-hostile-cli-'), 'cli.mjs');
const MINI = join(FIXTURES, 'npz', 'mini.npz');

beforeAll(async () => {
  await build({ entryPoints: ['src/cli.ts'], outfile: cli, bundle: true, platform: 'node', format: 'esm', external: ['webgpu'], loader: { '.wgsl': 'text' }, logLevel: 'error' });
});

/** Runs the command line; checks it printed one short line and no stack, within 20 s. */
function run(...args: string[]): { code: number | null; line: string } {
  const env = { ...process.env, KERAS_HOME: join(dir, 'keras'), IMDB_NPZ: join(dir, 'never-read.npz'), IMDB_WORD_INDEX: '' };
  const started = performance.now();
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env, timeout: 20_000 });
  expect(performance.now() - started, 'milliseconds').toBeLessThan(20_000);
  const line = result.stderr.split('\n\nUsage:')[0].trimEnd();
  expect(line, 'one line').not.toContain('\n');
  expect(line).toMatch(/^shadergrad: /);
  expect(line.length).toBeLessThanOrEqual(1100);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  return { code: result.status, line };
}

describe('flags that are refused before anything runs (exit 2)', () => {
  it.each([
    ['--data names nothing', ['inspect', '--data', ''], /--data must name a file, got ''/],
    ['--word-index names nothing', ['inspect', '--data', MINI, '--decode', '0', '--word-index', ''], /--word-index must name a file/],
    ['--decode empty', ['inspect', '--data', MINI, '--decode', ''], /--decode must be a non-negative integer, got ''/],
    ['--decode in exponent form', ['inspect', '--data', MINI, '--decode', '1e0'], /--decode must be a non-negative integer, got '1e0'/],
    ['--decode in hex', ['inspect', '--data', MINI, '--decode', '0x1'], /--decode must be a non-negative integer, got '0x1'/],
    ['--decode past the split', ['inspect', '--data', MINI, '--decode', '9'], /--decode must be a review number in \[0, 9\)/],
    ['--out under /proc', ['train', '--data', MINI, '--out', '/proc/self/shadergrad-out'], /--out \/proc\/self\/shadergrad-out is under \/proc, a virtual file system/],
    ['--out under /sys', ['train', '--data', MINI, '--out', '/sys/x'], /is under \/sys/],
    ['--max-binding-bytes below a batch of token ids', ['train', '--data', MINI, '--max-binding-bytes', '1024'], /--max-binding-bytes must be an integer of at least 524288 \(a batch's token ids, 512 x 256 int32s/],
    ['--max-binding-bytes below one review of embeddings', ['train', '--data', MINI, '--batch-size', '2', '--max-binding-bytes', '16383'], /at least 16384 \(one review's embeddings, 256 x 16 floats/],
    ["--max-binding-bytes below a recipe's review of embeddings", ['train', '--data', MINI, '--recipe', 'fasttext-unigram', '--max-binding-bytes', '79999'], /at least 80000 \(one review's embeddings, 400 x 50 floats/],
    ['a huge flag value, quoted in part', ['train', '--epochs', 'x'.repeat(100_000)], /--epochs must be a non-negative integer, got 'x{100}\.\.\. \(100000 characters in all\)'/],
  ])('%s', (_, args, message) => {
    const { code, line } = run(...args);
    expect(line).toMatch(message);
    expect(code).toBe(2);
  });

  it('--out naming a file, or below a file', () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    expect(run('train', '--data', MINI, '--out', file)).toEqual({ code: 2, line: expect.stringMatching(/--out .*a-file is a file, not a folder/) });
    expect(run('train', '--data', MINI, '--out', join(file, 'sub'))).toEqual({ code: 2, line: expect.stringMatching(/a-file is a file, not a folder/) });
  });
});

describe('paths that are not data files (exit 1, one typed line)', () => {
  it.each([
    ['a directory as --data', ['inspect', '--data', FIXTURES], /DataFileError: .*fixtures: is a directory, not a file/],
    ['/dev/zero as --data', ['inspect', '--data', '/dev/zero'], /DataFileError: \/dev\/zero: is not a regular file/],
    ['a directory as --word-index', ['inspect', '--data', MINI, '--decode', '0', '--word-index', FIXTURES], /DataFileError: .*fixtures: is a directory/],
    ['/dev/zero as --word-index', ['inspect', '--data', MINI, '--decode', '0', '--word-index', '/dev/zero'], /DataFileError: \/dev\/zero: is not a regular file/],
    ['a directory as train --data', ['train', '--data', FIXTURES, '--out', join(dir, 'o')], /DataFileError: .*is a directory/],
  ])('%s', (_, args, message) => {
    const { code, line } = run(...args);
    expect(line).toMatch(message);
    expect(code).toBe(1);
  });

  it('a data file over 2 GiB (sparse) is refused before it is read', () => {
    const big = join(dir, 'big.npz');
    const fd = openSync(big, 'w');
    closeSync(fd);
    spawnSync('truncate', ['-s', String(2 ** 31 + 1), big]);
    const { code, line } = run('inspect', '--data', big);
    expect(line).toMatch(/DataFileError: .*big\.npz: is too large to read \(expected at most 2147483647 bytes, found 2147483649 bytes\)/);
    expect(code).toBe(1);
  });

  it('a forbidden global with a 1 MB name, and a 300,000-deep word index value, end in one short line', () => {
    const name = 'os'.padEnd(1_000_000, 'x');
    const pickle = Uint8Array.from(`\x80\x02c${name}\nsystem\n.`, (c) => c.charCodeAt(0));
    const members = imdbMembers({ train: [{ words: [1], label: 1 }], test: [{ words: [1], label: 0 }] }, 2);
    members[0].data = npyBytes('|O', [1], pickle);
    const npz = join(dir, 'global.npz');
    writeFileSync(npz, zipBytes(members.map((m) => ({ ...m, method: 8 }))));
    // The name is longer than any numpy writes: refused at the GLOBAL, never decoded whole.
    expect(run('inspect', '--data', npz)).toEqual({ code: 1, line: expect.stringMatching(/PickleError: .*GLOBAL of a line longer than 256 bytes/) });

    const index = join(dir, 'deep.json');
    writeFileSync(index, `{"the": ${'['.repeat(300_000)}${']'.repeat(300_000)}}`);
    expect(run('inspect', '--data', MINI, '--decode', '0', '--word-index', index)).toEqual({
      code: 1,
      line: expect.stringMatching(/DatasetError: .*deep\.json: word index entry 'the' is not a positive integer rank \(expected integer >= 1, found a list of 1 items\)/),
    });
  });
});
