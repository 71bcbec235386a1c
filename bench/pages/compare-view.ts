/** Drawing for the comparison page: table rows and the bar chart, all text escaped or set as text. */

/**
 * Append a row of cells to a tbody; an `error` cell spans the rest. Each cell carries its
 * column's name (`data-label`), which the page shows beside it when a phone stacks the rows.
 */
export function addRow(body: HTMLTableSectionElement, cells: (string | Node)[], options: { error?: string; span?: number } = {}): void {
  const names = Array.from((body.parentElement as HTMLTableElement).tHead?.rows[0]?.cells ?? [], (th) => th.textContent ?? '');
  const tr = body.insertRow();
  cells.forEach((content, i) => {
    const td = tr.insertCell();
    td.dataset.label = names[i] ?? '';
    td.append(content);
  });
  if (options.error !== undefined) {
    const td = tr.insertCell();
    td.className = 'failed';
    td.colSpan = options.span ?? 1;
    td.dataset.label = 'error';
    td.textContent = options.error;
  }
}

/** A cell's text with a muted second line. */
export function twoLines(main: string, sub: string): Node {
  const span = document.createElement('span');
  const small = document.createElement('span');
  small.className = 'meta';
  small.textContent = sub;
  span.append(main, document.createElement('br'), small);
  return span;
}

export interface Bar {
  label: string;
  seconds: number | null;
  note?: string;
  ours?: boolean;
}

const ROW = 44;
/** Widest bar, as a share of the width: the rest keeps room for the value beside it. */
const MAX_SHARE = 76;

/**
 * Horizontal bars with the label above each: no viewBox, so the text keeps its size at a
 * phone's width and a laptop's, and the bars are percentages of whatever width there is.
 */
export function barChart(bars: Bar[]): string {
  const max = Math.max(...bars.map((b) => b.seconds ?? 0), 1e-9);
  const rows = bars.map((bar, i) => {
    const y = i * ROW;
    const label = `<text x="0" y="${y + 14}" class="label">${escape(bar.label)}</text>`;
    if (bar.seconds === null) return `${label}<text x="0" y="${y + 32}" class="note">${escape(bar.note ?? 'no result')}</text>`;
    const share = Math.max(0.5, (MAX_SHARE * bar.seconds) / max);
    return (
      `${label}<rect x="0" y="${y + 20}" width="${share.toFixed(2)}%" height="14" rx="2" class="${bar.ours ? 'ours' : 'theirs'}"/>` +
      `<text x="${share.toFixed(2)}%" dx="6" y="${y + 32}" class="value">${escape(formatSeconds(bar.seconds))}</text>`
    );
  });
  const height = bars.length * ROW;
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Median seconds per epoch" style="height:${height}px">${rows.join('')}</svg>`;
}

export function formatSeconds(s: number): string {
  return s < 10 ? `${s.toFixed(2)} s` : `${s.toFixed(1)} s`;
}

export function formatMs(ms: number): string {
  return ms < 1 ? `${ms.toFixed(3)} ms` : `${ms.toFixed(2)} ms`;
}

export function formatRatio(r: number | null | undefined): string {
  return r === null || r === undefined || !Number.isFinite(r) ? '–' : `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}×`;
}

function escape(text: string): string {
  return text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
