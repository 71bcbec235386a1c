/**
 * Edges of src/data/text-table.ts that test/text-datasets.test.ts leaves open (StrykerJS survivors):
 * the bounds of every UTF-8 lead byte and code point range (RFC 3629, Unicode's table 3-7 of
 * well-formed sequences), how a record may end after a closing quote (LF, CRLF, end of data),
 * line numbers after fields spanning lines, JSON Lines values that are not objects, which labels
 * are class indices (canonical decimal integers, as Keras' integer labels) and which are names,
 * and the file, line and exact message each refusal carries.
 */
import { describe, expect, it } from 'vitest';
import { MAX_CLASSES, TextDataError, decodeUtf8, firstInvalidUtf8, parseTextTable, splitLabelledTexts, tableFormatOf, type LabelledTexts } from '../src/data/text-table.js';
import { expectDataError } from './helpers.js';

const parse = (content: string, format: 'csv' | 'tsv' | 'jsonl' = 'csv', classNames?: string[]) => parseTextTable(content, format, { file: 't.csv', classNames });
const refuses = (content: string, message: string, line?: number, format: 'csv' | 'jsonl' = 'csv', classNames?: string[]) =>
  expect(expectDataError(() => parse(content, format, classNames), TextDataError, { message: `t.csv: ${line === undefined ? '' : `line ${line}: `}${message}`, file: 't.csv' }).line).toBe(line);

describe('tableFormatOf', () => {
  it('goes by the ending only, in any case', () => {
    const names = ['a.tsv', 'B.TAB', 'c.jsonl', 'd.NDJSON', 'e.Csv', '.tsv.bak', '.tab.txt', '.jsonl.gz', '.ndjson.old'];
    expect(names.map(tableFormatOf)).toEqual(['tsv', 'tsv', 'jsonl', 'jsonl', 'csv', undefined, undefined, undefined, undefined]);
  });
});

describe('firstInvalidUtf8 at the bounds of each UTF-8 form', () => {
  // Each sequence sits between 'ab' and 'z': a valid one is passed over, an invalid one is reported at its first byte (2).
  const valid: [string, number[]][] = [
    ['U+0080, the first 2-byte (lead C2)', [0xc2, 0x80]],
    ['U+07FF, the last 2-byte (lead DF)', [0xdf, 0xbf]],
    ['U+0800, the first 3-byte (lead E0)', [0xe0, 0xa0, 0x80]],
    ['U+20AC (lead E2)', [0xe2, 0x82, 0xac]],
    ['U+FFFD (lead EF)', [0xef, 0xbf, 0xbd]],
    ['U+10000, the first 4-byte (lead F0)', [0xf0, 0x90, 0x80, 0x80]],
    ['U+10FFFF, the last code point (lead F4)', [0xf4, 0x8f, 0xbf, 0xbf]],
  ];
  const invalid: [string, number[]][] = [
    ['a lone continuation byte 80', [0x80]],
    ['continuation bytes only', [0xbf, 0xbf, 0xbf, 0xbf]],
    ['a continuation byte before a would-be 4-byte tail', [0x80, 0x90, 0x80, 0x80]],
    ['lead F8 (the old 5-byte form)', [0xf8, 0x90, 0x80, 0x80]],
    ['an overlong 3-byte U+0000', [0xe0, 0x80, 0x80]],
    ['an overlong 4-byte U+FFFF', [0xf0, 0x8f, 0xbf, 0xbf]],
    ['U+110000, past the last code point', [0xf4, 0x90, 0x80, 0x80]],
    ['U+DFFF, the last surrogate', [0xed, 0xbf, 0xbf]],
    ['U+D800, the first surrogate', [0xed, 0xa0, 0x80]],
  ];
  const framed = (seq: number[]) => new Uint8Array([0x61, 0x62, ...seq, 0x7a]);
  const standard = new TextDecoder('utf-8', { fatal: true });

  for (const [what, seq] of valid) {
    it(`passes over ${what}`, () => {
      expect(standard.decode(framed(seq))).toHaveLength(seq.length === 4 ? 5 : 4); // the test's own premise
      expect(firstInvalidUtf8(framed(seq))).toBe(seq.length + 3);
    });
  }
  for (const [what, seq] of invalid) {
    it(`stops at ${what}, and decodeUtf8 names that byte`, () => {
      expect(() => standard.decode(framed(seq))).toThrow();
      expect(firstInvalidUtf8(framed(seq))).toBe(2);
      expectDataError(() => decodeUtf8(framed(seq), 'f.txt'), TextDataError, { offset: 2, message: 'f.txt at byte 2: not valid UTF-8' });
    });
  }
});

describe('CSV records', () => {
  it('drops a byte order mark before the first column name', () => {
    expect(parseTextTable(new TextEncoder().encode('\uFEFFtext,label\na,1\nb,0\n'), 'csv').texts).toEqual(['a', 'b']);
    expect(parse('\uFEFF{"text": "a", "label": 1}\n{"text": "b", "label": 0}', 'jsonl').texts).toEqual(['a', 'b']);
  });

  it('a quoted field may end its record with LF, CRLF or the end of the data', () => {
    const t = parse('text,label\n"a",1\nb,"0"\n"c",1\r\nd,"0"\r\n"e","1"');
    expect(t.texts).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(Array.from(t.labels)).toEqual([1, 0, 1, 0, 1]);
  });

  it('refuses anything else after a closing quote, a lone CR included', () => {
    refuses('text,label\n"a"\r,1\n', 'unexpected "\\r" after a closing quote (a quote inside a field must be doubled: "")', 2);
    refuses('text,label\na,"1"x\n', 'unexpected "x" after a closing quote (a quote inside a field must be doubled: "")', 2);
  });

  it('keeps a CR that does not end a record', () => {
    expect(parse('text,label\na\r,1\nb\rc,0\r\n').texts).toEqual(['a\r', 'b\rc']);
  });

  it('counts the lines inside quoted fields, a leading newline too', () => {
    refuses('text,label\n"one\ntwo\nthree",1\n"\nfour",0\nlonely\n', '1 columns where the header has 2', 7);
  });

  it('counts a CRLF after a quoted field as one line end', () => {
    refuses('label,text\r\n1,"a"\r\n0,b\r\n2\r\n', '1 columns where the header has 2', 4);
  });

  it('keeps rows whose first field is empty', () => {
    expect(parse('id,text,label\n,a,pos\n,b,neg\n').texts).toEqual(['a', 'b']);
  });

  it('names the missing column, by index past the header or by name', () => {
    const byIndex = (options: { textColumn?: number; labelColumn?: number }) => () => parseTextTable('text,label\na,1\n', 'csv', { file: 't.csv', ...options });
    expectDataError(byIndex({ textColumn: 2 }), TextDataError, { message: 't.csv: line 1: no text column 2 in the header (columns: "text", "label")' });
    expectDataError(byIndex({ labelColumn: 5 }), TextDataError, { message: /^t\.csv: line 1: no label column 5 in/ });
    refuses('text,stars\na,1\n', 'no label column "label" in the header (columns: "text", "stars")', 1);
  });

  it('names the file of a table without rows', () => {
    refuses('', 'the table is empty (expected a header row)');
    refuses('text,label\n\n', 'the table has no rows');
    refuses('text,label\na,pos\nb,pos\n', 'every row has the label "pos": a classifier needs at least 2 classes');
  });
});

describe('JSON Lines', () => {
  it('takes string labels, JSON whitespace around the object, and skips blank lines', () => {
    const t = parse('\r{"text": "a", "label": "pos"}\n \t\n {"text": "b", "label": "neg"}\t\r\n', 'jsonl');
    expect(t.texts).toEqual(['a', 'b']);
    expect(t.classNames).toEqual(['neg', 'pos']);
    expect(Array.from(t.labels)).toEqual([1, 0]);
  });

  it('refuses a value that is not an object', () => {
    for (const value of ['3', 'null', '[1, 2]', '"text"']) refuses(`{"text": "a", "label": 1}\n${value}\n`, 'expected a JSON object', 2, 'jsonl');
  });

  it('says which field is wrong and how', () => {
    refuses('{"label": 1}\n', 'the text field "text" is missing', 1, 'jsonl');
    refuses('{"text": "a", "label": null}\n', 'missing label (field "label")', 1, 'jsonl');
    refuses('{"text": "a", "label": true}\n', 'the label must be a number or a string, got boolean', 1, 'jsonl');
  });

  it('quotes a bad line without its CR', () => {
    const error = expectDataError(() => parse('{"text": "a", "label": 1}\r\n{"text": "b", "label": x}\r\n', 'jsonl'), TextDataError, { message: /^t\.csv: line 2: not valid JSON \(/ });
    expect(error.message).not.toMatch(/\\x0d|\r/);
  });
});

describe('labels', () => {
  const labelsOf = (t: LabelledTexts) => ({ classNames: t.classNames, labels: Array.from(t.labels) });
  const table = (...labels: string[]) => `text,label\n${labels.map((l, i) => `t${i},${l}`).join('\n')}\n`;

  it('canonical non-negative integers are class indices, gaps and all', () => {
    expect(labelsOf(parse(table('2', '0')))).toEqual({ classNames: ['0', '1', '2'], labels: [2, 0] });
    expect(labelsOf(parse(table('10', '1', '0'))).labels).toEqual([10, 1, 0]);
  });

  it('refuses a class index past MAX_CLASSES - 1, at its line, before naming every class below it', () => {
    expect(parse(table('0', String(MAX_CLASSES - 1))).classNames).toHaveLength(MAX_CLASSES);
    refuses(table('0', '1', String(MAX_CLASSES)), `label ${MAX_CLASSES} is a class index past ${MAX_CLASSES - 1} (at most ${MAX_CLASSES} classes)`, 4);
    refuses(table('999999999', '0'), `label 999999999 is a class index past ${MAX_CLASSES - 1} (at most ${MAX_CLASSES} classes)`, 2);
  });

  it('anything else makes every label a name, numbered in code point order', () => {
    expect(labelsOf(parse(table('1', 'pos', 'neg')))).toEqual({ classNames: ['1', 'neg', 'pos'], labels: [0, 2, 1] });
    expect(labelsOf(parse(table('02', '01')))).toEqual({ classNames: ['01', '02'], labels: [1, 0] });
    expect(labelsOf(parse(table('b2', 'a1')))).toEqual({ classNames: ['a1', 'b2'], labels: [1, 0] });
    expect(labelsOf(parse(table('2b', '1a')))).toEqual({ classNames: ['1a', '2b'], labels: [1, 0] });
  });

  it('trims labels, and refuses one that is only spaces', () => {
    expect(labelsOf(parse(table(' pos', 'neg ', 'pos')))).toEqual({ classNames: ['neg', 'pos'], labels: [1, 0, 1] });
    refuses(table('pos', '  ', 'neg'), 'missing label', 3);
  });

  it('with classNames, indices below their count and names among them', () => {
    expect(labelsOf(parse(table('1', '0'), 'csv', ['neg', 'pos']))).toEqual({ classNames: ['neg', 'pos'], labels: [1, 0] });
    refuses(table('1', '2'), 'label "2" is not one of the classes ["neg","pos"]', 3, 'csv', ['neg', 'pos']);
    refuses(table('neg', '1'), 'label "1" is not one of the classes ["neg","pos"]', 3, 'csv', ['neg', 'pos']);
  });

  it('refuses classNames that are repeated or fewer than 2', () => {
    refuses(table('a', 'b'), 'classNames must hold at least 2 distinct names, got ["a","a","b"]', undefined, 'csv', ['a', 'a', 'b']);
    refuses(table('a', 'a'), 'classNames must hold at least 2 distinct names, got ["a"]', undefined, 'csv', ['a']);
  });
});

describe('splitLabelledTexts', () => {
  const data: LabelledTexts = { texts: ['a', 'b', 'c', 'd'], labels: Int32Array.from([0, 1, 0, 1]), classNames: ['neg', 'pos'] };

  it('refuses a split outside (0, 1) or not a number', () => {
    for (const split of [0, 1, -0.5, 1.5, NaN, '0.5' as unknown as number]) {
      expectDataError(() => splitLabelledTexts(data, split, 1), TextDataError, { message: `validationSplit must be between 0 and 1, got ${split}` });
    }
  });

  it('gives both halves the class names', () => {
    const [training, validation] = splitLabelledTexts(data, 0.5, 1);
    expect([training.classNames, validation.classNames]).toEqual([['neg', 'pos'], ['neg', 'pos']]);
    expect(training.classNames).not.toBe(data.classNames);
  });
});
