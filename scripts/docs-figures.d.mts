// Types of scripts/docs-figures.mjs for the tests (the script itself stays plain JavaScript, run by node).
export type Results = (name: string) => any;
export const DOCUMENTS: string[];
export const RENDERERS: Record<string, (results: Results) => string>;
export function loadResults(dir?: string): Results;
export function renderText(text: string, results: Results, used?: Set<string>): string;
export function renderDocuments(results?: Results, root?: string): { docs: { path: string; text: string; rendered: string }[]; used: Set<string> };
