/**
 * Texts and labels from a table: CSV (RFC 4180), TSV, or JSON Lines. Pure functions over
 * bytes or a string, so a browser can use them on a dropped file; `readTextTable` in
 * text-datasets.ts reads the file in Node.
 *
 * - CSV/TSV: a header row names the columns; fields may be quoted with `"` (a doubled `""`
 *   is one quote) and then hold separators, CR/LF and newlines; records end at LF or CRLF;
 *   blank lines are skipped; a UTF-8 byte order mark is dropped.
 * - JSON Lines: one object per non-blank line.
 * - Labels are class indices (0, 1, ..., below MAX_CLASSES) when every label is a non-negative integer, or class
 *   names otherwise, numbered in sorted (code point) order as Keras numbers class folders,
 *   or in the order of `classNames` when given.
 */
import { DataError } from './errors.js';
import { RandomState } from './random-state.js';
import { compareCodePoints } from './text-vectorization.js';

/** A bad table, row or text file; the message names the file and, for a row, its line. */
export class TextDataError extends DataError {
  /** 1-based line of the row (the line where it starts, for a quoted field spanning lines). */
  readonly line?: number;
  constructor(problem: string, details: { file?: string; line?: number; offset?: number } = {}) {
    const { line, ...rest } = details;
    super(line === undefined ? problem : `line ${line}: ${problem}`, rest);
    this.line = line;
  }
}

export type TableFormat = 'csv' | 'tsv' | 'jsonl';

export interface TextTableOptions {
  /** Column (header name, or 0-based index for CSV/TSV) holding the text. Default 'text'. */
  textColumn?: string | number;
  /** Column holding the label. Default 'label'. */
  labelColumn?: string | number;
  /** Class names in label order; labels that are names must be among them. */
  classNames?: string[];
  /** Named in errors. */
  file?: string;
}

export interface LabelledTexts {
  texts: string[];
  /** Class index of each text. */
  labels: Int32Array;
  /** `classNames[i]` is the name of label i. */
  classNames: string[];
}

/** The table's format from its file name: `.csv`, `.tsv`/`.tab`, `.jsonl`/`.ndjson`; undefined otherwise. */
export function tableFormatOf(path: string): TableFormat | undefined {
  const lower = path.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.tsv') || lower.endsWith('.tab')) return 'tsv';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  return undefined;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * UTF-8 to a string, refusing invalid bytes with the offset of the first one. The byte
 * order mark is kept (TensorFlow's `read_file` keeps it too); tables drop it themselves.
 */
export function decodeUtf8(bytes: Uint8Array, file?: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new TextDataError('not valid UTF-8', { file, offset: firstInvalidUtf8(bytes) });
  }
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    let need: number;
    let min: number;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) [need, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [need, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [need, min] = [3, 0x10000];
    else return i;
    if (i + need >= bytes.length) return i; // cut short by the end of the data
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if ((c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return bytes.length;
}

/** Parses a CSV/TSV/JSON Lines table into texts and class indices. */
export function parseTextTable(content: string | Uint8Array, format: TableFormat, options: TextTableOptions = {}): LabelledTexts {
  const { textColumn = 'text', labelColumn = 'label', file } = options;
  let text = typeof content === 'string' ? content : decodeUtf8(content, file);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const rows = format === 'jsonl' ? jsonLinesRows(text, textColumn, labelColumn, file) : delimitedRows(text, format === 'tsv' ? '\t' : ',', textColumn, labelColumn, file);
  if (rows.length === 0) throw new TextDataError('the table has no rows', { file });
  return labelRows(rows, options.classNames, file);
}

interface RawRow {
  text: string;
  label: string | number;
  line: number;
}

/** RFC 4180 records with the 1-based line each starts on. Blank lines are skipped. */
export function* delimitedRecords(text: string, separator: string, file?: string): Generator<{ fields: string[]; line: number }> {
  const n = text.length;
  let i = 0;
  let line = 1;
  while (i < n) {
    const start = line;
    const fields: string[] = [];
    let field = '';
    let ended = false;
    while (!ended) {
      if (text[i] === '"') {
        // Quoted field: up to the closing quote; "" is one quote; newlines belong to the field.
        const opened = line;
        i++;
        for (;;) {
          if (i >= n) throw new TextDataError(`unterminated quoted field (the quote opens on line ${opened})`, { file, line: start });
          const q = text.indexOf('"', i);
          if (q < 0) {
            i = n;
            continue;
          }
          const chunk = text.slice(i, q);
          line += countNewlines(chunk);
          field += chunk;
          if (text[q + 1] === '"') {
            field += '"';
            i = q + 2;
          } else {
            i = q + 1;
            break;
          }
        }
        const c = text[i];
        if (i < n && c !== separator && c !== '\n' && !(c === '\r' && text[i + 1] === '\n')) {
          throw new TextDataError(`unexpected ${JSON.stringify(c)} after a closing quote (a quote inside a field must be doubled: "")`, { file, line });
        }
      } else {
        let j = i;
        while (j < n && text[j] !== separator && text[j] !== '\n') j++;
        field = text.slice(i, j);
        if (j < n && text[j] === '\n' && field.endsWith('\r')) field = field.slice(0, -1);
        i = j;
      }
      fields.push(field);
      field = '';
      if (i >= n) ended = true;
      else if (text[i] === separator) i++;
      else {
        // LF or CRLF ends the record.
        i += text[i] === '\r' ? 2 : 1;
        line++;
        ended = true;
      }
    }
    if (fields.length === 1 && fields[0] === '') continue;
    yield { fields, line: start };
  }
}

function countNewlines(s: string): number {
  let count = 0;
  for (let k = s.indexOf('\n'); k >= 0; k = s.indexOf('\n', k + 1)) count++;
  return count;
}

function delimitedRows(text: string, separator: string, textColumn: string | number, labelColumn: string | number, file?: string): RawRow[] {
  const records = delimitedRecords(text, separator, file);
  const first = records.next();
  if (first.done) throw new TextDataError('the table is empty (expected a header row)', { file });
  const header = first.value.fields;
  const column = (want: string | number, what: string): number => {
    const index = typeof want === 'number' ? want : header.indexOf(want);
    if (index < 0 || index >= header.length) {
      throw new TextDataError(`no ${what} column ${JSON.stringify(want)} in the header (columns: ${header.map((h) => JSON.stringify(h)).join(', ')})`, { file, line: first.value.line });
    }
    return index;
  };
  const textIndex = column(textColumn, 'text');
  const labelIndex = column(labelColumn, 'label');
  const rows: RawRow[] = [];
  for (const { fields, line } of records) {
    if (fields.length !== header.length) {
      throw new TextDataError(`${fields.length} columns where the header has ${header.length}`, { file, line });
    }
    rows.push({ text: fields[textIndex], label: fields[labelIndex], line });
  }
  return rows;
}

function jsonLinesRows(text: string, textColumn: string | number, labelColumn: string | number, file?: string): RawRow[] {
  const rows: RawRow[] = [];
  const lines = text.split('\n');
  for (let k = 0; k < lines.length; k++) {
    const line = k + 1;
    const source = lines[k].endsWith('\r') ? lines[k].slice(0, -1) : lines[k];
    if (source.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(source);
    } catch (error) {
      throw new TextDataError(`not valid JSON (${(error as Error).message})`, { file, line });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TextDataError('expected a JSON object', { file, line });
    const record = value as Record<string, unknown>;
    const t = record[String(textColumn)];
    const label = record[String(labelColumn)];
    if (typeof t !== 'string') throw new TextDataError(`the text field ${JSON.stringify(String(textColumn))} is ${t === undefined ? 'missing' : `not a string (${typeof t})`}`, { file, line });
    if (label === undefined || label === null) throw new TextDataError(`missing label (field ${JSON.stringify(String(labelColumn))})`, { file, line });
    if (typeof label !== 'string' && typeof label !== 'number') throw new TextDataError(`the label must be a number or a string, got ${typeof label}`, { file, line });
    rows.push({ text: t, label, line });
  }
  return rows;
}

/** The most classes integer labels may number (indices 0 to MAX_CLASSES - 1). */
export const MAX_CLASSES = 65_536;

/** Class indices for raw labels: integers as given, or names numbered in sorted (or the given) order. */
function labelRows(rows: RawRow[], classNames: string[] | undefined, file?: string): LabelledTexts {
  for (const row of rows) {
    if (typeof row.label === 'string' && row.label.trim() === '') throw new TextDataError('missing label', { file, line: row.line });
  }
  const keys = rows.map((r) => (typeof r.label === 'number' ? String(r.label) : r.label.trim()));
  const allIndices = keys.every((k) => /^(0|[1-9]\d{0,8})$/.test(k));
  let names: string[];
  let indexOf: (key: string, line: number) => number;
  if (classNames) {
    if (new Set(classNames).size !== classNames.length || classNames.length < 2) throw new TextDataError(`classNames must hold at least 2 distinct names, got ${JSON.stringify(classNames)}`, { file });
    names = [...classNames];
    const map = new Map(names.map((c, i) => [c, i]));
    indexOf = (key, line) => {
      const found = map.get(key) ?? (allIndices && Number(key) < names.length ? Number(key) : undefined);
      if (found === undefined) throw new TextDataError(`label ${JSON.stringify(key)} is not one of the classes ${JSON.stringify(names)}`, { file, line });
      return found;
    };
  } else if (allIndices) {
    const max = keys.reduce((m, k) => Math.max(m, Number(k)), 0);
    // Every index up to the largest gets a class name: a hostile "999999999" would ask for 10^9 of them.
    if (max >= MAX_CLASSES) {
      const line = rows[keys.indexOf(String(max))].line;
      throw new TextDataError(`label ${max} is a class index past ${MAX_CLASSES - 1} (at most ${MAX_CLASSES} classes)`, { file, line });
    }
    names = Array.from({ length: max + 1 }, (_, i) => String(i));
    indexOf = (key) => Number(key);
  } else {
    names = [...new Set(keys)].sort(compareCodePoints);
    const map = new Map(names.map((c, i) => [c, i]));
    indexOf = (key) => map.get(key)!;
  }
  if (names.length < 2) throw new TextDataError(`every row has the label ${JSON.stringify(names[0] ?? keys[0])}: a classifier needs at least 2 classes`, { file });
  const labels = new Int32Array(rows.length);
  rows.forEach((row, i) => (labels[i] = indexOf(keys[i], row.line)));
  return { texts: rows.map((r) => r.text), labels, classNames: names };
}

/**
 * Keras' split for texts already in memory (a table): the rows shuffled by
 * `np.random.RandomState(seed)` as `index_directory` shuffles files, then the last
 * `int(validationSplit * n)` rows are validation, the rest training (dataset_utils.py
 * `get_training_or_validation_split`).
 */
export function splitLabelledTexts(data: LabelledTexts, validationSplit: number, seed: number): [LabelledTexts, LabelledTexts] {
  if (!(typeof validationSplit === 'number' && validationSplit > 0 && validationSplit < 1)) throw new TextDataError(`validationSplit must be between 0 and 1, got ${validationSplit}`);
  const n = data.texts.length;
  const numValidation = Math.trunc(validationSplit * n);
  if (numValidation === 0 || numValidation === n) throw new TextDataError(`validationSplit ${validationSplit} of ${n} rows leaves no row for ${numValidation === 0 ? 'validation' : 'training'}`);
  const order = Array.from({ length: n }, (_, i) => i);
  new RandomState(seed).shuffle(order);
  const take = (rows: number[]): LabelledTexts => ({ texts: rows.map((i) => data.texts[i]), labels: Int32Array.from(rows, (i) => data.labels[i]), classNames: [...data.classNames] });
  return [take(order.slice(0, n - numValidation)), take(order.slice(n - numValidation))];
}
