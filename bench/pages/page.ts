/**
 * What every bench page shares: URL settings, the adapter, status and error
 * display, and publishing results as JSON (a download link, and the global
 * `window.__shadergradResult` that the headless runner reads). Errors go to
 * `window.__shadergradError`, so a headless run ends at once with the message.
 */
import { getDevice, type AdapterReport } from '../../src/index.js';
import { wholeNumber } from './settings.js';

export interface PageResult {
  page: string;
  adapter: AdapterReport | null;
  browser: string;
  date: string;
  settings: Record<string, unknown>;
  [key: string]: unknown;
}

declare global {
  interface Window {
    __shadergradResult?: PageResult;
    __shadergradError?: string;
  }
}

/** URL query settings: `?epochs=2&data=/data/imdb.npz&auto=1`. */
export const params = new URLSearchParams(location.search);

/** A whole-number URL setting of at least `min`, or `fallback` when the URL has none. */
export function intParam(name: string, fallback: number, min: number): number {
  const text = params.get(name);
  return text === null ? fallback : wholeNumber(`URL setting ${name}`, text, min);
}

/**
 * Fill each input from its URL setting (`read` checks it). A bad one leaves its input empty, so
 * nothing runs on a value that was not asked for; the first is thrown once all are filled, so the
 * page shows it and stays usable.
 */
export function fillFromUrl(fields: [input: HTMLElement, read: () => string][]): void {
  let bad: unknown = null;
  for (const [input, read] of fields) {
    try {
      (input as HTMLInputElement).value = read();
    } catch (error) {
      (input as HTMLInputElement).value = '';
      bad ??= error;
    }
  }
  if (bad !== null) throw bad;
}

export function $(selector: string): HTMLElement {
  const el = document.querySelector<HTMLElement>(selector);
  if (!el) throw new Error(`page element ${selector} is missing`);
  return el;
}

export function setStatus(text: string): void {
  $('#status').textContent = text;
}

/** The adapter the page runs on, shown at the top; null (and shown) when there is no WebGPU. */
export async function describeAdapter(): Promise<AdapterReport> {
  const { device, report } = await getDevice();
  device.destroy();
  $('#adapter').textContent = adapterName(report);
  return report;
}

/** A browser often leaves `description` empty: fall back to vendor and architecture. */
export function adapterName(report: AdapterReport): string {
  const kind = [report.vendor, report.architecture].filter(Boolean).join(' ');
  const name = report.description || report.device || kind || 'unknown adapter';
  return `${name}${name === kind ? '' : ` (${kind})`}${report.isSoftware ? ', software' : ''}`;
}

/** Publish the page's results: the global for headless runs and a JSON download. */
export function publish(page: string, adapter: AdapterReport | null, settings: Record<string, unknown>, results: Record<string, unknown>): PageResult {
  const result: PageResult = { page, adapter, browser: navigator.userAgent, date: new Date().toISOString(), settings, ...results };
  const link = $('#download') as HTMLAnchorElement;
  if (link.href.startsWith('blob:')) URL.revokeObjectURL(link.href); // each review published holds the last run's JSON
  link.href = URL.createObjectURL(new Blob([JSON.stringify(result, null, 2)], { type: 'application/json' }));
  link.download = `shadergrad-${page}-${result.date.slice(0, 19).replace(/[:T]/g, '-')}.json`;
  link.hidden = false;
  window.__shadergradResult = result;
  return result;
}

/** Show an error on the page and hand it to a headless runner. */
export function fail(error: unknown): void {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const box = $('#error');
  box.textContent = message;
  box.hidden = false;
  setStatus('Failed.');
  window.__shadergradError = message;
}

/** Run the page's main function once, reporting any error. */
export function start(main: () => Promise<void>): void {
  window.addEventListener('error', (e) => fail(e.error ?? e.message));
  window.addEventListener('unhandledrejection', (e) => fail(e.reason));
  main().catch(fail);
}

/** Hand the file chosen in `input`, or dropped on `zone`, to `take` (the same file may be picked again). */
export function onFileChosen(zone: HTMLElement, input: HTMLInputElement, take: (file: File | undefined) => void): void {
  input.addEventListener('change', () => {
    take(input.files?.[0]);
    input.value = ''; // picking the same file again fires `change` again
  });
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    take(e.dataTransfer?.files[0]);
  });
}

/** Fetch a file the page was pointed at, with the URL in any error. */
export async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not fetch ${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}
