// Types of scripts/mutation-summary.mjs for the tests (the script itself stays plain JavaScript, run by node).
export function summarise(report: { files: Record<string, { mutants: unknown[] }> }, seconds?: number, previous?: any, mutate?: string[] | null): any;
export function matchesMutate(path: string, patterns: string[]): boolean;
export function mutatePatterns(args: string[]): string[] | null;
export function mergeSummaries(a: any, b: any): any;
