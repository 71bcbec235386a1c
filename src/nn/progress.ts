/**
 * Keras 3's progress bar (keras/src/utils/progbar.py), as `fit` and `evaluate`
 * print it: `30/30 ━━━━━━━━━━━━━━━━━━━━ 2s 58ms/step - accuracy: 0.5361 - loss: 0.6924`.
 * On a terminal the line is redrawn each step; otherwise only the finished line
 * is written, one per epoch, without colours.
 */
const BAR_WIDTH = 20;
const DONE = '\x1b[32m';
const TODO = '\x1b[37m';
const BOLD = '\x1b[1m';
const RESET = '\x1b[0m';

export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** stdout in Node; in a browser, whole lines to the console. */
export function defaultOutput(): Output {
  if (typeof process !== 'undefined' && process.stdout) return process.stdout;
  let pending = '';
  return {
    write: (text: string) => {
      // A carriage return takes the line back to its start, even across writes.
      pending = (pending + text).replace(/.*\r/g, '');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      lines.forEach((line) => console.log(line));
    },
  };
}

export class Progbar {
  private readonly started = performance.now();
  private lastWidth = 0;

  constructor(
    private readonly target: number,
    private readonly out: Output = defaultOutput(),
    /** Keras' verbose: 1 the bar, 2 one plain line when done (`782/782 - 2s - 3ms/step - ...`). */
    private readonly verbose: 1 | 2 = 1,
  ) {}

  /** Show `current` of `target` steps done with the metrics so far; `finalize` ends the line. */
  update(current: number, metrics: [string, number][], finalize = false): void {
    if (this.verbose === 2) {
      if (!finalize) return;
      const elapsed = (performance.now() - this.started) / 1000;
      const count = `${String(current).padStart(String(this.target).length)}/${this.target}`;
      this.out.write(`${count} - ${Math.round(elapsed)}s - ${formatPerStep(elapsed / Math.max(current, 1))}${formatMetrics(metrics)}\n`);
      return;
    }
    const dynamic = this.out.isTTY === true;
    if (!dynamic && !finalize) return;
    const elapsed = (performance.now() - this.started) / 1000;
    const perStep = elapsed / Math.max(current, 1);
    const digits = String(this.target).length;
    const count = `${String(current).padStart(digits)}/${this.target}`;
    const filled = Math.floor((BAR_WIDTH * current) / this.target);
    // As Keras: no green segment while none of the bar is done.
    const bar = dynamic
      ? `${BOLD}${count}${RESET} ${filled > 0 ? `${DONE}${'━'.repeat(filled)}${RESET}` : ''}${TODO}${'━'.repeat(BAR_WIDTH - filled)}${RESET}`
      : `${count} ${'━'.repeat(BAR_WIDTH)}`;
    // Keras: the time left while running, the seconds taken when done; then the time per step.
    const time = finalize ? `${Math.round(elapsed)}s` : formatEta(perStep * (this.target - current));
    const line = `${bar} ${time} ${formatPerStep(perStep)}${formatMetrics(metrics, true)}`;
    if (dynamic) {
      // Keras pads to the width of the last line drawn, counting what shows (not the colour codes).
      const width = line.replace(/\x1b\[\d+m/g, '').length;
      this.out.write(`\r${line}${' '.repeat(Math.max(0, this.lastWidth - width))}${finalize ? '\n' : ''}`);
      this.lastWidth = width;
    } else {
      this.out.write(`${line}\n`);
    }
  }
}

/**
 * Keras' ` - name: value`: four decimals above 1e-3, else Python's `%.4e` (progbar.py). The bar
 * (verbose 1) compares the absolute value, the plain line (verbose 2) the value itself, as Keras does.
 */
function formatMetrics(metrics: [string, number][], absolute = false): string {
  return metrics.map(([name, value]) => ` - ${name}: ${(absolute ? Math.abs(value) : value) > 1e-3 ? value.toFixed(4) : pythonExponent(value)}`).join('');
}

function pythonExponent(value: number): string {
  const [mantissa, exponent] = value.toExponential(4).split('e');
  const e = Number(exponent);
  return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}

/** Keras' ETA: `%ds` up to a minute, `%d:%02d` up to an hour, then `%d:%02d:%02d` (truncated, as `%d` does). */
function formatEta(seconds: number): string {
  const two = (n: number) => String(Math.floor(n)).padStart(2, '0');
  if (seconds > 3600) return `${Math.floor(seconds / 3600)}:${two((seconds % 3600) / 60)}:${two(seconds % 60)}`;
  if (seconds > 60) return `${Math.floor(seconds / 60)}:${two(seconds % 60)}`;
  return `${Math.floor(seconds)}s`;
}

/** Keras' `_format_time`: whole seconds, milliseconds or microseconds per step (0 as `0s/step`). */
function formatPerStep(seconds: number): string {
  if (seconds >= 1 || seconds === 0) return `${Math.round(seconds)}s/step`;
  if (seconds >= 1e-3) return `${Math.round(seconds * 1e3)}ms/step`;
  return `${Math.round(seconds * 1e6)}us/step`;
}
