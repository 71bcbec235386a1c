/**
 * The bench pages' static server never dies on a request: malformed percent-encoding,
 * NUL bytes, traversal (plain, encoded, doubled), oversized URLs and headers, garbage on the
 * socket and a file that fails to read are each answered (400, 403, 404, 431, 500), and the
 * server still serves afterwards.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type StaticServer } from '../bench/server.js';

const dir = mkdtempSync(join(tmpdir(), 'shadergrad-server-'));
const root = join(dir, 'root');
let server: StaticServer;

beforeAll(async () => {
  mkdirSync(join(root, 'sub'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<p>ok</p>');
  writeFileSync(join(dir, 'secret.txt'), 'secret');
  writeFileSync(join(root, 'big.js'), 'x'.repeat(3_000_001));
  // A regular file whose read fails (EIO at offset 0): the server's own memory file.
  const unreadable = '/proc/self/mem';
  server = await startServer({ root, files: { '/data/broken.npz': unreadable, '/data/gone.npz': join(dir, 'gone.npz') } });
});
afterAll(() => server.close());

/** Sends `path` exactly as given (no URL normalisation), with optional extra headers. */
function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const { port } = new URL(server.url);
  return new Promise((done, failed) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c) => (body += c)).on('end', () => done({ status: res.statusCode!, body }));
    });
    req.on('error', failed);
    req.end();
  });
}

/** Raw bytes on a socket; resolves with what came back before the server closed it. */
function raw(text: string): Promise<string> {
  const { port } = new URL(server.url);
  return new Promise((done) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.end(text));
    let reply = '';
    socket.setEncoding('utf8').on('data', (c) => (reply += c)).on('close', () => done(reply)).on('error', () => done(reply));
  });
}

describe('bench server: every request is answered and the server survives', () => {
  // Traversal is answered 403 (outside the root) or 404 (normalised back inside it): never the file.
  const OUTSIDE = [403, 404];
  it.each([
    ['/%', [400]],
    ['/%E0%A4%A', [400]],
    ['/%zz', [400]],
    ['/a%00b', [400]],
    ['/../secret.txt', OUTSIDE],
    ['/..%2fsecret.txt', OUTSIDE],
    ['/%2e%2e/secret.txt', OUTSIDE],
    ['/%2e%2e%2f%2e%2e%2fetc%2fpasswd', OUTSIDE],
    ['/sub/..%2f..%2fsecret.txt', OUTSIDE],
    ['/%252e%252e/secret.txt', [404]],
    ['/..\\..\\secret.txt', OUTSIDE],
    ['//etc/passwd', [404]],
    ['/sub', [404]],
    ['/nope.html', [404]],
    ['/data/gone.npz', [404]],
    ['/data/broken.npz', [500]],
    ['a 100,000-character path', [431]],
  ])('%s answers %j', async (label, statuses) => {
    const path = label.startsWith('/') ? label : '/' + 'a'.repeat(100_000);
    const reply = await get(path);
    expect(statuses).toContain(reply.status);
    expect(reply.body).not.toContain('secret');
    expect((await get('/')).body).toBe('<p>ok</p>');
  });

  it('oversized headers and garbage on the socket are answered and closed', async () => {
    await expect(get('/', { 'x-big': 'b'.repeat(100_000) })).resolves.toMatchObject({ status: 431 });
    expect(await raw('NOT HTTP AT ALL\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect(await raw('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect((await get('/')).body).toBe('<p>ok</p>');
  });

  it('a file of several chunks is still served whole, with its type', async () => {
    const { port } = new URL(server.url);
    const response = await fetch(`http://127.0.0.1:${port}/big.js`);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await response.text()).length).toBe(3_000_001);
  });

  it('a hundred malformed requests at once leave it serving', async () => {
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => get(i % 2 ? '/%' : '/..%2f..%2fsecret.txt')));
    expect(new Set(replies.map((r) => r.status))).toEqual(new Set([400, 404]));
    expect((await get('/index.html')).status).toBe(200);
  });
});
