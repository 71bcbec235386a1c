/**
 * Finding the IMDB files in Node, the way Keras users expect: an explicit path,
 * then an environment variable, then Keras' cache `~/.keras/datasets/`, then a
 * download from Keras' public origin into that cache (sha256/md5 checked as
 * keras/src/utils/file_utils.py `get_file` does).
 *
 * A path the user names (option or variable) must exist: it is never silently
 * replaced by another file, and an empty one is refused rather than taken as unset.
 * Only regular files are read (a directory or `/dev/zero` is refused before any read),
 * and only up to the sizes Node can hold (`MAX_DATA_BYTES`, `MAX_WORD_INDEX_BYTES`).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { DataFileError, DataNotFoundError } from './errors.js';
import { imdbFromNpz, parseWordIndex, type ImdbData, type LoadDataOptions, type WordIndex } from './imdb.js';

/** Keras' origin and hashes (keras/src/datasets/imdb.py). */
export const KERAS_ORIGIN = 'https://storage.googleapis.com/tensorflow/tf-keras-datasets/';
const DOWNLOAD_TIMEOUT_MS = 120_000;

export interface DataFileSpec {
  fileName: string;
  envVar: string;
  /** Hex sha256 (64 chars) or md5 (32 chars) of Keras' published file. */
  hash: string;
}

export const IMDB_NPZ: DataFileSpec = {
  fileName: 'imdb.npz',
  envVar: 'IMDB_NPZ',
  hash: '69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f',
};

export const IMDB_WORD_INDEX: DataFileSpec = {
  fileName: 'imdb_word_index.json',
  envVar: 'IMDB_WORD_INDEX',
  hash: 'bfafd718b763782e994055a2d397834f',
};

export interface LocateOptions {
  /** An explicit file path; wins over everything else. */
  path?: string;
  /** Keras' cache folder; default `~/.keras/datasets` (`$KERAS_HOME/datasets` when set). */
  cacheDir?: string;
  /** Download origin folder; default Keras' public bucket. */
  origin?: string;
  /** Extra folders to look in after the variable, before the cache. */
  alsoIn?: string[];
}

export function kerasCacheDir(): string {
  return join(process.env.KERAS_HOME || join(homedir(), '.keras'), 'datasets');
}

/** The path of a data file, downloading it into Keras' cache as a last resort. */
export async function locateDataFile(spec: DataFileSpec, options: LocateOptions = {}): Promise<string> {
  const looked: string[] = [];
  if (options.path === '') throw new DataNotFoundError('the given path is empty: name a file, or leave the option out to search the usual places', { file: spec.fileName });
  const named = options.path !== undefined ? ['the given path', options.path] : process.env[spec.envVar] ? [`$${spec.envVar}`, process.env[spec.envVar]!] : null;
  if (named) {
    const path = resolve(named[1]);
    if (existsSync(path)) return path;
    throw notFound(spec, [`${named[0]}: ${path} (no such file)`]);
  }
  looked.push(`$${spec.envVar}: not set`);
  for (const dir of options.alsoIn ?? []) {
    const path = join(dir, spec.fileName);
    if (existsSync(path)) return path;
    looked.push(`${path}: no such file`);
  }
  const cached = join(options.cacheDir ?? kerasCacheDir(), spec.fileName);
  if (existsSync(cached)) return cached;
  looked.push(`${cached}: no such file`);

  const url = (options.origin ?? KERAS_ORIGIN) + spec.fileName;
  try {
    await download(url, cached, spec.hash);
    return cached;
  } catch (cause) {
    looked.push(`download ${url}: ${(cause as Error).message}`);
    throw notFound(spec, looked);
  }
}

function notFound(spec: DataFileSpec, looked: string[]): DataNotFoundError {
  return new DataNotFoundError(
    // One line, as every error here is: the places looked at, separated by semicolons.
    `not found; looked at ${looked.join('; ')}. ` +
      `Point at the file with --data PATH (or the \`path\` option), or set ${spec.envVar}=/path/to/${spec.fileName}, ` +
      `or copy it to ${join(kerasCacheDir(), spec.fileName)}.`,
    { file: spec.fileName },
  );
}

async function download(url: string, target: string, expectedHash: string): Promise<void> {
  const response = await fetch(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) }).catch((cause: Error) => {
    throw new Error(String((cause.cause as Error | undefined)?.message ?? cause.message));
  });
  if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const algorithm = expectedHash.length === 64 ? 'sha256' : 'md5';
  const hash = createHash(algorithm).update(bytes).digest('hex');
  if (hash !== expectedHash) throw new Error(`${algorithm} mismatch (expected ${expectedHash}, found ${hash})`);
  // Write then rename: an interrupted download never leaves a half file in the cache.
  await mkdir(dirname(target), { recursive: true });
  const partial = `${target}.part-${process.pid}`;
  await writeFile(partial, bytes);
  await rename(partial, target);
}

export interface LoadDataFileOptions extends LoadDataOptions, LocateOptions {}

/** `keras.datasets.imdb.load_data(...)` in Node: find the npz, then parse it. */
export async function loadData(options: LoadDataFileOptions = {}): Promise<ImdbData> {
  const path = await locateDataFile(IMDB_NPZ, options);
  return imdbFromNpz(await readBytes(path, MAX_DATA_BYTES), options, path);
}

/** Node reads at most 2 GiB - 1 into one buffer. */
export const MAX_DATA_BYTES = 2 ** 31 - 1;
/** The longest string V8 makes is 2^29 - 24 characters; Keras' word index is 1.8 MB. */
export const MAX_WORD_INDEX_BYTES = 2 ** 29 - 24;

/** The bytes of a regular file of at most `maxBytes`: anything else is refused with one line, before reading. */
export async function readRegularFile(path: string, maxBytes: number): Promise<Buffer> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw new DataFileError(`cannot read: ${error.code ?? error.message}`, { file: path });
  });
  if (info.isDirectory()) throw new DataFileError('is a directory, not a file', { file: path });
  if (!info.isFile()) throw new DataFileError('is not a regular file (a device, pipe or socket)', { file: path });
  if (info.size > maxBytes) throw new DataFileError('is too large to read', { file: path, expected: `at most ${maxBytes} bytes`, found: `${info.size} bytes` });
  return readFile(path).catch((error: NodeJS.ErrnoException) => {
    throw new DataFileError(`cannot read: ${error.code ?? error.message}`, { file: path });
  });
}

/**
 * `keras.datasets.imdb.get_word_index()`: the word index, found like the npz;
 * also looked for beside `$IMDB_NPZ`, where the two usually live together.
 */
export async function getWordIndex(options: LocateOptions = {}): Promise<WordIndex> {
  const besideNpz = process.env[IMDB_NPZ.envVar] ? [dirname(resolve(process.env[IMDB_NPZ.envVar]!))] : [];
  const path = await locateDataFile(IMDB_WORD_INDEX, { ...options, alsoIn: [...besideNpz, ...(options.alsoIn ?? [])] });
  return parseWordIndex((await readRegularFile(path, MAX_WORD_INDEX_BYTES)).toString('utf8'), path);
}

async function readBytes(path: string, maxBytes: number): Promise<Uint8Array> {
  const buffer = await readRegularFile(path, maxBytes);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
