#!/usr/bin/env node
// Summarises StrykerJS's report (reports/mutation/mutation.json, ignored by git) into
// bench/results/stryker-mutation.json: the score per file and in all, and every surviving mutant,
// so that the README's score has its data beside it. `npm run test:mutation [-- stryker flags]` runs
// `stryker run` with the flags (e.g. `--mutate src/data/sequences.ts`), then this summary, which
// replaces the entries of the files that run mutated (its --mutate patterns; an incremental report
// also carries the incremental file's other files) and keeps the others'. Without --run it
// summarises the last report again: `node scripts/mutation-summary.mjs --mutate <files> [--seconds <s>]`;
// `--merge <summary.json>` joins another checkout's summary to this one (mergeSummaries).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
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

/** A glob as Stryker's `mutate` writes them (`**`, `*`, `?`) as a RegExp. */
const globRegExp = (glob) =>
  new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*\*\//g, '\u0000')
      .replace(/\*\*/g, '\u0001')
      .replace(/\*/g, '[^/]*')
      .replace(/\?/g, '[^/]')
      .replace(/\u0000/g, '(?:.*/)?')
      .replace(/\u0001/g, '.*')}$`,
  );

/** Whether `path` matches Stryker's `mutate` patterns: one without `!`, and none with (a `:lines` range is ignored). */
export function matchesMutate(path, patterns) {
  const matches = (pattern) => globRegExp(pattern.replace(/:\d+(:\d+)?-\d+(:\d+)?$/, '').replace(/^\.\//, '')).test(path);
  return patterns.some((p) => !p.startsWith('!') && matches(p)) && !patterns.some((p) => p.startsWith('!') && matches(p.slice(1)));
}

/** The `--mutate` / `-m` patterns among Stryker's flags, or null when there are none. */
export function mutatePatterns(args) {
  const patterns = [];
  args.forEach((arg, i) => {
    if (arg === '--mutate' || arg === '-m') patterns.push(...(args[i + 1] ?? '').split(','));
    else if (arg.startsWith('--mutate=')) patterns.push(...arg.slice('--mutate='.length).split(','));
  });
  return patterns.length > 0 ? patterns.filter((p) => p !== '') : null;
}

/**
 * The summary after a run: the run's files as its report has them, each earlier file (in `previous`,
 * the summary so far) kept as it was, so that runs over a few modules at a time add up; the total
 * is over every file. `date` and `seconds` are the latest run's, `lastRunFiles` its modules.
 * `mutate` (the run's `--mutate` patterns) limits the run's files to those it mutated: an
 * incremental run's report also carries every other file of the incremental file, with the results
 * it had when that file was written, which may be older than the summary's.
 */
export function summarise(report, seconds, previous = null, mutate = null) {
  const date = new Date().toISOString();
  const reportFiles = Object.fromEntries(Object.entries(report.files).filter(([path]) => !mutate || matchesMutate(path, mutate)));
  report = { ...report, files: reportFiles };
  const ran = Object.keys(report.files);
  const survivorsOf = (path, file) =>
    file.mutants
      .filter((m) => m.status === 'Survived' || m.status === 'NoCoverage')
      .map((m) => ({ at: `${path}:${m.location.start.line}:${m.location.start.column}`, status: m.status, mutator: m.mutatorName, replacement: m.replacement }));
  const kept = (previous?.files ?? []).filter((f) => !ran.includes(f.path));
  const files = [...kept, ...Object.entries(report.files).map(([path, file]) => ({ path, date, ...tally(file.mutants) }))].sort((a, b) => a.path.localeCompare(b.path));
  const survivors = [
    ...(previous?.survivors ?? []).filter((s) => !ran.some((path) => s.at.startsWith(`${path}:`))),
    ...Object.entries(report.files).flatMap(([path, file]) => survivorsOf(path, file)),
  ].sort((a, b) => a.at.localeCompare(b.at, 'en', { numeric: true }));
  return {
    benchmark: 'StrykerJS mutation testing (stryker.config.mjs), incremental; each file as its latest run left it',
    date,
    machine: { cpu: cpus()[0]?.model.trim(), cores: cpus().length, memoryGB: Math.round(totalmem() / 2 ** 30) },
    ...(seconds !== undefined ? { seconds } : {}),
    lastRunFiles: ran,
    total: totalOf(files),
    files,
    survivors,
  };
}

/** The counts over every file, and Stryker's score over them. */
function totalOf(files) {
  const sumOf = (field) => files.reduce((n, f) => n + f[field], 0);
  const [detected, undetected] = [sumOf('killed') + sumOf('timedOut'), sumOf('survived') + sumOf('noCoverage')];
  const total = Object.fromEntries(['mutants', 'killed', 'timedOut', 'survived', 'noCoverage', 'compileErrors', 'ignored'].map((field) => [field, sumOf(field)]));
  return { ...total, score: detected + undetected ? detected / (detected + undetected) : null };
}

/**
 * Two summaries written in separate checkouts (each run there kept the other's files as they were
 * at the fork) as one: each file as its latest run left it, with that run's survivors; the total
 * over them; `date`, `seconds` and `lastRunFiles` the later summary's.
 */
export function mergeSummaries(a, b) {
  const latest = new Map();
  for (const summary of [a, b]) {
    for (const file of summary.files) {
      const held = latest.get(file.path);
      if (!held || (file.date ?? '') > (held.file.date ?? '')) latest.set(file.path, { file, summary });
    }
  }
  const files = [...latest.values()].map(({ file }) => file).sort((x, y) => x.path.localeCompare(y.path));
  const survivors = [...latest.values()]
    .flatMap(({ file, summary }) => summary.survivors.filter((s) => s.at.startsWith(`${file.path}:`)))
    .sort((x, y) => x.at.localeCompare(y.at, 'en', { numeric: true }));
  const later = (b.date ?? '') > (a.date ?? '') ? b : a;
  return { ...later, total: totalOf(files), files, survivors };
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  let seconds;
  if (process.argv[2] === '--run') {
    const started = performance.now();
    const stryker = spawnSync(join(ROOT, 'node_modules', '.bin', 'stryker'), ['run', ...process.argv.slice(3)], { cwd: ROOT, stdio: 'inherit' });
    if (stryker.status !== 0) process.exit(stryker.status ?? 1);
    seconds = (performance.now() - started) / 1000;
  }
  const args = process.argv.slice(process.argv[2] === '--run' ? 3 : 2);
  // Re-summarising a finished run (no --run): `--seconds` gives its time, as its log has it.
  if (seconds === undefined && args.includes('--seconds')) seconds = Number(args[args.indexOf('--seconds') + 1]);
  const previous = existsSync(SUMMARY) ? JSON.parse(readFileSync(SUMMARY, 'utf8')) : null;
  // `--merge <other summary>`: another checkout's bench/results/stryker-mutation.json joined to this one.
  const summary = args[0] === '--merge' ? mergeSummaries(previous, JSON.parse(readFileSync(args[1], 'utf8'))) : summarise(JSON.parse(readFileSync(REPORT, 'utf8')), seconds, previous, mutatePatterns(args));
  writeFileSync(SUMMARY, `${JSON.stringify(summary, null, 2)}\n`);
  const pct = summary.total.score === null ? 'n/a' : `${(100 * summary.total.score).toFixed(1)}%`;
  console.log(`StrykerJS: ${pct} over ${summary.files.length} files (${summary.total.survived} survived, ${summary.total.noCoverage} without coverage); ${SUMMARY}`);
}
