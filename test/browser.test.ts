/**
 * The browser side: the library bundle loads in headless Chromium (Debian's, or
 * $CHROME_PATH), gets a GPUDevice through navigator.gpu (SwiftShader without a
 * GPU) and parses an npz fetched from the page's server.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Browser } from 'puppeteer';
import { launchBrowser } from '../bench/headless.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, fixtureJson } from './helpers.js';

const PAGE_TIMEOUT_MS = 60_000;

const PAGE = `<!doctype html><meta charset="utf-8"><title>shadergrad test</title>
<script type="module">
  import { getDevice, imdbFromNpz, NoWebGPUError, Gpu, Sequential, Embedding, GlobalAveragePooling1D, Dense } from '/shadergrad.js';
  try {
    const npz = new Uint8Array(await (await fetch('/mini.npz')).arrayBuffer());
    const [[xTrain, yTrain], [xTest]] = imdbFromNpz(npz, { numWords: 20 });
    const data = { xTrain: xTrain.toArrays(), yTrain: Array.from(yTrain), testCount: xTest.length };
    let gpu;
    try {
      const { device, report } = await getDevice();
      gpu = { report, maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize };
      device.destroy();
    } catch (e) {
      gpu = { error: e.name, message: e.message, typed: e instanceof NoWebGPUError };
    }
    let training = null;
    if (!gpu.error) {
      // The engine in the browser: a tiny model, two epochs on the fixture, padded to 12.
      const device = await Gpu.create();
      const steps = 12;
      const x = new Int32Array(xTrain.length * steps);
      xTrain.toArrays().forEach((row, i) => x.set(row.slice(0, steps), i * steps));
      const model = new Sequential([new Embedding(20, 4), new GlobalAveragePooling1D(), new Dense(1, { activation: 'sigmoid' })]);
      model.build(device, [steps], { seed: 1 });
      model.compile();
      const lines = [];
      const history = await model.fit({ data: x, shape: [xTrain.length, steps] }, yTrain, { epochs: 2, batchSize: 4, output: { write: (t) => lines.push(t) } });
      training = { loss: history.history.loss, lines };
      device.device.destroy();
    }
    window.__result = { data, gpu, training };
  } catch (e) {
    window.__result = { failure: String(e && e.stack || e) };
  }
</script>`;

let server: Server;
let port: number;
let browser: Browser;
let bundle: string;

beforeAll(async () => {
  const built = await build({
    entryPoints: ['src/index.ts'],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    external: ['webgpu', 'node:*'],
    loader: { '.wgsl': 'text' },
    write: false,
    logLevel: 'error',
  });
  bundle = built.outputFiles[0].text;
  const routes: Record<string, [string, string | Buffer]> = {
    '/': ['text/html', PAGE],
    '/shadergrad.js': ['text/javascript', bundle],
    // Deflated members: the browser inflates with fflate.
    '/mini.npz': ['application/octet-stream', readFileSync(join(FIXTURES, 'npz', 'mini_compressed.npz'))],
  };
  server = createServer((req, res) => {
    const route = routes[req.url ?? ''];
    if (!route) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': route[0] }).end(route[1]);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  port = (server.address() as AddressInfo).port;
  // An origin that is not a secure context, for the no-WebGPU case.
  browser = await launchBrowser(undefined, ['--host-resolver-rules=MAP insecure.test 127.0.0.1']);
});

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((done) => (server ? (server.close(() => done()), server.closeAllConnections()) : done()));
});

async function runPage(origin: string) {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  try {
    await page.goto(`${origin}/`, { timeout: PAGE_TIMEOUT_MS });
    await page.waitForFunction('window.__result !== undefined', { timeout: PAGE_TIMEOUT_MS });
    const result = await page.evaluate('window.__result');
    return { result: result as any, errors };
  } finally {
    await page.close();
  }
}

describe('in a WebGPU browser', () => {
  it('gets a device through navigator.gpu and parses an npz', async () => {
    const { result, errors } = await runPage(`http://127.0.0.1:${port}`);
    expect(errors).toEqual([]);
    expect(result.failure).toBeUndefined();
    const want = fixtureJson('npz', 'expected.json').keras.num_words_20;
    expect(result.data).toEqual({ xTrain: want.x_train, yTrain: want.y_train, testCount: want.x_test.length });
    expect(result.gpu.error).toBeUndefined();
    expect(result.gpu.report.backend).toBe('browser');
    expect(result.gpu.maxStorageBufferBindingSize).toBe(result.gpu.report.limits.maxStorageBufferBindingSize);
    expect(result.training.loss).toHaveLength(2);
    expect(result.training.loss.every(Number.isFinite)).toBe(true);
    expect(result.training.lines.join('')).toMatch(/Epoch 2\/2\n3\/3 ━+ .* - loss: \d\.\d{4}/);
  });

  it('outside a secure context, says there is no WebGPU and how to fix it', async () => {
    const { result } = await runPage(`http://insecure.test:${port}`);
    expect(result.failure).toBeUndefined();
    expect(result.gpu).toMatchObject({ error: 'NoWebGPUError', typed: true });
    expect(result.gpu.message).toMatch(/navigator\.gpu: missing \(secure context: false\)/);
    expect(result.gpu.message).toMatch(/serve the page\s+from http:\/\/localhost or https/);
  });
});
