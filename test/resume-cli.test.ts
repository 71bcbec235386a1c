/**
 * `shadergrad train` killed with SIGKILL mid-run, then `--resume`d, ends with the same weights
 * file, byte for byte, as an uninterrupted run with the same seed. On the full imdb.npz, when
 * $IMDB_NPZ points at it (CI sets it).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from '../src/nn/backup.js';
import type { CallbackModel } from '../src/nn/callbacks.js';
import { TrainingError, type Sequential } from '../src/nn/model.js';
import { trainTutorial } from '../src/runner/train.js';
import { fullDataset } from './helpers.js';

const data = fullDataset('test/resume-cli.test.ts (train --resume after a kill)');
const dir = mkdtempSync(join(tmpdir(), 'shadergrad-resume-'));
mkdirSync('node_modules/.cache', { recursive: true });
const cli = join(mkdtempSync('node_modules/.cache/shadergrad-resume-'), 'cli.mjs');
const EPOCHS = '6';

beforeAll(async () => {
  await build({ entryPoints: ['src/cli.ts'], outfile: cli, bundle: true, platform: 'node', format: 'esm', external: ['webgpu'], loader: { '.wgsl': 'text' }, logLevel: 'error' });
});

const args = (out: string, ...more: string[]) => [cli, 'train', '--data', data!, '--epochs', EPOCHS, '--out', out, ...more];

function train(out: string, ...more: string[]) {
  const result = spawnSync(process.execPath, args(out, ...more), { encoding: 'utf8', timeout: 300_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe.skipIf(!data)('train --resume after a kill ($IMDB_NPZ)', () => {
  it('a run killed after its first checkpoint, resumed, ends with the same weights as an uninterrupted run', async () => {
    const whole = join(dir, 'whole');
    expect(train(whole).code).toBe(0);

    const broken = join(dir, 'broken');
    const checkpoint = join(broken, 'checkpoint.sgw');
    const child = spawn(process.execPath, args(broken), { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    const deadline = Date.now() + 120_000;
    while (!existsSync(checkpoint) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    // The checkpoint is whole (written then renamed), and the run was cut short.
    const shapes = [[10000, 16], [16, 16], [16], [16, 1], [1]];
    const params = { epochs: 6, batchSize: 512, samples: 15000, steps: 30, shuffle: true, seed: 0 };
    const { state } = readCheckpoint(new Uint8Array(readFileSync(checkpoint)), checkpoint, shapes, params, ['momentum', 'velocity']);
    expect(state.epoch).toBeGreaterThanOrEqual(1);
    expect(state.epoch).toBeLessThan(6);
    expect(existsSync(join(broken, 'weights.sgw'))).toBe(false);

    // Without --resume the checkpoint is not overwritten; with it, the run goes on to the end.
    const again = train(broken);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/checkpoint\.sgw holds an earlier run: pass --resume/);
    const resumed = train(broken, '--resume');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(new RegExp(`Restored .*checkpoint\\.sgw: ${state.epoch} of 6 epochs done, going on from epoch ${state.epoch + 1}`));

    expect(readFileSync(join(broken, 'weights.sgw')).equals(readFileSync(join(whole, 'weights.sgw')))).toBe(true);
    const history = (out: string) => JSON.parse(readFileSync(join(out, 'history.json'), 'utf8'));
    expect(history(broken).history).toEqual(history(whole).history);
    expect(history(broken).test).toEqual(history(whole).test);
    expect(readdirSync(broken).filter((f) => f.includes('.partial-'))).toEqual([]);
    // A completed run leaves no checkpoint behind, so the next run in the folder starts afresh.
    expect(existsSync(checkpoint)).toBe(false);
    expect(existsSync(join(whole, 'checkpoint.sgw'))).toBe(false);
  });

  it('a device lost mid-run ends with the epoch, the step and where the last checkpoint is; --resume finishes', async () => {
    const out = join(dir, 'lost');
    let model: CallbackModel | null = null;
    const loseDevice = {
      onTrainBegin: (m: CallbackModel) => void (model = m),
      onEpochEnd: (epoch: number) => {
        if (epoch === 1) (model as Sequential).weights[0].tensor.gpu.device.destroy();
      },
    };
    const quiet = { data, epochs: 3, out, log: () => {} };
    const error = await trainTutorial({ ...quiet, jitCompile: false, callbacks: [loseDevice] }).catch((e) => e);
    expect(error).toBeInstanceOf(TrainingError);
    expect(error.message).toMatch(/GPU failure at epoch 3, step 1: .*lost.*Nothing is half-written: the last checkpoint \(after epoch 2 of 3\) is .*checkpoint\.sgw: run again with --resume/);
    const resumed = await trainTutorial({ ...quiet, resume: true });
    expect(resumed.history.loss).toHaveLength(3);
    expect(resumed.test.accuracy).toBeGreaterThan(0.5);
  });

  it('--resume with no checkpoint says so', () => {
    const { code, stderr } = train(join(dir, 'empty'), '--resume');
    expect(code).toBe(1);
    expect(stderr).toMatch(/CheckpointError: .*checkpoint\.sgw: no checkpoint to resume from/);
  });
});
