/** scripts/mutation-summary.mjs: runs over a few modules at a time add up to one summary. */
import { describe, expect, it } from 'vitest';
import { summarise } from '../scripts/mutation-summary.mjs';

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

  it("counts as run only the files the run's --mutate names (an incremental report holds the cache's others too)", () => {
    const previous = summarise({ files: { 'src/a.ts': { mutants: [mutant('Killed', 1), mutant('Killed', 2)] } } }, 100);
    const report = { files: { 'src/a.ts': { mutants: [mutant('Survived', 1)] }, 'src/k/b.ts': { mutants: [mutant('Survived', 3)] }, 'src/k/c.ts': { mutants: [mutant('Killed', 4)] } } };
    const byPath = summarise(report, 20, previous, ['src/k/b.ts']);
    expect(byPath.lastRunFiles).toEqual(['src/k/b.ts']);
    expect(byPath.files.map((f: { path: string; killed: number }) => [f.path, f.killed])).toEqual([['src/a.ts', 2], ['src/k/b.ts', 0]]);
    expect(byPath.survivors.map((s: { at: string }) => s.at)).toEqual(['src/k/b.ts:3:1']);
    expect(summarise(report, 20, previous, ['src/k/*.ts']).lastRunFiles).toEqual(['src/k/b.ts', 'src/k/c.ts']);
  });
});
