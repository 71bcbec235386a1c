// Bundles shadergrad with esbuild into dist/: the browser library, the Node
// library, the command line, the Node benchmarks and the bench pages
// (dist/pages/, with their HTML, CSS and TensorFlow.js' WASM files). `webgpu`
// (Dawn's native addon) and, in browser bundles, `node:*` stay external: they
// sit behind the Node-only branch of src/gpu/device.ts, which a browser never takes.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';

const common = { bundle: true, format: 'esm', sourcemap: true, external: ['webgpu'], loader: { '.wgsl': 'text' }, logLevel: 'warning' };
const browser = { ...common, platform: 'browser', target: 'es2022', external: [...common.external, 'node:*'] };
// A page is an .html with a .ts of the same name (index.html is plain HTML).
const pages = readdirSync('bench/pages').filter((f) => f.endsWith('.html') && existsSync(`bench/pages/${f.replace('.html', '.ts')}`)).map((f) => f.replace('.html', ''));

await Promise.all([
  build({ ...browser, entryPoints: { shadergrad: 'src/index.ts' }, outdir: 'dist' }),
  build({ ...browser, entryPoints: Object.fromEntries(pages.map((p) => [p, `bench/pages/${p}.ts`])), outdir: 'dist/pages' }),
  build({
    ...common,
    entryPoints: {
      node: 'src/node.ts',
      cli: 'src/cli.ts',
      'bench/load-data': 'bench/load-data.ts',
      'bench/train': 'bench/train.ts',
      'bench/profile': 'bench/profile.ts',
      'bench/versus': 'bench/versus.ts',
      'bench/scaling': 'bench/scaling.ts',
      'bench/split': 'bench/split.ts',
      'bench/soak': 'bench/soak.ts',
      'bench/fuzz': 'bench/fuzz.ts',
      'bench/vectorize': 'bench/vectorize.ts',
      'bench/peer': 'bench/peer.ts',
      'bench/recipes': 'bench/recipes.ts',
      'bench/kernels': 'bench/kernels.ts',
      'bench/run': 'bench/run.ts',
      'bench/best-search': 'bench/best-search.ts',
    },
    outdir: 'dist',
    platform: 'node',
    // Puppeteer loads Node's modules with require(): it stays a package, not part of the bundle.
    external: [...common.external, 'puppeteer'],
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
  }),
]);

mkdirSync('dist/pages', { recursive: true });
for (const f of readdirSync('bench/pages')) if (/\.(html|css)$/.test(f)) cpSync(`bench/pages/${f}`, `dist/pages/${f}`);
const wasm = 'node_modules/@tensorflow/tfjs-backend-wasm/dist';
if (existsSync(wasm)) for (const f of readdirSync(wasm)) if (f.endsWith('.wasm')) cpSync(`${wasm}/${f}`, `dist/pages/${f}`);

// `--types` (run by `npm pack` through `prepack`): TypeScript declarations for both entry points,
// dist/node.d.ts and dist/shadergrad.d.ts, over tsc's per-module output in dist/types/. The
// declarations name WebGPU's types (GPUDevice, ...), hence the reference to @webgpu/types.
if (process.argv.includes('--types')) {
  rmSync('dist/types', { recursive: true, force: true });
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.types.json'], { stdio: 'inherit' });
  const entry = (module) => `/// <reference types="@webgpu/types" />\nexport * from './types/${module}.js';\n`;
  writeFileSync('dist/node.d.ts', entry('node'));
  writeFileSync('dist/shadergrad.d.ts', entry('index'));
}
