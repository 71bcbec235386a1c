/** What the Node benchmarks keep of a tutorial run, of a timed child process, and of the machine they ran on. */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import type { TutorialResult } from '../src/runner/train.js';
import { median } from './stats.js';

export function summariseRun(path: string, run: TutorialResult) {
  return {
    path,
    test: run.test,
    final: Object.fromEntries(Object.entries(run.history).map(([k, v]) => [k, v[v.length - 1]])),
    seconds: run.seconds,
    medianEpochSeconds: median(run.epochSeconds),
    epochSeconds: run.epochSeconds,
    gpuMemory: run.gpuMemory,
  };
}

export function machine() {
  return { cpu: cpus()[0]?.model, cores: cpus().length, memoryGB: Math.round(totalmem() / 2 ** 30) };
}

/**
 * Run `command` to its exit, timed from its start (what a user waits), with the load average
 * just before; a failure throws with the end of its output.
 */
export function timedProcess(command: string, args: string[]): { wallSeconds: number; stdout: string; loadAverageBefore: number[] } {
  const loadAverageBefore = loadavg();
  const started = performance.now();
  const child = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 256 * 2 ** 20 });
  const wallSeconds = (performance.now() - started) / 1000;
  if (child.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${child.status}:\n${(child.stderr || child.stdout).slice(-2000)}`);
  return { wallSeconds, stdout: child.stdout, loadAverageBefore };
}
