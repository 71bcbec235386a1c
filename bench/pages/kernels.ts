/**
 * The kernel page: every kernel of the tutorial model, forward and backward, timed at the
 * training shapes for a few batch sizes, with its bandwidth next to a copy kernel that moves
 * the same number of bytes in the same run (the practical ceiling). The measurement is
 * bench/kernel-throughput.ts (the Node command `npm run bench:kernels` runs it too); this file
 * is its settings, table and chart.
 *
 * URL settings: batches (default 64,256,512), repeats (default 20), timing=wall-clock (skip
 * timestamp queries even where the adapter has them), auto=1 (run at once).
 * Publishes { settings, timing, quantized, timestampQuantumNs, copy: [...], kernels: [...], hostIndex: [...] }.
 */
import { Gpu, type AdapterReport } from '../../src/index.js';
import { DEFAULT_BATCHES, DEFAULT_REPEATS, copiesBySize, fmt, formatBytes, measureKernels, timingText, type KernelThroughput, type MeasureOptions } from '../kernel-throughput.js';
import { $, describeAdapter, fail, fillFromUrl, intParam, params, publish, setStatus, start } from './page.js';
import { SettingError, wholeNumber, wholeNumbers } from './settings.js';

/** Below this width the chart puts each label above its bar. */
const NARROW_CHART = 520;
/** Chart axis steps (percent), finest first, and the least room between two tick labels (px). */
const TICKS = [25, 50, 100];
const MIN_TICK = TICKS[0];
const MIN_TICK_SPACING = 72;

/** `?timing=wall-clock`: skip timestamp queries (set at start). */
let forceWallClock = false;

// ---- the run ----

function readSettings(): MeasureOptions {
  return {
    batches: wholeNumbers('Batch sizes', ($('#batches') as HTMLInputElement).value, 1),
    repeats: wholeNumber('Repeats', ($('#repeats') as HTMLInputElement).value, 1),
    forceWallClock,
  };
}

async function run(adapter: AdapterReport): Promise<void> {
  const options = readSettings();
  const button = $('#run') as HTMLButtonElement;
  button.disabled = true;
  $('#error').hidden = true;
  delete window.__shadergradError;
  const gpu = await Gpu.create();
  try {
    const started = performance.now();
    const measured = await measureKernels(gpu, options, setStatus);
    render(measured);
    const { settings, ...results } = measured;
    publish('kernels', adapter, { ...settings }, results);
    setStatus(`Done in ${((performance.now() - started) / 1000).toFixed(1)} s: ${results.kernels.length} kernel timings, ${timingText(measured)}.`);
  } finally {
    gpu.device.destroy();
    button.disabled = false;
  }
}

// ---- display ----

let shown: KernelThroughput | null = null;

function cell(row: HTMLTableRowElement, text: string, tag: 'td' | 'th' = 'td'): HTMLElement {
  const el = document.createElement(tag);
  el.textContent = text;
  row.append(el);
  return el;
}

function render(results: KernelThroughput): void {
  shown = results;
  const { kernels, copy, hostIndex } = results;
  const largest = Math.max(...kernels.map((k) => k.batch));
  const bySize = copiesBySize(copy);
  const ceiling = bySize[bySize.length - 1];
  $('#summary').textContent =
    `Batch ${largest}. Copy kernel: ${fmt(ceiling.gbps)} GB/s moving ${formatBytes(ceiling.bytes)} (beside ${ceiling.beside}). ` +
    `Timing: ${timingText(results)}. 100% = the copy's bandwidth at the same byte count.`;
  $('#chart-section').hidden = false;
  drawChart();

  const table = $('#table') as HTMLTableElement;
  table.replaceChildren();
  const head = table.createTHead().insertRow();
  for (const h of ['Kernel', 'Size', 'Time (µs)', 'GB/s', 'GFLOP/s', '% of copy']) cell(head, h, 'th');
  head.cells[1].className = 'size';
  head.cells[4].className = 'flops';
  const body = table.createTBody();
  /** Kernel name and entry point (the entry goes on its own line on a phone), then the other columns. */
  const addRow = (kernel: string, entry: string, size: string, numbers: string[]) => {
    const row = body.insertRow();
    const name = cell(row, `${kernel} `);
    const span = document.createElement('span');
    span.className = 'entry';
    span.textContent = entry;
    name.append(span);
    cell(row, size).className = 'size';
    for (const text of numbers) cell(row, text);
    row.cells[4].className = 'flops';
    return row;
  };
  for (const { batch, tokens, uniqueIds, timeUs } of hostIndex) {
    const group = body.insertRow();
    group.className = 'group';
    const title = cell(group, `Batch ${batch}: ${tokens.toLocaleString('en-US')} tokens, ${uniqueIds.toLocaleString('en-US')} distinct ids`, 'th');
    (title as HTMLTableCellElement).colSpan = 6;
    for (const k of kernels.filter((r) => r.batch === batch)) {
      addRow(k.kernel, k.entry, k.shape, [fmt(k.timeUs), fmt(k.gbps), fmt(k.gflops), fmt(k.percentOfCopy)]);
    }
    addRow('embedding', 'index (host CPU)', `${tokens.toLocaleString('en-US')} ids`, [fmt(timeUs), '—', '—', '—']).className = 'host';
  }

  const copyTable = $('#copy-table') as HTMLTableElement;
  copyTable.replaceChildren();
  const copyHead = copyTable.createTHead().insertRow();
  for (const h of ['Bytes moved', 'Time (µs)', 'GB/s', 'Timed beside']) cell(copyHead, h, 'th');
  copyHead.cells[3].className = 'beside';
  const copyBody = copyTable.createTBody();
  for (const c of bySize) {
    const row = copyBody.insertRow();
    for (const text of [formatBytes(c.bytes), fmt(c.timeUs), fmt(c.gbps), `${c.beside}, batch ${c.batch}`]) cell(row, text);
    row.cells[3].className = 'beside';
  }
  $('#table-section').hidden = false;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Horizontal bars of % of copy at the largest batch, drawn at the container's own width
 * (so text stays at its CSS size on a phone); labels go above the bars when narrow.
 */
function drawChart(): void {
  if (!shown) return;
  const container = $('#chart');
  const largest = Math.max(...shown.kernels.map((k) => k.batch));
  const rows = shown.kernels.filter((k) => k.batch === largest).map((k) => ({ label: `${k.kernel} ${k.entry}`, percent: k.percentOfCopy }));
  const width = Math.max(280, Math.round(container.clientWidth || 600));
  const narrow = width < NARROW_CHART;
  const labelWidth = narrow ? 0 : 190;
  const valueWidth = 56;
  const barHeight = 14;
  const rowHeight = narrow ? 36 : 22;
  const top = 20;
  const max = Math.ceil(Math.max(100, ...rows.map((r) => r.percent)) / MIN_TICK) * MIN_TICK;
  const plot = width - labelWidth - valueWidth;
  const x = (p: number) => labelWidth + (Math.max(0, p) / max) * plot;
  // Ticks that divide 100 (so the copy's 100% always has one), spaced widely enough for their labels.
  const tick = TICKS.find((t) => (t / max) * plot >= MIN_TICK_SPACING) ?? TICKS[TICKS.length - 1];
  const height = top + rows.length * rowHeight + 4;
  const parts: string[] = [];
  for (let p = 0; p <= max; p += tick) {
    const copy = p === 100;
    parts.push(`<line x1="${x(p)}" x2="${x(p)}" y1="${top - 4}" y2="${height}" stroke="${copy ? '#5b6476' : '#d9dee8'}"${copy ? ' stroke-dasharray="4 3"' : ''}/>`);
    parts.push(`<text class="axis" x="${x(p)}" y="${top - 8}" text-anchor="${p === 0 ? 'start' : 'middle'}">${copy ? '100% = copy' : `${p}%`}</text>`);
  }
  rows.forEach((r, i) => {
    const y = top + i * rowHeight + (narrow ? 16 : 4);
    const label = escapeXml(r.label);
    parts.push(narrow ? `<text x="0" y="${y - 4}">${label}</text>` : `<text x="${labelWidth - 8}" y="${y + barHeight - 3}" text-anchor="end">${label}</text>`);
    parts.push(`<rect x="${x(0)}" y="${y}" width="${Math.max(1, x(r.percent) - x(0))}" height="${barHeight}" rx="2" fill="#1f4e99"/>`);
    parts.push(`<text x="${x(r.percent) + 4}" y="${y + barHeight - 3}">${fmt(r.percent)}%</text>`);
  });
  container.innerHTML = `<svg viewBox="0 0 ${width} ${height}" role="img" aria-label="Percent of the copy kernel's bandwidth per kernel, batch ${largest}">${parts.join('')}</svg>`;
}

/** The URL's settings, checked, into the inputs (see fillFromUrl). */
function applyUrlSettings(): void {
  const timing = params.get('timing');
  if (timing !== null && timing !== 'wall-clock') throw new SettingError(`URL setting timing must be wall-clock, got '${timing}'`);
  forceWallClock = timing === 'wall-clock';
  const batches = params.get('batches');
  fillFromUrl([
    [$('#batches'), () => (batches === null ? DEFAULT_BATCHES : wholeNumbers('URL setting batches', batches, 1)).join(',')],
    [$('#repeats'), () => String(intParam('repeats', DEFAULT_REPEATS, 1))],
  ]);
}

start(async () => {
  const adapter = await describeAdapter();
  const button = $('#run') as HTMLButtonElement;
  button.disabled = false;
  button.addEventListener('click', () => run(adapter).catch(fail));
  window.addEventListener('resize', drawChart);
  // After the Run button is wired: with a bad setting the page says so and stays usable.
  applyUrlSettings();
  setStatus('Ready: press Run.');
  if (params.get('auto') === '1') await run(adapter);
});
