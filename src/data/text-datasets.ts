/**
 * Labelled texts from files in Node: `keras.utils.text_dataset_from_directory` and tables
 * (CSV / TSV / JSON Lines, parsed in text-table.ts).
 *
 * `textDatasetFromDirectory` follows Keras 3's keras/src/utils/text_dataset_utils.py and
 * keras/src/utils/dataset_utils.py (`index_directory`, `index_subdirectory`,
 * `iter_valid_files`, `get_training_or_validation_split`, `check_validation_split_arg`):
 * - the class folders are the sub-folders of `dir` not starting with '.', in sorted order
 *   (or `classNames`' order); labels are their indices;
 * - each class folder is walked recursively (sub-folders reached through links are not
 *   entered), folders in sorted path order, files in sorted order, keeping names ending in
 *   `.txt` (any case);
 * - with `shuffle` (the default) the paths, then the labels, are shuffled by two fresh
 *   `np.random.RandomState(seed)`, i.e. the same permutation (RandomState in random-state.ts);
 * - the last `int(validationSplit * n)` files are the validation subset, the rest training.
 * What is not reproduced: tf.data's own `shuffle(buffer_size=batch_size * 8)` of the training
 * files each epoch (TensorFlow's RNG; the engine's `fit` shuffles per epoch instead), and
 * batching. Strings are decoded as UTF-8 (a file that is not UTF-8 is an error here; Keras
 * would keep its bytes). Python sorts by code point; so does `compareCodePoints`.
 */
import { constants, readFileSync } from 'node:fs';
import { access, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { RandomState } from './random-state.js';
import { TextDataError, decodeUtf8, parseTextTable, tableFormatOf, type LabelledTexts, type TableFormat, type TextTableOptions } from './text-table.js';
import { compareCodePoints } from './text-vectorization.js';

export type Subset = 'training' | 'validation' | 'both';

export interface TextDirectoryOptions {
  /** Fraction in (0, 1) kept for validation; needs `subset`. */
  validationSplit?: number;
  subset?: Subset;
  /** Seed of the numpy shuffle; required with `validationSplit` and `shuffle`, as Keras requires it. */
  seed?: number;
  /** Default true. False: sorted order. */
  shuffle?: boolean;
  /** Class folders to use, in label order (a subset of the folders). */
  classNames?: string[];
  /** Keep the first `maxLength` UTF-8 bytes of each text (Keras' `tf.strings.substr`); a character cut in two is dropped. */
  maxLength?: number;
  /** Called with Keras' "Found N files belonging to C classes." and "Using N files for ..." lines. */
  log?: (line: string) => void;
}

export interface TextDataset extends LabelledTexts {
  /** The file each text came from, in the same order. */
  filePaths: string[];
}

const TEXT_FORMATS = ['.txt'];

export async function textDatasetFromDirectory(dir: string, options: TextDirectoryOptions & { subset: 'both' }): Promise<[TextDataset, TextDataset]>;
export async function textDatasetFromDirectory(dir: string, options?: TextDirectoryOptions & { subset?: 'training' | 'validation' }): Promise<TextDataset>;
export async function textDatasetFromDirectory(dir: string, options?: TextDirectoryOptions): Promise<TextDataset | [TextDataset, TextDataset]>;
export async function textDatasetFromDirectory(dir: string, options: TextDirectoryOptions = {}): Promise<TextDataset | [TextDataset, TextDataset]> {
  const { validationSplit, subset, shuffle = true, maxLength, log } = options;
  checkValidationSplit(validationSplit, subset, shuffle, options.seed);
  if (maxLength !== undefined && !(Number.isSafeInteger(maxLength) && maxLength > 0)) throw new TextDataError(`maxLength must be a positive integer, got ${maxLength}`);
  // dataset_utils.py: with no seed Keras draws one, np.random.randint(1e6).
  const seed = options.seed ?? Math.floor(Math.random() * 1e6);

  const { filePaths, labels, classNames } = await indexDirectory(dir, options.classNames);
  log?.(`Found ${filePaths.length} files belonging to ${classNames.length} classes.`);
  if (shuffle) {
    new RandomState(seed).shuffle(filePaths);
    new RandomState(seed).shuffle(labels);
  }
  const read = async (paths: string[], subsetLabels: Int32Array): Promise<TextDataset> => ({
    texts: readTexts(paths, maxLength),
    labels: subsetLabels,
    classNames: [...classNames],
    filePaths: paths,
  });
  if (!validationSplit || !subset) return read(filePaths, labels);

  const numValidation = Math.trunc(validationSplit * filePaths.length);
  const numTraining = filePaths.length - numValidation;
  // Keras' `samples[:-0]` would make an empty training subset and a validation subset of everything.
  if (numValidation === 0) throw new TextDataError(`validationSplit ${validationSplit} of ${filePaths.length} files leaves no file for validation`, { file: dir });
  if (numTraining === 0) throw new TextDataError(`validationSplit ${validationSplit} of ${filePaths.length} files leaves no file for training`, { file: dir });
  const training = () => {
    log?.(`Using ${numTraining} files for training.`);
    return read(filePaths.slice(0, numTraining), labels.slice(0, numTraining));
  };
  const validation = () => {
    log?.(`Using ${numValidation} files for validation.`);
    return read(filePaths.slice(numTraining), labels.slice(numTraining));
  };
  if (subset === 'training') return training();
  if (subset === 'validation') return validation();
  return [await training(), await validation()];
}

/** dataset_utils.py `check_validation_split_arg`. */
function checkValidationSplit(split: number | undefined, subset: Subset | undefined, shuffle: boolean, seed: number | undefined): void {
  if (split !== undefined && !(typeof split === 'number' && split > 0 && split < 1)) throw new TextDataError(`validationSplit must be between 0 and 1, got ${split}`);
  if ((split !== undefined) !== (subset !== undefined)) throw new TextDataError('validationSplit and subset go together: set both or neither');
  if (subset !== undefined && subset !== 'training' && subset !== 'validation' && subset !== 'both') {
    throw new TextDataError(`subset must be 'training', 'validation' or 'both', got ${JSON.stringify(subset)}`);
  }
  if (split !== undefined && shuffle && seed === undefined) {
    throw new TextDataError('validationSplit with shuffling needs a seed, so that the training and validation subsets do not overlap');
  }
  if (seed !== undefined && !(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) throw new TextDataError(`seed must be an integer in [0, 2**32 - 1], got ${seed}`);
}

/** dataset_utils.py `index_directory` with `labels='inferred'`: paths in walk order and their class indices. */
async function indexDirectory(dir: string, wanted: string[] | undefined): Promise<{ filePaths: string[]; labels: Int32Array; classNames: string[] }> {
  let entries;
  try {
    const info = await stat(dir);
    if (!info.isDirectory()) throw new TextDataError('is not a folder (expected a folder with one sub-folder of .txt files per class)', { file: dir });
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (error instanceof TextDataError) throw error;
    throw new TextDataError(`cannot read the folder (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { file: dir });
  }
  const folders: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    if (await isDirectory(join(dir, entry.name), entry)) folders.push(entry.name);
  }
  folders.sort(compareCodePoints);
  let classNames = folders;
  if (wanted) {
    const missing = wanted.filter((c) => !folders.includes(c));
    if (missing.length || new Set(wanted).size !== wanted.length) {
      throw new TextDataError(`classNames ${JSON.stringify(wanted)} do not match the class folders ${JSON.stringify(folders)} (expected distinct names among them)`, { file: dir });
    }
    classNames = [...wanted];
  }
  if (classNames.length === 0) throw new TextDataError('has no class sub-folders (expected one folder of .txt files per class, e.g. pos/ and neg/)', { file: dir });
  if (classNames.length === 1) throw new TextDataError(`has one class sub-folder (${classNames[0]}/): a classifier needs at least 2`, { file: dir });

  const filePaths: string[] = [];
  const labels: number[] = [];
  for (let label = 0; label < classNames.length; label++) {
    const files = await walkTextFiles(join(dir, classNames[label]));
    for (const f of files) {
      filePaths.push(f);
      labels.push(label);
    }
  }
  if (filePaths.length === 0) throw new TextDataError(`has no .txt files in its class folders (${classNames.join(', ')})`, { file: dir });
  return { filePaths, labels: Int32Array.from(labels), classNames };
}

/** os.path.isdir: follows a link. */
async function isDirectory(path: string, entry: { isDirectory(): boolean; isSymbolicLink(): boolean }): Promise<boolean> {
  if (entry.isDirectory()) return true;
  if (!entry.isSymbolicLink()) return false;
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * dataset_utils.py `iter_valid_files` with `follow_links=False`: `os.walk` sorted by folder
 * path, each folder's files sorted; links to folders are listed as folders, not entered.
 */
async function walkTextFiles(root: string): Promise<string[]> {
  const folders: { path: string; files: string[] }[] = [];
  const pending = [root];
  while (pending.length) {
    const folder = pending.pop()!;
    let entries;
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch (error) {
      throw new TextDataError(`cannot read the folder (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { file: folder });
    }
    const files: string[] = [];
    for (const entry of entries) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) pending.push(path);
      else if (!(await isDirectory(path, entry))) files.push(entry.name);
    }
    folders.push({ path: folder, files });
  }
  folders.sort((a, b) => compareCodePoints(a.path, b.path));
  const out: string[] = [];
  for (const { path, files } of folders) {
    for (const name of files.sort(compareCodePoints)) {
      const lower = name.toLowerCase();
      if (TEXT_FORMATS.some((ext) => lower.endsWith(ext))) out.push(join(path, name));
    }
  }
  return out;
}

/**
 * Reads and decodes files in order; errors name the file. Synchronous reads on purpose:
 * for 50,000 small files they took a third of the time of `fs.promises.readFile` with 64
 * reads in flight (Node 20, 2 cores), which pays a thread-pool round trip per step.
 */
function readTexts(paths: string[], maxLength: number | undefined): string[] {
  return paths.map((path) => readText(path, maxLength));
}

function readText(path: string, maxLength?: number): string {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new TextDataError(`cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { file: path });
  }
  const text = decodeUtf8(bytes, path);
  if (maxLength === undefined || bytes.length <= maxLength) return text;
  // tf.strings.substr(txt, 0, max_length) counts bytes; drop a character it would cut in two.
  let end = maxLength;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return decodeUtf8(bytes.subarray(0, end), path);
}

export interface ReadTextTableOptions extends TextTableOptions {
  /** Default: from the extension (.csv, .tsv/.tab, .jsonl/.ndjson). */
  format?: TableFormat;
}

/** A CSV / TSV / JSON Lines file as texts and class indices (see text-table.ts). */
export async function readTextTable(path: string, options: ReadTextTableOptions = {}): Promise<LabelledTexts> {
  const format = options.format ?? tableFormatOf(path);
  if (!format) throw new TextDataError('unknown table format: name it .csv, .tsv or .jsonl, or pass format', { file: path });
  try {
    await access(path, constants.R_OK);
  } catch (error) {
    throw new TextDataError(`cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { file: path });
  }
  return parseTextTable(new Uint8Array(await readFile(path)), format, { ...options, file: options.file ?? path });
}

export interface TextFolderSplits {
  training: TextDataset;
  validation: TextDataset;
  test: TextDataset;
  classNames: string[];
}

/**
 * The newer tutorial's data from a folder laid out like `aclImdb`: `train/` split into
 * training and validation (`validationSplit`, default 0.2, with `seed`, default 42, as the
 * tutorial calls `text_dataset_from_directory`), and `test/` in sorted order. Both must hold
 * the same class folders.
 */
export async function textFolderSplits(root: string, options: { validationSplit?: number; seed?: number; log?: (line: string) => void } = {}): Promise<TextFolderSplits> {
  const { validationSplit = 0.2, seed = 42, log } = options;
  for (const part of ['train', 'test']) {
    const path = join(root, part);
    const info = await stat(path).catch(() => null);
    if (!info?.isDirectory()) throw new TextDataError(`has no ${part}/ folder (expected train/ and test/, each with one folder of .txt files per class, as aclImdb)`, { file: root });
  }
  const [training, validation] = await textDatasetFromDirectory(join(root, 'train'), { validationSplit, subset: 'both', seed, log });
  const test = await textDatasetFromDirectory(join(root, 'test'), { shuffle: false, classNames: training.classNames, log });
  return { training, validation, test, classNames: training.classNames };
}
