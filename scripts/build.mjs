// Bundles the command line and the Node benchmarks with esbuild into dist/.
// `webgpu` (Dawn's native addon) stays external: it is loaded from node_modules.
import { build } from 'esbuild';

await build({
  entryPoints: { cli: 'src/cli.ts', 'bench/load-data': 'bench/load-data.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  external: ['webgpu'],
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
});
