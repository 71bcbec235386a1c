/**
 * A small static server for the bench pages, on 127.0.0.1 only (a secure
 * context, so navigator.gpu exists): `root` is served as is, and `files` maps
 * extra URL paths (`/data/imdb.npz`) to local files, so a page can be given the
 * dataset without copying it.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
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

/** A short plain-text answer; the path is never echoed (it may be anything a client sent). */
function answer(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(text.slice(0, 200));
}

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

export async function startServer(options: { root: string; files?: Record<string, string>; port?: number }): Promise<StaticServer> {
  const root = resolve(options.root);
  const files = options.files ?? {};
  const server: Server = createServer((req, res) => {
    // Nothing a request does may end the server (and with it a whole bench run): every
    // failure is answered, 400 for a request that cannot be a path, 500 for a read error.
    try {
      serve(req.url ?? '/', res);
    } catch (error) {
      answer(res, 500, `cannot serve: ${(error as Error).message}`);
    }
  });
  const serve = (url: string, res: ServerResponse): void => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(url, 'http://localhost').pathname);
    } catch {
      return answer(res, 400, 'malformed URL');
    }
    if (path.includes('\0')) return answer(res, 400, 'malformed URL');
    const file = Object.hasOwn(files, path) ? files[path] : join(root, normalize(path === '/' ? '/index.html' : path));
    // Nothing outside the root, except the files named explicitly.
    if (!Object.hasOwn(files, path) && !resolve(file).startsWith(root + sep)) return answer(res, 403, 'forbidden');
    const info = statSync(file, { throwIfNoEntry: false });
    if (!info?.isFile()) return answer(res, 404, 'not found');
    // The status is sent with the first bytes read, so a read that fails at once is answered 500;
    // one that fails later can only cut the response short.
    const stream = createReadStream(file);
    const start = () => res.headersSent || res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    stream.once('error', (error) => (res.headersSent ? res.destroy(error) : answer(res, 500, `cannot read: ${error.message}`)));
    stream.on('data', (chunk) => {
      start();
      if (!res.write(chunk)) {
        stream.pause();
        res.once('drain', () => stream.resume());
      }
    });
    stream.once('end', () => {
      start();
      res.end();
    });
    res.once('close', () => stream.destroy());
  };
  // A request the HTTP parser refuses (oversized headers, garbage) is answered and closed, never thrown.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\n\r\n`);
    else socket.destroy();
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
