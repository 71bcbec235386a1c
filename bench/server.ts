/**
 * A small static server for the bench pages, on 127.0.0.1 only (a secure
 * context, so navigator.gpu exists): `root` is served as is, and `files` maps
 * extra URL paths (`/data/imdb.npz`) to local files, so a page can be given the
 * dataset without copying it.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.npz': 'application/octet-stream',
};

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

export async function startServer(options: { root: string; files?: Record<string, string>; port?: number }): Promise<StaticServer> {
  const root = resolve(options.root);
  const files = options.files ?? {};
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    const file = files[path] ?? join(root, normalize(path === '/' ? '/index.html' : path));
    // Nothing outside the root, except the files named explicitly.
    if (!(path in files) && !resolve(file).startsWith(root + sep)) return res.writeHead(403).end();
    if (!existsSync(file) || !statSync(file).isFile()) return res.writeHead(404).end(`not found: ${path}`);
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((done, failed) => {
    server.once('error', failed);
    server.listen(options.port ?? 0, '127.0.0.1', done);
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    // The browser keeps connections open (keep-alive, streams it stopped reading): end
    // them, or close() waits for them to time out, which took minutes here.
    close: () =>
      new Promise((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}
