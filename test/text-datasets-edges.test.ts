/**
 * Edges of src/data/text-datasets.ts that test/text-datasets.test.ts leaves open (StrykerJS
 * survivors): the bounds of each option check, Keras' np.random.randint(1e6) seed when none is
 * given, which entries are class folders and files (os.path.isdir follows links, os.walk does not
 * enter them; top-level files are not classes), code point order whatever the creation order, and
 * the folder or file each refusal names.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { readTextTable, textDatasetFromDirectory, textFolderSplits, type TextDirectoryOptions } from '../src/data/text-datasets.js';
import { TextDataError } from '../src/data/text-table.js';
import { expectDataError, writeTree } from './helpers.js';

const scratch = mkdtempSync(join(tmpdir(), 'sg-text-datasets-edges-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());
const tree = (name: string, files: Record<string, string>) => writeTree(join(scratch, name), files);
const two = () => tree('two', { 'a/1.txt': 'x', 'b/1.txt': 'y', 'b/2.txt': 'z' });

/** expectDataError for a promise's rejection. */
async function rejects(promise: Promise<unknown>, details: Parameters<typeof expectDataError>[2]): Promise<TextDataError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  return expectDataError(() => {
    if (error) throw error;
  }, TextDataError, details);
}

describe('option checks', () => {
  const options = (o: TextDirectoryOptions) => textDatasetFromDirectory(join(scratch, 'never-read'), o);

  it('maxLength must be a positive integer', async () => {
    for (const maxLength of [0, -1, 1.5, NaN]) await rejects(options({ maxLength }), { message: `maxLength must be a positive integer, got ${maxLength}` });
  });

  it('validationSplit must be a number strictly between 0 and 1', async () => {
    for (const split of [0, 1, -0.5, NaN, '0.5' as unknown as number]) {
      await rejects(options({ validationSplit: split, subset: 'training', seed: 1 }), { message: `validationSplit must be between 0 and 1, got ${split}` });
    }
  });

  it("subset must be one of Keras' three", () =>
    rejects(options({ validationSplit: 0.5, subset: 'train' as 'training', seed: 1 }), { message: `subset must be 'training', 'validation' or 'both', got "train"` }));

  it("seed must be a numpy seed: an integer in [0, 2**32 - 1]", async () => {
    for (const seed of [-1, 1.5, 2 ** 32]) await rejects(options({ seed, shuffle: false }), { message: `seed must be an integer in [0, 2**32 - 1], got ${seed}` });
    expect((await textDatasetFromDirectory(two(), { seed: 2 ** 32 - 1 })).texts).toHaveLength(3);
  });
});

describe('the walk', () => {
  it('without a seed, shuffles with np.random.randint(1e6) as Keras draws it', async () => {
    const root = tree('unseeded', Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`${'ab'[i % 2]}/${i}.txt`, `${i}`])));
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const drawn = await textDatasetFromDirectory(root);
    expect(drawn.texts).toEqual((await textDatasetFromDirectory(root, { seed: 500_000 })).texts);
  });

  it('class folders and files come in code point order, whatever order they were made in', async () => {
    const names = ['é', 'b', '_', 'a', 'C', 'B'];
    const root = tree('order', Object.fromEntries(names.map((n) => [`${n}/${names.join('')}.txt`, n]).concat(names.map((n) => [`a/${n}.txt`, n]))));
    const ds = await textDatasetFromDirectory(root, { shuffle: false });
    expect(ds.classNames).toEqual(['B', 'C', '_', 'a', 'b', 'é']);
    expect(ds.filePaths.filter((p) => p.startsWith(join(root, 'a'))).map((p) => relative(join(root, 'a'), p))).toEqual(['B.txt', 'C.txt', '_.txt', 'a.txt', 'b.txt', 'é.txt', 'éb_aCB.txt']);
  });

  it('a link to a folder is a class at the top, and neither entered nor read below it; top-level files are not classes', async () => {
    const root = tree('links', { 'a/1.txt': 'a1', 'b/1.txt': 'b1', 'notes.txt': 'n' });
    const elsewhere = tree('elsewhere', { 'x.txt': 'far' });
    symlinkSync(elsewhere, join(root, 'c'));
    symlinkSync(elsewhere, join(root, 'a', 'more.txt'));
    symlinkSync(join(root, 'b', '1.txt'), join(root, 'a', 'same.txt'));
    const ds = await textDatasetFromDirectory(root, { shuffle: false });
    expect(ds.classNames).toEqual(['a', 'b', 'c']);
    expect(ds.texts).toEqual(['a1', 'b1', 'b1', 'far']);
  });

  it("logs Keras' lines for both subsets", async () => {
    const lines: string[] = [];
    await textDatasetFromDirectory(two(), { validationSplit: 0.5, subset: 'both', seed: 1, log: (l) => lines.push(l) });
    expect(lines).toEqual(['Found 3 files belonging to 2 classes.', 'Using 2 files for training.', 'Using 1 files for validation.']);
  });
});

describe('refusals name the folder or file', () => {
  it('of the folder and its classes', async () => {
    const file = join(tree('plain', { 'f.txt': 'x' }), 'f.txt');
    await rejects(textDatasetFromDirectory(file), { file, message: `${file}: is not a folder (expected a folder with one sub-folder of .txt files per class)` });
    const one = tree('one', { 'pos/a.txt': 'x' });
    await rejects(textDatasetFromDirectory(one), { file: one, message: `${one}: has one class sub-folder (pos/): a classifier needs at least 2` });
    const none = tree('none', { 'a/x.md': 'x', 'b/y.csv': 'y' });
    await rejects(textDatasetFromDirectory(none), { file: none, message: `${none}: has no .txt files in its class folders (a, b)` });
    const root = two();
    await rejects(textDatasetFromDirectory(root, { classNames: ['a', 'a', 'b'] }), { file: root, message: `${root}: classNames ["a","a","b"] do not match the class folders ["a","b"] (expected distinct names among them)` });
    await rejects(textDatasetFromDirectory(root, { validationSplit: 0.2, subset: 'training', seed: 1 }), { file: root, message: /leaves no file for validation$/ });
  });

  // Root can read any folder, so the failing readdir is one whose path is past Linux's PATH_MAX
  // (4,096 bytes): a folder nested 20 deep in a class folder, in names of 250 bytes, made one level
  // at a time with relative paths (and removed by `rm`, which walks it the same way).
  it('of a class sub-folder that cannot be read', async () => {
    const root = tree('deep', { 'neg/1.txt': 'x', 'pos/1.txt': 'y' });
    const name = 'd'.repeat(250);
    // A child process, which may change its working folder (a vitest worker may not).
    const nest = `process.chdir(process.argv[1]); for (let i = 0; i < 20; i++) { require('fs').mkdirSync(process.argv[2]); process.chdir(process.argv[2]); }`;
    execFileSync(process.execPath, ['-e', nest, join(root, 'pos'), name]);
    try {
      // The walk reads each level; the first whose path passes 4,096 bytes is refused (its error
      // names the path's length, the path too long to quote whole).
      let folder = join(root, 'pos');
      while (folder.length < 4096) folder = join(folder, name);
      await rejects(textDatasetFromDirectory(root), { file: folder, message: new RegExp(`\\(${folder.length} characters in all\\): cannot read the folder \\(ENAMETOOLONG\\)$`) });
    } finally {
      execFileSync('rm', ['-rf', join(root, 'pos', name)]);
    }
  });

  it('of a table', async () => {
    const unknown = join(scratch, 'x.xlsx');
    await rejects(readTextTable(unknown), { file: unknown, message: `${unknown}: unknown table format: name it .csv, .tsv or .jsonl, or pass format` });
    const missing = join(scratch, 'missing.csv');
    await rejects(readTextTable(missing), { file: missing, message: `${missing}: cannot read the file (ENOENT)` });
  });

  it("of the tutorial's layout without test/", async () => {
    const root = tree('no-test', { 'train/a/1.txt': 'x', 'train/b/1.txt': 'y' });
    mkdirSync(join(root, 'other'));
    await rejects(textFolderSplits(root), { file: root, message: `${root}: has no test/ folder (expected train/ and test/, each with one folder of .txt files per class, as aclImdb)` });
  });
});
