/** What the Node benchmarks keep of a tutorial run, and of the machine it ran on. */
import { cpus, totalmem } from 'node:os';
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
