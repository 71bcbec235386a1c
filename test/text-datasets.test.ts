import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTextTable, textDatasetFromDirectory, textFolderSplits, type TextDirectoryOptions } from '../src/data/text-datasets';
import { RandomState, shuffledIndices } from '../src/data/random-state';
import { TextDataError, firstInvalidUtf8, parseTextTable, splitLabelledTexts } from '../src/data/text-table';
import { TextVectorization, lowerStripHtmlBreaksAndPunctuation } from '../src/data/text-vectorization';
import { fixtureJson, writeTree } from './helpers';

// Written by test/fixtures/text/make_directory.py: Keras' index_directory restated in Python with numpy's RandomState.
interface SplitCase {
  validationSplit: number;
  training: string[];
  trainingLabels: number[];
  validation: string[];
  validationLabels: number[];
}
interface DirectoryFixture {
  layout: Record<string, string[]>;
  sorted: { paths: string[]; labels: number[]; classNames: string[] };
  cases: { seed: number; classNames: string[]; paths: string[]; labels: number[]; splits: SplitCase[] }[];
  classNamesCase: { seed: number; classNames: string[]; paths: string[]; labels: number[] };
}
const fixture = fixtureJson<DirectoryFixture>('text', 'directory.json');

const scratch = mkdtempSync(join(tmpdir(), 'sg-text-datasets-'));
// Long: the full-data test leaves 25,000 files here, slow to delete on a busy disk.
afterAll(() => rmSync(scratch, { recursive: true, force: true }), 600_000);

/** Writes files under a new folder of the scratch space; content is a string or raw bytes. */
function makeTree(name: string, files: Record<string, string | Uint8Array>): string {
  return writeTree(join(scratch, name), files);
}

async function expectTextDataError(promise: Promise<unknown> | (() => unknown), message: RegExp): Promise<TextDataError> {
  let thrown: unknown;
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(TextDataError);
  expect((thrown as Error).message).toMatch(message);
  expect((thrown as Error).message).not.toContain('\n');
  return thrown as TextDataError;
}

describe('textDatasetFromDirectory against Keras’ index_directory (Python + numpy)', () => {
  let root: string;
  const rel = (paths: string[]) => paths.map((p) => relative(root, p).split('\\').join('/'));

  beforeAll(() => {
    const files: Record<string, string> = {};
    for (const [cls, names] of Object.entries(fixture.layout)) {
      mkdirSync(join(scratch, 'layout', cls), { recursive: true });
      for (const name of names) files[`${cls}/${name}`] = `${cls}/${name}: review text\n`;
    }
    root = makeTree('layout', files);
  });

  it('lists class folders and files in Keras’ sorted walk order without shuffling', async () => {
    const ds = await textDatasetFromDirectory(root, { shuffle: false });
    expect(ds.classNames).toEqual(fixture.sorted.classNames);
    expect(rel(ds.filePaths)).toEqual(fixture.sorted.paths);
    expect(Array.from(ds.labels)).toEqual(fixture.sorted.labels);
    expect(ds.texts).toEqual(fixture.sorted.paths.map((p) => `${p}: review text\n`));
  });

  for (const c of fixture.cases) {
    it(`seed ${c.seed}: the same shuffle as numpy, then Keras’ splits`, async () => {
      const all = await textDatasetFromDirectory(root, { seed: c.seed });
      expect(rel(all.filePaths)).toEqual(c.paths);
      expect(Array.from(all.labels)).toEqual(c.labels);
      for (const s of c.splits) {
        const options: TextDirectoryOptions = { seed: c.seed, validationSplit: s.validationSplit };
        const [training, validation] = await textDatasetFromDirectory(root, { ...options, subset: 'both' });
        expect(rel(training.filePaths)).toEqual(s.training);
        expect(Array.from(training.labels)).toEqual(s.trainingLabels);
        expect(rel(validation.filePaths)).toEqual(s.validation);
        expect(Array.from(validation.labels)).toEqual(s.validationLabels);
        const alone = await textDatasetFromDirectory(root, { ...options, subset: 'validation' });
        expect(alone.filePaths).toEqual(validation.filePaths);
        expect(alone.texts).toEqual(validation.texts);
      }
    });
  }

  it('classNames choose and order the classes', async () => {
    const c = fixture.classNamesCase;
    const ds = await textDatasetFromDirectory(root, { seed: c.seed, classNames: c.classNames });
    expect(ds.classNames).toEqual(c.classNames);
    expect(rel(ds.filePaths)).toEqual(c.paths);
    expect(Array.from(ds.labels)).toEqual(c.labels);
  });

  it('logs Keras’ lines', async () => {
    const lines: string[] = [];
    await textDatasetFromDirectory(root, { seed: 1, validationSplit: 0.2, subset: 'training', log: (l) => lines.push(l) });
    expect(lines).toEqual([`Found ${fixture.sorted.paths.length} files belonging to 3 classes.`, `Using ${fixture.sorted.paths.length - Math.trunc(0.2 * fixture.sorted.paths.length)} files for training.`]);
  });
});

describe('textDatasetFromDirectory reading', () => {
  it('keeps a byte order mark (as tf.io.read_file) and cuts maxLength in bytes without splitting a character', async () => {
    const root = makeTree('bytes', { 'a/bom.txt': '\uFEFFhi', 'b/long.txt': 'abcé' });
    const ds = await textDatasetFromDirectory(root, { shuffle: false, maxLength: 4 });
    expect(ds.texts).toEqual(['\uFEFFh', 'abc']); // the BOM is 3 bytes; 'é' (2 bytes) would be cut
  });
});

describe('textDatasetFromDirectory refuses bad input with one named line', () => {
  it('an empty folder', async () => {
    const root = makeTree('empty', {});
    const e = await expectTextDataError(textDatasetFromDirectory(root), /has no class sub-folders/);
    expect(e.file).toBe(root);
  });
  it('a folder with one class', () => expectTextDataError(textDatasetFromDirectory(makeTree('one', { 'pos/a.txt': 'x' })), /has one class sub-folder \(pos\/\): a classifier needs at least 2/));
  it('class folders without .txt files', () => expectTextDataError(textDatasetFromDirectory(makeTree('notxt', { 'a/x.md': 'x', 'b/y.csv': 'y' })), /has no \.txt files/));
  it('a missing folder', () => expectTextDataError(textDatasetFromDirectory(join(scratch, 'nope')), /nope: cannot read the folder \(ENOENT\)/));
  it('a file instead of a folder', () => expectTextDataError(textDatasetFromDirectory(join(makeTree('file', { 'f.txt': 'x' }), 'f.txt')), /f\.txt: is not a folder/));
  it('a file that is not UTF-8, named with the byte', async () => {
    const root = makeTree('latin1', { 'a/ok.txt': 'fine', 'b/bad.txt': new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0x21]) });
    const e = await expectTextDataError(textDatasetFromDirectory(root, { shuffle: false }), /b\/bad\.txt at byte 3: not valid UTF-8/);
    expect(e.offset).toBe(3);
  });
  it('an unreadable file (a dangling link), named', async () => {
    const root = makeTree('dangling', { 'a/ok.txt': 'fine', 'b/ok.txt': 'fine' });
    symlinkSync(join(root, 'missing-target'), join(root, 'b', 'gone.txt'));
    await expectTextDataError(textDatasetFromDirectory(root, { shuffle: false }), /b\/gone\.txt: cannot read the file \(ENOENT\)/);
  });
  const root = () => makeTree('two', { 'a/1.txt': 'x', 'b/1.txt': 'y', 'b/2.txt': 'z' });
  it('validationSplit without a seed', () => expectTextDataError(textDatasetFromDirectory(root(), { validationSplit: 0.2, subset: 'training' }), /needs a seed/));
  it('validationSplit out of range', () => expectTextDataError(textDatasetFromDirectory(root(), { validationSplit: 1.5, subset: 'training', seed: 1 }), /between 0 and 1, got 1\.5/));
  it('subset without validationSplit', () => expectTextDataError(textDatasetFromDirectory(root(), { subset: 'training', seed: 1 }), /set both or neither/));
  it('a split that leaves no validation file', () => expectTextDataError(textDatasetFromDirectory(root(), { validationSplit: 0.2, subset: 'both', seed: 1 }), /validationSplit 0\.2 of 3 files leaves no file for validation/));
  it('classNames that are not folders', () => expectTextDataError(textDatasetFromDirectory(root(), { classNames: ['a', 'c'] }), /do not match the class folders \["a","b"\]/));
});

describe('the tutorial’s folders and splits of a table', () => {
  it('textFolderSplits: train/ split with seed 42 (as textDatasetFromDirectory), test/ sorted', async () => {
    const files: Record<string, string> = {};
    for (const part of ['train', 'test']) for (const cls of ['neg', 'pos']) for (let i = 0; i < 10; i++) files[`${part}/${cls}/${i}.txt`] = `${part} ${cls} ${i}`;
    const root = makeTree('folders', files);
    const { training, validation, test, classNames } = await textFolderSplits(root);
    const [t, v] = await textDatasetFromDirectory(join(root, 'train'), { validationSplit: 0.2, subset: 'both', seed: 42 });
    expect([training.texts, validation.texts]).toEqual([t.texts, v.texts]);
    expect([training.texts.length, validation.texts.length, test.texts.length]).toEqual([16, 4, 20]);
    expect(test.texts.slice(0, 3)).toEqual(['test neg 0', 'test neg 1', 'test neg 2']);
    expect(classNames).toEqual(['neg', 'pos']);
    await expectTextDataError(textFolderSplits(join(root, 'train')), /has no train\/ folder/);
  });

  it('splitLabelledTexts shuffles rows with numpy’s RandomState(seed) and keeps the last int(split * n) for validation', async () => {
    const data = { texts: Array.from({ length: 10 }, (_, i) => `t${i}`), labels: Int32Array.from({ length: 10 }, (_, i) => i % 2), classNames: ['a', 'b'] };
    const [training, validation] = splitLabelledTexts(data, 0.3, 42);
    const order = Array.from(shuffledIndices(new RandomState(42), 10));
    expect(training.texts).toEqual(order.slice(0, 7).map((i) => `t${i}`));
    expect(validation.texts).toEqual(order.slice(7).map((i) => `t${i}`));
    expect(Array.from(validation.labels)).toEqual(order.slice(7).map((i) => i % 2));
    await expectTextDataError(() => splitLabelledTexts(data, 0.05, 1), /leaves no row for validation/);
  });
});

describe('tables: CSV, TSV, JSON Lines', () => {
  const encode = (s: string) => new TextEncoder().encode(s);

  it('CSV with quotes, doubled quotes, embedded newlines, CRLF and a BOM', () => {
    const csv = '\uFEFFid,text,label\r\n1,"Great, ""really"" great",pos\r\n2,"two\r\nlines\nhere",neg\r\n\r\n3,plain,pos';
    const t = parseTextTable(encode(csv), 'csv');
    expect(t.texts).toEqual(['Great, "really" great', 'two\r\nlines\nhere', 'plain']);
    expect(t.classNames).toEqual(['neg', 'pos']);
    expect(Array.from(t.labels)).toEqual([1, 0, 1]);
  });

  it('numeric labels are class indices; classNames fix the order of names', () => {
    expect(Array.from(parseTextTable('text,label\na,1\nb,0\nc,1\n', 'csv').labels)).toEqual([1, 0, 1]);
    const t = parseTextTable('label,text\npos,a\nneg,b\n', 'csv', { classNames: ['pos', 'neg'] });
    expect(Array.from(t.labels)).toEqual([0, 1]);
    expect(t.classNames).toEqual(['pos', 'neg']);
  });

  it('TSV and columns chosen by name or index', () => {
    const t = parseTextTable('review\tstars\tsentiment\nnice one\t5\t1\nawful\t1\t0\n', 'tsv', { textColumn: 'review', labelColumn: 2 });
    expect(t.texts).toEqual(['nice one', 'awful']);
    expect(Array.from(t.labels)).toEqual([1, 0]);
  });

  it('JSON Lines with number or string labels', () => {
    const t = parseTextTable('{"text": "good", "label": 1}\r\n\n{"text": "bad", "label": 0}\n', 'jsonl');
    expect(t.texts).toEqual(['good', 'bad']);
    expect(Array.from(t.labels)).toEqual([1, 0]);
  });

  it('reads a file, the format from its extension', async () => {
    const root = makeTree('tables', { 'reviews.csv': 'text,label\n"x, y",pos\nz,neg\n' });
    const t = await readTextTable(join(root, 'reviews.csv'));
    expect(t.texts).toEqual(['x, y', 'z']);
  });

  const bad: [string, string, 'csv' | 'jsonl', RegExp][] = [
    ['a missing label', 'text,label\na,1\nb,\nc,0\n', 'csv', /^t\.csv: line 3: missing label$/],
    ['an unterminated quote', 'text,label\na,1\n"b,0\nc,1\n', 'csv', /^t\.csv: line 3: unterminated quoted field \(the quote opens on line 3\)$/],
    ['a wrong column count', 'text,label\na,1\nb,0,extra\n', 'csv', /^t\.csv: line 3: 3 columns where the header has 2$/],
    ['a stray quote after a closing quote', 'text,label\n"a"b,1\n', 'csv', /^t\.csv: line 2: unexpected "b" after a closing quote/],
    ['no such column', 'body,label\na,1\n', 'csv', /^t\.csv: line 1: no text column "text" in the header \(columns: "body", "label"\)$/],
    ['one class only', 'text,label\na,pos\nb,pos\n', 'csv', /every row has the label "pos": a classifier needs at least 2 classes/],
    ['an empty table', '', 'csv', /the table is empty/],
    ['a header only', 'text,label\n', 'csv', /the table has no rows/],
    ['invalid JSON', '{"text": "a", "label": 1}\n{"text": "b", label: 0}\n', 'jsonl', /^t\.csv: line 2: not valid JSON/],
    ['a JSON line without a label', '{"text": "a", "label": 1}\n{"text": "b"}\n', 'jsonl', /^t\.csv: line 2: missing label \(field "label"\)$/],
    ['a JSON text that is not a string', '{"text": 3, "label": 1}\n', 'jsonl', /line 1: the text field "text" is not a string \(number\)/],
  ];
  for (const [what, content, format, message] of bad) {
    it(`refuses ${what}`, () => expectTextDataError(() => parseTextTable(content, format, { file: 't.csv' }), message));
  }
  it('refuses a label outside classNames, naming the line', () =>
    expectTextDataError(() => parseTextTable('text,label\na,pos\nb,meh\n', 'csv', { classNames: ['neg', 'pos'], file: 't.csv' }), /line 3: label "meh" is not one of the classes/));
  it('refuses a table that is not UTF-8, with the byte', async () => {
    const root = makeTree('latin1-table', { 'bad.csv': new Uint8Array([...encode('text,label\ncaf'), 0xe9, ...encode(',1\n')]) });
    await expectTextDataError(readTextTable(join(root, 'bad.csv')), /bad\.csv at byte 14: not valid UTF-8/);
  });
  it('refuses an unknown extension', () => expectTextDataError(readTextTable(join(scratch, 'x.xlsx')), /unknown table format/));
  it('finds the first invalid UTF-8 byte: overlong, surrogate, truncated', () => {
    expect(firstInvalidUtf8(new Uint8Array([0x61, 0xc0, 0x80]))).toBe(1);
    expect(firstInvalidUtf8(new Uint8Array([0x61, 0xed, 0xa0, 0x80]))).toBe(1);
    expect(firstInvalidUtf8(new Uint8Array([0x61, 0x62, 0xe2, 0x82]))).toBe(2);
    expect(firstInvalidUtf8(encode('ok é 😀'))).toBe(encode('ok é 😀').length);
  });
});

// The raw IMDB reviews: the newer tutorial's split and vocabulary against make_imdb_split.py.
const TARBALL = join(import.meta.dirname, '..', '..', 'shared', 'data', 'aclImdb_v1_texts.tar.gz');
const haveTarball = existsSync(TARBALL);
if (!haveTarball) {
  if (process.env.CI === 'true') {
    it('full IMDB texts', () => {
      throw new Error(`the raw IMDB texts are missing at ${TARBALL}; CI must have them`);
    });
  } else {
    console.log(`text-datasets: skipping the full-data test: ${TARBALL} not found`);
  }
}
describe.runIf(haveTarball)('the 25,000 raw IMDB training reviews', () => {
  const expected = fixtureJson('text', 'imdb-split.json');
  const sha = (lines: string[]) => createHash('sha256').update(lines.join('\n')).digest('hex');
  let train: string;
  beforeAll(() => {
    const into = join(scratch, 'imdb');
    mkdirSync(into);
    execFileSync('tar', ['-xzf', TARBALL, '-C', into, 'aclImdb/train']); // the test reviews are not needed here
    train = join(into, 'aclImdb', 'train');
  }, 300_000);

  it('splits 20,000 / 5,000 with seed 42 exactly as Keras, and adapts the tutorial’s vocabulary as Keras', async () => {
    const [training, validation] = await textDatasetFromDirectory(train, { validationSplit: 0.2, subset: 'both', seed: 42 });
    for (const [got, want] of [
      [training, expected.training],
      [validation, expected.validation],
    ] as const) {
      const paths = got.filePaths.map((p) => relative(train, p));
      expect(paths.length).toBe(want.count);
      expect(paths.slice(0, 10)).toEqual(want.first);
      expect(paths.slice(-10)).toEqual(want.last);
      expect(sha(paths)).toBe(want.sha256);
      expect(got.labels.reduce((a, b) => a + b, 0)).toBe(want.positives);
    }
    const layer = new TextVectorization({ maxTokens: 10000, outputSequenceLength: 250, standardize: lowerStripHtmlBreaksAndPunctuation });
    const start = performance.now();
    layer.adapt(training.texts);
    const adaptMs = performance.now() - start;
    console.log(`text-datasets: adapt over ${training.texts.length} reviews took ${adaptMs.toFixed(0)} ms`);
    const vocabulary = layer.getVocabulary();
    expect(vocabulary.slice(0, 40)).toEqual(expected.vocabulary.first);
    expect(vocabulary.slice(-10)).toEqual(expected.vocabulary.last);
    expect(sha(vocabulary)).toBe(expected.vocabulary.sha256);
  }, 300_000);
});
