import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import type { DataError, DataErrorDetails } from '../src/data/errors.js';

export const FIXTURES = join(import.meta.dirname, 'fixtures');

export function fixtureBytes(...path: string[]): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, ...path)));
}

export function fixtureJson<T = any>(...path: string[]): T {
  return JSON.parse(readFileSync(join(FIXTURES, ...path), 'utf8'));
}

/** The error `f` throws, which must be of `type` and carry its name (a typed error's `name`). */
export function thrown<E extends Error>(type: abstract new (...args: never[]) => E, f: () => unknown): E {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(type);
    expect((error as Error).name).toBe(type.name);
    return error as E;
  }
  throw new Error('nothing thrown');
}

/** The error `promise` rejects with, which must be of `type` and carry its name (a typed error's `name`). */
export async function rejected<E extends Error>(type: abstract new (...args: never[]) => E, promise: Promise<unknown>): Promise<E> {
  const error = await promise.then(
    () => {
      throw new Error('nothing thrown');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(type);
  expect((error as Error).name).toBe(type.name);
  return error as E;
}

/** Writes `files` (relative path to a string or raw bytes) under `root`, making folders as needed; returns `root`. */
export function writeTree(root: string, files: Record<string, string | Uint8Array>): string {
  mkdirSync(root, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

/**
 * Each test of the calling file gets a fresh temporary home, with Keras' cache (KERAS_HOME) in it
 * and neither $IMDB_NPZ nor $IMDB_WORD_INDEX set; the environment is restored after. The data
 * locator's tests then see only the files they make. Returns the running test's home.
 */
export function useTemporaryKerasHome(prefix: string): () => string {
  const saved = { ...process.env };
  let home = '';
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), prefix));
    process.env.KERAS_HOME = join(home, '.keras');
    delete process.env.IMDB_NPZ;
    delete process.env.IMDB_WORD_INDEX;
  });
  afterEach(() => {
    process.env = { ...saved };
  });
  return () => home;
}

/**
 * Expect `fn` to throw exactly `type` (a DataError subclass) whose fields match
 * `details`; strings in `details` may be RegExps. Returns the error.
 */
export function expectDataError<E extends DataError>(
  fn: () => unknown,
  type: new (...args: any[]) => E,
  details: { [K in keyof DataErrorDetails | 'message' | 'problem']?: string | number | RegExp } = {},
): E {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, 'expected an error').toBeInstanceOf(type);
  const error = thrown as E;
  expect(error.constructor).toBe(type);
  for (const [key, want] of Object.entries(details)) {
    const got = (error as unknown as Record<string, unknown>)[key];
    if (want instanceof RegExp) expect(String(got), key).toMatch(want);
    else expect(got, key).toBe(want);
  }
  return error;
}

/**
 * A data file a test file needs: its path, or undefined (skip) with the reason printed. Under
 * CI=true a missing file throws instead, failing the file: CI must not pass by skipping what it
 * was meant to run. `unset` says why there is no path at all (e.g. an environment variable unset).
 */
export function requiredFile(what: string, path: string | undefined, howToGet: string, unset = 'no path given'): string | undefined {
  const missing = !path ? unset : !existsSync(path) ? `${path} does not exist` : null;
  if (!missing) return path;
  if (process.env.CI === 'true') throw new Error(`${what}: ${missing} (CI=true: a missing data file fails the run); ${howToGet}`);
  console.warn(`SKIPPED ${what}: ${missing}; ${howToGet} to run it`);
  return undefined;
}

/** The full imdb.npz from $IMDB_NPZ, as `requiredFile` treats a missing one. */
export function fullDataset(what: string): string | undefined {
  return requiredFile(what, process.env.IMDB_NPZ, 'set IMDB_NPZ=/path/to/imdb.npz', '$IMDB_NPZ is not set');
}
