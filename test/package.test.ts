/**
 * The package as a user gets it: `npm pack` (its `prepack` builds the bundles and the
 * declarations), installed from the tarball into an empty folder, then its command line,
 * a short training run, and TypeScript consumers compiled with `tsc --strict` against the
 * packed declarations (Node and browser entry points).
 *
 * Offline: the tarball's dependencies are linked from this checkout's node_modules before
 * `npm install --offline`; npm then finds them satisfied and fetches nothing.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '..');
const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
const scratch = mkdtempSync(join(tmpdir(), 'sg-package-'));
const consumer = join(scratch, 'consumer');
const installed = join(consumer, 'node_modules', 'shadergrad');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function linkFromRepo(name: string): void {
  const target = join(consumer, 'node_modules', name);
  mkdirSync(dirname(target), { recursive: true });
  if (!existsSync(target)) symlinkSync(join(repo, 'node_modules', name), target);
}

function run(command: string, args: string[], cwd = consumer): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Compiles `source` in the consumer folder with tsc --strict; returns tsc's output ('' when clean). */
function compile(name: string, source: string, compilerOptions: Record<string, unknown>): string {
  const dir = join(consumer, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'index.ts'), source);
  const options = { strict: true, target: 'es2022', noEmit: true, skipLibCheck: false, ...compilerOptions };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: options, files: ['index.ts'] }));
  const result = run(process.execPath, [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir]);
  return (result.stdout + result.stderr).trim();
}

beforeAll(() => {
  mkdirSync(consumer, { recursive: true });
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', scratch], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
  const tarball = join(scratch, packed[0].filename);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
  for (const name of Object.keys(manifest.dependencies)) linkFromRepo(name);
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: consumer, stdio: 'pipe' });
  // Type packages for the consumers; linked after the install, which prunes what package.json does not list.
  linkFromRepo('@types/node');
}, 600_000);

describe('the packed package', () => {
  it('ships declarations for both entry points and names them in exports', () => {
    const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    expect(pkg.exports['.'].types).toBe('./dist/node.d.ts');
    expect(pkg.exports['.'].browser.types).toBe('./dist/shadergrad.d.ts');
    for (const file of ['dist/node.d.ts', 'dist/shadergrad.d.ts', 'dist/types/node.d.ts', 'dist/types/index.d.ts', 'dist/node.js', 'dist/shadergrad.js', 'dist/cli.js']) {
      expect(existsSync(join(installed, file)), file).toBe(true);
    }
    // The library and the command line only: the benchmarks and bench pages stay in the repository.
    expect(existsSync(join(installed, 'dist', 'bench'))).toBe(false);
    expect(existsSync(join(installed, 'dist', 'pages'))).toBe(false);
  });

  it('has no unused dependency: each is imported by the code or named by the declarations', () => {
    expect(Object.keys(manifest.dependencies)).not.toContain('wgpu-matrix');
    const sources = readdirSync(join(repo, 'src'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => readFileSync(join(repo, 'src', f), 'utf8'))
      .join('\n');
    const declarations = readFileSync(join(installed, 'dist', 'node.d.ts'), 'utf8');
    for (const name of Object.keys(manifest.dependencies)) {
      const quoted = new RegExp(`['"]${name.replace(/[/.]/g, '\\$&')}['"]`);
      expect(quoted.test(sources) || quoted.test(declarations), `${name} is used`).toBe(true);
    }
  });

  it('npx shadergrad --help works from the install', () => {
    const help = run('npx', ['--offline', '--no-install', 'shadergrad', '--help']);
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: shadergrad <command>/);
  });

  const npz = process.env.IMDB_NPZ || join(repo, '..', 'shared', 'data', 'imdb.npz');
  const haveData = existsSync(npz);
  if (!haveData && process.env.CI === 'true') it('a short training run', () => expect.fail(`imdb.npz not found at ${npz}; CI must have it`));
  if (!haveData && process.env.CI !== 'true') console.log(`package.test: skipping the training run: ${npz} not found`);
  it.runIf(haveData)('trains one epoch from the install, quietly (no Vulkan warning on a machine without a GPU)', () => {
    const out = join(scratch, 'train-out');
    const train = run('npx', ['--offline', '--no-install', 'shadergrad', 'train', '--epochs', '1', '--data', npz, '--out', out]);
    expect(train.status, train.stderr).toBe(0);
    expect(existsSync(join(out, 'history.json'))).toBe(true);
    const output = train.stdout + train.stderr;
    expect(output).toMatch(/^Using .+\((.+, )?(dawn-default|dawn-swiftshader), (software|hardware)\)/m);
    expect(output).not.toMatch(/Vulkan shaderUniform/);
  }, 300_000);

  it('a Node consumer compiles with tsc --strict against the packed declarations', () => {
    const source = `
import { TextVectorization, Sequential, getDevice, formatAdapter, textDatasetFromDirectory, loadData, type TokenIds, type TextDataset } from 'shadergrad';
const layer = new TextVectorization({ maxTokens: 100, outputSequenceLength: 4 });
layer.adapt(['a b c']);
const ids: TokenIds = layer.call(['a b']);
const width: number = ids.shape[1];
const load: (dir: string) => Promise<TextDataset> = (dir) => textDatasetFromDirectory(dir, { seed: 1 });
export { width, load, getDevice, formatAdapter, Sequential, loadData };
`;
    expect(compile('node-consumer', source, { module: 'nodenext', moduleResolution: 'nodenext', types: ['node'] })).toBe('');
  }, 120_000);

  it('a browser consumer resolves the browser declarations', () => {
    const source = `
import { TextVectorization, parseTextTable, getDevice } from 'shadergrad';
const table = parseTextTable('text,label\\na,0\\nb,1\\n', 'csv');
const layer = new TextVectorization();
layer.adapt(table.texts);
export { layer, getDevice };
`;
    expect(compile('browser-consumer', source, { module: 'esnext', moduleResolution: 'bundler', customConditions: ['browser'], lib: ['es2022', 'dom'], types: [] })).toBe('');
    // Node-only functions are not in the browser entry's declarations.
    const nodeOnly = compile('browser-consumer-node-only', `import { textDatasetFromDirectory } from 'shadergrad';\nexport { textDatasetFromDirectory };\n`, {
      module: 'esnext',
      moduleResolution: 'bundler',
      customConditions: ['browser'],
      lib: ['es2022', 'dom'],
      types: [],
    });
    expect(nodeOnly).toMatch(/has no exported member 'textDatasetFromDirectory'/);
  }, 120_000);

  it('the declarations are real types: a wrong use does not compile', () => {
    const output = compile('wrong-consumer', `import { TextVectorization } from 'shadergrad';\nconst size: string = new TextVectorization().vocabularySize();\nexport { size };\n`, {
      module: 'nodenext',
      moduleResolution: 'nodenext',
      types: ['node'],
    });
    expect(output).toMatch(/Type 'number' is not assignable to type 'string'/);
  }, 120_000);
});
