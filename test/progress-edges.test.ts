// Progbar's exact lines against a stopped clock, each checked against Keras 3's
// keras/src/utils/progbar.py: the edges that StrykerJS's run over src/nn/progress.ts left alive
// (README, "Mutation testing").
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultOutput, Progbar } from '../src/nn/progress.js';

const B = '\x1b[1m';
const G = '\x1b[32m';
const W = '\x1b[37m';
const R = '\x1b[0m';
const bar = (done: number) => `${done > 0 ? `${G}${'━'.repeat(done)}${R}` : ''}${W}${'━'.repeat(20 - done)}${R}`;

/** A clock stopped at `ms`, moved by `at`. */
function clock(ms = 0) {
  const now = vi.spyOn(performance, 'now').mockReturnValue(ms);
  return { at: (t: number) => void now.mockReturnValue(t) };
}

function sink(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, out: { write: (t: string) => void writes.push(t), isTTY } };
}

afterEach(() => vi.restoreAllMocks());

describe('Progbar on a terminal (verbose 1)', () => {
  it('draws the count, the bar, the time left, the time per step and the metrics; pads over a longer line', () => {
    const time = clock(1000);
    const { writes, out } = sink(true);
    const p = new Progbar(10, out);
    time.at(3000); // 2 s for 4 steps: 500 ms a step, 6 steps left: 3 s
    p.update(4, [['loss', 0.5], ['accuracy', 0.75]]);
    time.at(6000); // 5 s for 10 steps
    p.update(10, [['loss', 0.25]], true);
    expect(writes[0]).toBe(`\r${B} 4/10${R} ${bar(8)} 3s 500ms/step - loss: 0.5000 - accuracy: 0.7500`);
    // The first line showed 22 more characters (" - accuracy: 0.7500" and "3s" against "5s").
    const second = `${B}10/10${R} ${bar(20)} 5s 500ms/step - loss: 0.2500`;
    expect(writes[1]).toBe(`\r${second}${' '.repeat(19)}\n`);
  });

  it('does not pad a line as long as the last, nor one longer; no green while none is done', () => {
    const time = clock(0);
    const { writes, out } = sink(true);
    const p = new Progbar(100, out);
    time.at(1); // 1 ms for 1 step: 99 ms left
    p.update(1, [['loss', 0.5]]);
    expect(writes[0]).toBe(`\r${B}  1/100${R} ${bar(0)} 0s 1ms/step - loss: 0.5000`);
    time.at(2);
    p.update(2, [['loss', 0.5]]);
    expect(writes[1]).toBe(`\r${B}  2/100${R} ${bar(0)} 0s 1ms/step - loss: 0.5000`);
    time.at(5);
    p.update(5, [['loss', 0.5], ['acc', 0.5]]);
    expect(writes[2]).toBe(`\r${B}  5/100${R} ${bar(1)} 0s 1ms/step - loss: 0.5000 - acc: 0.5000`);
  });

  it('pads by the characters shown: a green segment that appears adds colour codes, not width', () => {
    const time = clock(0);
    const { writes, out } = sink(true);
    const p = new Progbar(20, out);
    time.at(1000);
    p.update(0, [['loss', 0.5], ['accuracy', 0.75]]);
    time.at(2000);
    p.update(2, [['loss', 0.5]]);
    expect(writes[0]).toBe(`\r${B} 0/20${R} ${bar(0)} 20s 1s/step - loss: 0.5000 - accuracy: 0.7500`);
    // 19 characters fewer shown (" - accuracy: 0.7500"), whatever the colour codes.
    expect(writes[1]).toBe(`\r${B} 2/20${R} ${bar(2)} 18s 1s/step - loss: 0.5000${' '.repeat(19)}`);
  });

  it("formats the time left as Keras: whole seconds, then m:ss above a minute, h:mm:ss above an hour, truncated", () => {
    const eta = (msPerStep: number, target: number, current: number) => {
      const time = clock(0);
      const { writes, out } = sink(true);
      const p = new Progbar(target, out);
      time.at(msPerStep * current);
      p.update(current, []);
      return /\x1b\[0m (\S+) /.exec(writes[0].slice(writes[0].lastIndexOf('━')))![1];
    };
    expect(eta(1000, 61, 1)).toBe('60s'); // 60 s left: not above a minute
    expect(eta(999.5, 61, 1)).toBe('59s'); // 59.97 s: truncated, not rounded
    expect(eta(1000, 62, 1)).toBe('1:01');
    expect(eta(1997.5, 61, 1)).toBe('1:59'); // 119.85 s: 1:59, not 1:60 nor 2:00
    expect(eta(1000, 3601, 1)).toBe('60:00'); // 3600 s: not above an hour
    expect(eta(1000, 3662, 1)).toBe('1:01:01');
    expect(eta(1000, 7322, 1)).toBe('2:02:01');
  });

  it('formats the time per step as Keras: s, ms or us, rounded, and 0 as 0s', () => {
    const perStep = (seconds: number) => {
      const time = clock(0);
      const { writes, out } = sink(false);
      const p = new Progbar(1, out);
      time.at(seconds * 1000);
      p.update(1, [], true);
      return writes[0].trimEnd().split(' ').slice(2).join(' ');
    };
    expect(perStep(1)).toBe('1s 1s/step');
    expect(perStep(0.9996)).toBe('1s 1000ms/step');
    expect(perStep(0.0015)).toBe('0s 2ms/step');
    expect(perStep(0.001)).toBe('0s 1ms/step');
    expect(perStep(0.0009995)).toBe('0s 1000us/step');
    expect(perStep(0)).toBe('0s 0s/step');
    // The seconds taken stay seconds past a minute (Keras' `{now - start:.0f}s`).
    expect(perStep(125.4)).toBe('125s 125s/step');
  });

  it("prints metrics as Keras: four decimals above 1e-3 in absolute value, else Python's %.4e", () => {
    const { writes, out } = sink(false);
    new Progbar(1, out).update(1, [['a', 0.0011], ['b', 0.001], ['c', 1.5e-7], ['d', -0.5], ['e', 0], ['f', 12345.6789], ['g', 2.5e-12]], true);
    expect(writes[0]).toMatch(/ - a: 0\.0011 - b: 1\.0000e-03 - c: 1\.5000e-07 - d: -0\.5000 - e: 0\.0000e\+00 - f: 12345\.6789 - g: 2\.5000e-12\n$/);
  });

  it('elsewhere writes nothing until the end, then the plain line', () => {
    const time = clock(0);
    const { writes, out } = sink(false);
    const p = new Progbar(100, out);
    p.update(50, [['loss', 1]]);
    expect(writes).toEqual([]);
    time.at(2400);
    p.update(100, [['loss', 1]], true);
    expect(writes).toEqual([`100/100 ${'━'.repeat(20)} 2s 24ms/step - loss: 1.0000\n`]);
  });
});

describe('Progbar verbose 2', () => {
  it("writes one plain line when done: `count - 2s - 24ms/step - metrics`, with Keras' signed threshold", () => {
    const time = clock(0);
    const { writes, out } = sink(true);
    const p = new Progbar(100, out, 2);
    p.update(50, [['loss', 1]]);
    expect(writes).toEqual([]);
    time.at(2400);
    p.update(100, [['loss', 0.25], ['d', -0.5]], true);
    expect(writes).toEqual(['100/100 - 2s - 24ms/step - loss: 0.2500 - d: -5.0000e-01\n']);
  });

  it('pads the count to the width of the target and counts a step at 0 as one', () => {
    const time = clock(500); // the time taken is from the bar's start, not from 0
    const { writes, out } = sink(false);
    const seven = new Progbar(100, out, 2);
    const zero = new Progbar(100, out, 2);
    time.at(3500);
    seven.update(7, [], true);
    zero.update(0, [], true);
    expect(writes).toEqual(['  7/100 - 3s - 429ms/step\n', '  0/100 - 3s - 3s/step\n']);
  });
});

/** `defaultOutput()` made while the global `process` is `value` (undefined: a browser). */
function defaultOutputWith(value: unknown) {
  vi.stubGlobal('process', value);
  try {
    return defaultOutput();
  } finally {
    vi.unstubAllGlobals();
  }
}

describe('defaultOutput', () => {
  it('is stdout in Node', () => {
    expect(defaultOutput()).toBe(process.stdout);
  });

  it('where there is no `process` at all (a browser) does not touch it', () => {
    const output = defaultOutputWith(undefined);
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    output.write('done\n');
    expect(log.mock.calls).toEqual([['done']]);
  });

  it('elsewhere logs whole lines, keeping only what follows the last carriage return', () => {
    const output = defaultOutputWith({});
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    output.write('Epoch 1/2\n');
    expect(log.mock.calls).toEqual([['Epoch 1/2']]);
    log.mockClear();
    output.write('\r 1/2 ━━');
    output.write('\r 2/2 ━━━');
    expect(log).not.toHaveBeenCalled();
    output.write(' done\nEpoch 2/2\nnext');
    expect(log.mock.calls).toEqual([[' 2/2 ━━━ done'], ['Epoch 2/2']]);
    output.write('\r partial\r last\n');
    // The carriage returns take the line back over the earlier write's 'next' too.
    expect(log.mock.calls.at(-1)).toEqual([' last']);
  });
});
