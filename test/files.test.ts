import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataFileError, DataNotFoundError } from '../src/data/errors.js';
import { getWordIndex, IMDB_NPZ, loadData, locateDataFile, readRegularFile, type DataFileSpec } from '../src/data/files.js';
import { FIXTURES, useTemporaryKerasHome } from './helpers.js';

const MINI = join(FIXTURES, 'npz', 'mini.npz');
const home = useTemporaryKerasHome('shadergrad-files-');

// A local origin standing in for Keras' bucket: serves the fixtures folder, counts requests.
let server: Server;
let origin: string;
let requests: string[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url!);
    const path = join(FIXTURES, 'npz', req.url!.slice(1));
    if (!existsSync(path)) return res.writeHead(404).end();
    res.writeHead(200).end(readFileSync(path));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((done) => server.close(() => done())));

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const miniSpec = (hash = sha256(MINI)): DataFileSpec => ({ fileName: 'mini.npz', envVar: 'IMDB_NPZ', hash });

describe('locateDataFile looks where Keras users expect, in order', () => {
  it('an explicit path wins over $IMDB_NPZ and the cache', async () => {
    process.env.IMDB_NPZ = '/nonexistent/imdb.npz';
    expect(await locateDataFile(IMDB_NPZ, { path: MINI })).toBe(MINI);
  });

  it('then $IMDB_NPZ, then ~/.keras/datasets', async () => {
    process.env.IMDB_NPZ = MINI;
    expect(await locateDataFile(IMDB_NPZ)).toBe(MINI);
    delete process.env.IMDB_NPZ;
    const cached = join(home(), '.keras', 'datasets', 'imdb.npz');
    mkdirSync(join(home(), '.keras', 'datasets'), { recursive: true });
    copyFileSync(MINI, cached);
    expect(await locateDataFile(IMDB_NPZ, { origin })).toBe(cached);
    expect(requests).toEqual([]);
  });

  it('a named path that does not exist is an error, never replaced by another file', async () => {
    process.env.IMDB_NPZ = join(home(), 'missing.npz');
    await expect(locateDataFile(IMDB_NPZ, { origin })).rejects.toThrow(/\$IMDB_NPZ: .*missing\.npz \(no such file\)/);
    await expect(locateDataFile(IMDB_NPZ, { path: 'nope.npz', origin })).rejects.toBeInstanceOf(DataNotFoundError);
  });

  it('downloads into the cache atomically, checking the hash', async () => {
    requests = [];
    const path = await locateDataFile(miniSpec(), { origin });
    expect(path).toBe(join(home(), '.keras', 'datasets', 'mini.npz'));
    expect(sha256(path)).toBe(sha256(MINI));
    expect(requests).toEqual(['/mini.npz']);
    expect(readdirSync(join(home(), '.keras', 'datasets'))).toEqual(['mini.npz']);
  });

  it('a download with the wrong hash is refused and nothing is cached', async () => {
    const error = await locateDataFile(miniSpec('0'.repeat(64)), { origin }).catch((e) => e);
    expect(error).toBeInstanceOf(DataNotFoundError);
    expect(error.message).toMatch(/sha256 mismatch/);
    expect(existsSync(join(home(), '.keras', 'datasets', 'mini.npz'))).toBe(false);
  });

  it('offline: the error lists every place it looked and how to point at a file', async () => {
    const error = await locateDataFile(IMDB_NPZ, { origin: 'http://127.0.0.1:9/' }).catch((e) => e);
    expect(error).toBeInstanceOf(DataNotFoundError);
    expect(error.message).toMatch(/\$IMDB_NPZ: not set/);
    expect(error.message).toContain(join(home(), '.keras', 'datasets', 'imdb.npz'));
    expect(error.message).toMatch(/download http:\/\/127\.0\.0\.1:9\/imdb\.npz: /);
    expect(error.message).toMatch(/--data PATH/);
    expect(error.message).toMatch(/IMDB_NPZ=\/path\/to\/imdb\.npz/);
    expect(error.message).not.toContain('\n'); // one line, as the command line prints it
  });
});

describe('loadData and getWordIndex in Node', () => {
  it('loadData finds the file through $IMDB_NPZ and parses it', async () => {
    process.env.IMDB_NPZ = MINI;
    const [[xTrain, yTrain], [xTest]] = await loadData({ numWords: 20 });
    expect([xTrain.length, yTrain.length, xTest.length]).toEqual([9, 9, 6]);
  });

  it('getWordIndex looks beside $IMDB_NPZ', async () => {
    const dir = join(home(), 'data');
    mkdirSync(dir);
    copyFileSync(MINI, join(dir, 'imdb.npz'));
    writeFileSync(join(dir, 'imdb_word_index.json'), '{"the": 1, "film": 2}');
    process.env.IMDB_NPZ = join(dir, 'imdb.npz');
    const index = await getWordIndex({ origin: 'http://127.0.0.1:9/' });
    expect([...index]).toEqual([['the', 1], ['film', 2]]);
  });
});

describe('only regular files are read, and an empty path is not "no path"', () => {
  it('an empty path is refused, never replaced by $IMDB_NPZ or the cache', async () => {
    process.env.IMDB_NPZ = MINI;
    await expect(locateDataFile(miniSpec(), { path: '' })).rejects.toThrow(/the given path is empty/);
    await expect(loadData({ path: '' })).rejects.toBeInstanceOf(DataNotFoundError);
  });

  it('a directory, /dev/zero and a file over the size limit are refused before any read, with one line', async () => {
    await expect(loadData({ path: FIXTURES })).rejects.toThrow(/fixtures: is a directory, not a file/);
    await expect(loadData({ path: '/dev/zero' })).rejects.toThrow(/^\/dev\/zero: is not a regular file \(a device, pipe or socket\)$/);
    await expect(getWordIndex({ path: '/dev/zero' })).rejects.toBeInstanceOf(DataFileError);
    await expect(readRegularFile(MINI, 100)).rejects.toThrow(/mini\.npz: is too large to read \(expected at most 100 bytes, found \d+ bytes\)/);
    expect((await readRegularFile(MINI, 1 << 20)).length).toBeGreaterThan(100);
  });
});
