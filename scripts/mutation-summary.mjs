#!/usr/bin/env node
// Summarises StrykerJS's report (reports/mutation/mutation.json, ignored by git) into
// bench/results/stryker-mutation.json: the score per file and in all, and every surviving mutant,
// so that the README's score has its data beside it. `npm run test:mutation [-- stryker flags]` runs
// `stryker run` with the flags (e.g. `--mutate src/data/sequences.ts`), then this summary.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const REPORT = join(ROOT, 'reports', 'mutation', 'mutation.json');
const SUMMARY = join(ROOT, 'bench', 'results', 'stryker-mutation.json');

/** Stryker's score: detected (killed, timed out) over detected + undetected (survived, no coverage). */
function tally(mutants) {
  const count = (...statuses) => mutants.filter((m) => statuses.includes(m.status)).length;
  const detected = count('Killed', 'Timeout');
  const undetected = count('Survived', 'NoCoverage');
  return {
    mutants: mutants.length,
    killed: count('Killed'),
    timedOut: count('Timeout'),
    survived: count('Survived'),
    noCoverage: count('NoCoverage'),
    compileErrors: count('CompileError'),
    ignored: count('Ignored'),
    score: detected + undetected ? detected / (detected + undetected) : null,
  };
}

export function summarise(report, seconds) {
  const files = Object.entries(report.files).map(([path, file]) => ({ path, ...tally(file.mutants) }));
  const all = Object.values(report.files).flatMap((f) => f.mutants);
  const survivors = Object.entries(report.files).flatMap(([path, file]) =>
    file.mutants
      .filter((m) => m.status === 'Survived' || m.status === 'NoCoverage')
      .map((m) => ({ at: `${path}:${m.location.start.line}:${m.location.start.column}`, status: m.status, mutator: m.mutatorName, replacement: m.replacement })),
  );
  return {
    benchmark: 'StrykerJS mutation testing (stryker.config.mjs), incremental',
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model.trim(), cores: cpus().length, memoryGB: Math.round(totalmem() / 2 ** 30) },
    ...(seconds !== undefined ? { seconds } : {}),
    total: tally(all),
    files,
    survivors,
  };
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  let seconds;
  if (process.argv[2] === '--run') {
    const started = performance.now();
    const stryker = spawnSync(join(ROOT, 'node_modules', '.bin', 'stryker'), ['run', ...process.argv.slice(3)], { cwd: ROOT, stdio: 'inherit' });
    if (stryker.status !== 0) process.exit(stryker.status ?? 1);
    seconds = (performance.now() - started) / 1000;
  }
  const summary = summarise(JSON.parse(readFileSync(REPORT, 'utf8')), seconds);
  writeFileSync(SUMMARY, `${JSON.stringify(summary, null, 2)}\n`);
  const pct = summary.total.score === null ? 'n/a' : `${(100 * summary.total.score).toFixed(1)}%`;
  console.log(`StrykerJS: ${pct} over ${summary.files.length} files (${summary.total.survived} survived, ${summary.total.noCoverage} without coverage); ${SUMMARY}`);
}
