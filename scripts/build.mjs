// Bundles shadergrad with esbuild into dist/: the browser library, the Node
// library, the command line and the Node benchmarks. `webgpu` (Dawn's native
// addon) and, in the browser bundle, `node:*` stay external: they sit behind the
// Node-only branch of src/gpu/device.ts, which a browser never takes.
import { build } from 'esbuild';

const common = { bundle: true, format: 'esm', sourcemap: true, external: ['webgpu'], loader: { '.wgsl': 'text' }, logLevel: 'warning' };

await Promise.all([
  build({
    ...common,
    entryPoints: { shadergrad: 'src/index.ts' },
    outdir: 'dist',
    platform: 'browser',
    target: 'es2022',
    external: [...common.external, 'node:*'],
  }),
  build({
    ...common,
    entryPoints: { node: 'src/node.ts', cli: 'src/cli.ts', 'bench/load-data': 'bench/load-data.ts', 'bench/train': 'bench/train.ts' },
    outdir: 'dist',
    platform: 'node',
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
  }),
]);
