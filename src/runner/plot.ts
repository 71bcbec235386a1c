/**
 * The tutorial's two figures as one SVG: training loss and accuracy as dots,
 * validation as lines ("bo" and "b" in its matplotlib code), against epochs.
 */
const PANEL = { width: 460, height: 320, left: 56, right: 16, top: 36, bottom: 44 };
const TRAIN_COLOUR = '#1f77b4';
const VALIDATION_COLOUR = '#1f4e99';
const TICKS = 5;

export interface CurveSet {
  title: string;
  yLabel: string;
  training: number[];
  validation?: number[];
  /** Where the legend goes, as the tutorial places it (`loc='upper right'` / `'lower right'`). */
  legend?: 'upper right' | 'lower right';
}

export function curvesSvg(panels: CurveSet[]): string {
  const width = PANEL.width * panels.length;
  const body = panels.map((p, i) => panelSvg(p, i * PANEL.width)).join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${PANEL.height}" viewBox="0 0 ${width} ${PANEL.height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
${body}
</svg>
`;
}

/** The tutorial's pair of figures from a History's `history` record. */
export function historySvg(history: Record<string, number[]>): string {
  return curvesSvg([
    { title: 'Training and validation loss', yLabel: 'Loss', training: history.loss ?? [], validation: history.val_loss },
    { title: 'Training and validation accuracy', yLabel: 'Accuracy', training: history.accuracy ?? [], validation: history.val_accuracy, legend: 'lower right' },
  ]);
}

function panelSvg(panel: CurveSet, offsetX: number): string {
  const epochs = Math.max(panel.training.length, panel.validation?.length ?? 0);
  const values = [...panel.training, ...(panel.validation ?? [])].filter(Number.isFinite);
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (!values.length) [lo, hi] = [0, 1];
  if (hi - lo < 1e-9) [lo, hi] = [lo - 0.5, hi + 0.5];
  // A margin, so that no point sits on the frame.
  const margin = (hi - lo) * 0.05;
  [lo, hi] = [lo - margin, hi + margin];
  const plotW = PANEL.width - PANEL.left - PANEL.right;
  const plotH = PANEL.height - PANEL.top - PANEL.bottom;
  const x = (epoch: number) => offsetX + PANEL.left + (epochs <= 1 ? plotW / 2 : ((epoch - 1) / (epochs - 1)) * plotW);
  const y = (v: number) => PANEL.top + (1 - (v - lo) / (hi - lo)) * plotH;
  const out: string[] = [];
  out.push(`<text x="${offsetX + PANEL.width / 2}" y="20" text-anchor="middle" font-size="14">${panel.title}</text>`);
  out.push(`<rect x="${offsetX + PANEL.left}" y="${PANEL.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`);
  // Enough decimals that neighbouring ticks differ, however narrow the range.
  const decimals = Math.min(6, Math.max(2, Math.ceil(-Math.log10((hi - lo) / TICKS))));
  for (let i = 0; i <= TICKS; i++) {
    const v = lo + ((hi - lo) * i) / TICKS;
    out.push(`<text x="${offsetX + PANEL.left - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(decimals)}</text>`);
    const e = 1 + Math.round(((epochs - 1) * i) / TICKS);
    if (epochs > 0) out.push(`<text x="${x(e)}" y="${PANEL.top + plotH + 16}" text-anchor="middle">${e}</text>`);
  }
  out.push(`<text x="${offsetX + PANEL.left + plotW / 2}" y="${PANEL.height - 8}" text-anchor="middle">Epochs</text>`);
  out.push(`<text x="${offsetX + 14}" y="${PANEL.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 ${offsetX + 14} ${PANEL.top + plotH / 2})">${panel.yLabel}</text>`);
  panel.training.forEach((v, i) => out.push(`<circle cx="${x(i + 1).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3" fill="${TRAIN_COLOUR}"/>`));
  if (panel.validation?.length) {
    const points = panel.validation.map((v, i) => `${x(i + 1).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    out.push(`<polyline points="${points}" fill="none" stroke="${VALIDATION_COLOUR}" stroke-width="2"/>`);
  }
  const legendX = offsetX + PANEL.width - PANEL.right - 100;
  const legendY = panel.legend === 'lower right' ? PANEL.top + plotH - 44 : PANEL.top + 8;
  out.push(`<rect x="${legendX - 14}" y="${legendY - 2}" width="96" height="40" fill="white" stroke="#ccc"/>`);
  out.push(`<circle cx="${legendX}" cy="${legendY + 10}" r="3" fill="${TRAIN_COLOUR}"/><text x="${legendX + 10}" y="${legendY + 14}">Training</text>`);
  out.push(`<line x1="${legendX - 6}" y1="${legendY + 28}" x2="${legendX + 6}" y2="${legendY + 28}" stroke="${VALIDATION_COLOUR}" stroke-width="2"/><text x="${legendX + 10}" y="${legendY + 32}">Validation</text>`);
  return out.join('\n');
}
