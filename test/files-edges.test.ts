/**
 * Edges of src/data/files.ts that StrykerJS found untested (bench/results/stryker-mutation.json):
 * the places each error names (a given path, a folder looked in beside $IMDB_NPZ, the cache to copy
 * to), an origin that answers 404, Keras' md5 hashes (the word index's), the size limit inclusive,
 * and a read that fails after stat succeeded.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataFileError, DataNotFoundError } from '../src/data/errors.js';
import { getWordIndex, IMDB_NPZ, IMDB_WORD_INDEX, kerasCacheDir, locateDataFile, readRegularFile } from '../src/data/files.js';
import { FIXTURES, useTemporaryKerasHome } from './helpers.js';

const MINI = join(FIXTURES, 'npz', 'mini.npz');
const WORDS = '{"the": 1, "film": 2}';
const home = useTemporaryKerasHome('shadergrad-files-edges-');

// A local origin: the word index at /imdb_word_index.json, 404 for anything else.
let server: Server;
let origin: string;
beforeAll(async () => {
  server = createServer((req, res) => (req.url === '/imdb_word_index.json' ? res.writeHead(200).end(WORDS) : res.writeHead(404, 'Not Found').end()));
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((done) => server.close(() => done())));

describe('locateDataFile: what its errors name', () => {
  it("Keras' cache is ~/.keras/datasets without $KERAS_HOME", () => {
    delete process.env.KERAS_HOME;
    expect(kerasCacheDir()).toBe(join(homedir(), '.keras', 'datasets'));
  });

  it('an empty path is an error on the file', async () => {
    const error = await locateDataFile(IMDB_NPZ, { path: '' }).catch((e) => e);
    expect(error).toBeInstanceOf(DataNotFoundError);
    expect(error.file).toBe('imdb.npz');
  });

  it('without a path, a variable or extra folders, it looks in the cache only, then downloads', async () => {
    const error = await locateDataFile(IMDB_NPZ, { origin }).catch((e) => e);
    const cache = join(home(), '.keras', 'datasets', 'imdb.npz');
    expect(error.message).toContain(`: not found; looked at $IMDB_NPZ: not set; ${cache}: no such file; download ${origin}imdb.npz: HTTP 404 Not Found. `);
  });

  it('getWordIndex looks beside $IMDB_NPZ only when it is set', async () => {
    const error = await getWordIndex({ origin }).catch((e) => e);
    const cache = join(home(), '.keras', 'datasets', 'imdb_word_index.json');
    expect(error.message).toContain(`looked at $IMDB_WORD_INDEX: not set; ${cache}: no such file; download`);
  });

  it('a given path that does not exist is named as the given path, in an error on the file', async () => {
    const error = await locateDataFile(IMDB_NPZ, { path: join(home(), 'nope.npz'), origin }).catch((e) => e);
    expect(error).toBeInstanceOf(DataNotFoundError);
    expect(error.file).toBe('imdb.npz');
    expect(error.message).toMatch(/^imdb\.npz: not found; looked at the given path: .*nope\.npz \(no such file\)\. /);
  });

  it('each folder looked in, the 404 of the origin, and the cache to copy the file to', async () => {
    const error = await locateDataFile(IMDB_NPZ, { origin, alsoIn: [join(home(), 'elsewhere')] }).catch((e) => e);
    const cache = join(home(), '.keras', 'datasets', 'imdb.npz');
    expect(error.message).toContain(`looked at $IMDB_NPZ: not set; ${join(home(), 'elsewhere', 'imdb.npz')}: no such file; ${cache}: no such file; `);
    expect(error.message).toContain(`download ${origin}imdb.npz: HTTP 404 Not Found.`);
    expect(error.message.endsWith(`, or copy it to ${cache}.`)).toBe(true);
  });

  it('an origin that refuses the connection is named by its cause, not as a bare "fetch failed"', async () => {
    // A port that was just free: nothing listens there.
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((done) => closed.close(() => done()));
    const error = await locateDataFile(IMDB_NPZ, { origin: `http://127.0.0.1:${port}/` }).catch((e) => e);
    expect(error.message).toContain(`download http://127.0.0.1:${port}/imdb.npz: connect ECONNREFUSED`);
  });
});

describe('downloads checked by md5, as Keras publishes the word index', () => {
  const md5 = createHash('md5').update(WORDS).digest('hex');

  it('a hash of 32 hex digits is an md5, and the file is cached', async () => {
    const path = await locateDataFile({ ...IMDB_WORD_INDEX, hash: md5 }, { origin, cacheDir: join(home(), 'cache') });
    expect(path).toBe(join(home(), 'cache', 'imdb_word_index.json'));
    expect(readFileSync(path, 'utf8')).toBe(WORDS);
  });

  it('names md5 in a mismatch', async () => {
    const error = await locateDataFile({ ...IMDB_WORD_INDEX, hash: '0'.repeat(32) }, { origin }).catch((e) => e);
    expect(error.message).toContain(`md5 mismatch (expected ${'0'.repeat(32)}, found ${md5})`);
  });
});

describe('readRegularFile', () => {
  it('takes a file of exactly the size limit', async () => {
    const size = readFileSync(MINI).length;
    expect((await readRegularFile(MINI, size)).length).toBe(size);
    await expect(readRegularFile(MINI, size - 1)).rejects.toThrow(`expected at most ${size - 1} bytes, found ${size} bytes`);
  });

  it('names the error code of a missing file', async () => {
    await expect(readRegularFile(join(home(), 'missing'), 100)).rejects.toThrow(new DataFileError('cannot read: ENOENT', { file: join(home(), 'missing') }));
  });

  it.skipIf(process.platform !== 'linux')('names the error code of a read that fails after stat (/proc/self/mem: EIO)', async () => {
    await expect(readRegularFile('/proc/self/mem', 1 << 20)).rejects.toThrow(/^\/proc\/self\/mem: cannot read: EIO$/);
  });
});
