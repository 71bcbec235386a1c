/** scripts/mutation-summary.mjs: runs over a few modules at a time add up to one summary. */
import { describe, expect, it } from 'vitest';
import { matchesMutate, mergeSummaries, mutatePatterns, summarise } from '../scripts/mutation-summary.mjs';

const mutant = (status: string, line: number) => ({ status, location: { start: { line, column: 1 } }, mutatorName: 'EqualityOperator', replacement: 'a <= b' });

describe('StrykerJS summary', () => {
  it("replaces the files a run mutated, keeps the others', and totals every file", () => {
    const first = summarise({ files: { 'src/a.ts': { mutants: [mutant('Killed', 1), mutant('Survived', 2)] }, 'src/b.ts': { mutants: [mutant('NoCoverage', 3), mutant('Timeout', 4)] } } }, 100);
    expect(first.total).toMatchObject({ mutants: 4, killed: 1, timedOut: 1, survived: 1, noCoverage: 1, score: 0.5 });
    const second = summarise({ files: { 'src/b.ts': { mutants: [mutant('Killed', 3), mutant('Timeout', 4)] }, 'src/c.ts': { mutants: [mutant('CompileError', 5)] } } }, 20, first);
    expect(second.files.map((f: { path: string }) => f.path)).toEqual(['src/a.ts', 'src/b.ts', 'src/c.ts']);
    expect(second.files[0]).toEqual(first.files[0]);
    expect(second.total).toMatchObject({ mutants: 5, killed: 2, timedOut: 1, survived: 1, noCoverage: 0, compileErrors: 1, score: 0.75 });
    expect(second.survivors.map((s: { at: string }) => s.at)).toEqual(['src/a.ts:2:1']);
    expect(second).toMatchObject({ seconds: 20, lastRunFiles: ['src/b.ts', 'src/c.ts'] });
  });
});

describe('StrykerJS summary of an incremental run', () => {
  it("takes only the files the run's --mutate names: the report also carries the incremental file's other files", () => {
    const first = summarise({ files: { 'src/a.ts': { mutants: [mutant('Killed', 1), mutant('Killed', 2)] }, 'src/b.ts': { mutants: [mutant('Survived', 3)] } } }, 100);
    // The next run mutated b.ts alone; its report still holds a.ts as the incremental file had it, older.
    const report = { files: { 'src/a.ts': { mutants: [mutant('Survived', 1)] }, 'src/b.ts': { mutants: [mutant('Killed', 3)] } } };
    const second = summarise(report, 20, first, mutatePatterns(['stryker.data.config.mjs', '--mutate', 'src/b.ts']));
    expect(second.files[0]).toEqual(first.files[0]);
    expect(second).toMatchObject({ lastRunFiles: ['src/b.ts'], total: { killed: 3, survived: 0 } });
    expect(summarise(report, 20, first).lastRunFiles).toEqual(['src/a.ts', 'src/b.ts']);
  });

  it('reads --mutate, --mutate= and -m, and matches globs, ranges and exclusions as Stryker does', () => {
    expect(mutatePatterns(['--mutate', 'src/a.ts,src/b.ts'])).toEqual(['src/a.ts', 'src/b.ts']);
    expect(mutatePatterns(['--mutate=src/a.ts', '-m', 'src/c.ts'])).toEqual(['src/a.ts', 'src/c.ts']);
    expect(mutatePatterns(['stryker.data.config.mjs'])).toBeNull();
    expect(matchesMutate('src/data/zip.ts', ['src/data/**/*.ts'])).toBe(true);
    expect(matchesMutate('src/data/zip.ts', ['src/**'])).toBe(true);
    expect(matchesMutate('src/data/zip.ts', ['src/*.ts'])).toBe(false);
    expect(matchesMutate('src/data/zip.ts', ['src/data/zip.ts:10-20'])).toBe(true);
    expect(matchesMutate('src/data/zip.ts', ['./src/data/zip.ts'])).toBe(true);
    expect(matchesMutate('src/data/zip.ts', ['src/data/*.ts', '!src/data/zip.ts'])).toBe(false);
    expect(matchesMutate('src/data/zipXts', ['src/data/zip.ts'])).toBe(false);
  });
});

describe('StrykerJS summaries from two checkouts', () => {
  it('keeps each file as its latest run left it, with its survivors, and totals them again', () => {
    // Each run's files dated as if made on that day (summarise dates them now).
    const stamp = (summary: any, date: string) => ({ ...summary, date, files: summary.files.map((f: any) => (summary.lastRunFiles.includes(f.path) ? { ...f, date } : f)) });
    const base = stamp(summarise({ files: { 'src/a.ts': { mutants: [mutant('Survived', 1)] }, 'src/b.ts': { mutants: [mutant('Survived', 2)] } } }, 10), '2026-01-01');
    const left = stamp(summarise({ files: { 'src/a.ts': { mutants: [mutant('Killed', 1)] } } }, 20, base), '2026-01-02');
    const right = stamp(summarise({ files: { 'src/b.ts': { mutants: [mutant('Killed', 2), mutant('Survived', 3)] } } }, 30, base), '2026-01-03');
    const merged = mergeSummaries(left, right);
    expect(merged.files.map((f: any) => [f.path, f.killed, f.survived])).toEqual([['src/a.ts', 1, 0], ['src/b.ts', 1, 1]]);
    expect(merged.survivors.map((s: any) => s.at)).toEqual(['src/b.ts:3:1']);
    expect(merged).toMatchObject({ seconds: 30, lastRunFiles: ['src/b.ts'], total: { mutants: 3, killed: 2, survived: 1, score: 2 / 3 } });
    expect(mergeSummaries(right, left)).toEqual(merged);
  });
});
