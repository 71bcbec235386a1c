import { describe, expect, it } from 'vitest';
import { Progbar } from '../src/nn/progress.js';
import { historySvg } from '../src/runner/plot.js';

describe('Progbar', () => {
  it('on a terminal redraws one line in place, with colours, and ends it when finished', () => {
    const writes: string[] = [];
    const bar = new Progbar(3, { write: (t) => writes.push(t), isTTY: true });
    bar.update(1, [['loss', 0.5]]);
    bar.update(3, [['loss', 0.25]], true);
    expect(writes).toHaveLength(2);
    expect(writes[0].startsWith('\r\x1b[1m1/3\x1b[0m ')).toBe(true);
    expect(writes[0]).toContain(' - loss: 0.5000');
    expect(writes[1].endsWith('\n')).toBe(true);
    expect(writes[1]).toMatch(/ - loss: 0\.2500\s*\n$/);
  });

  it('elsewhere writes only the finished line, without colours', () => {
    const writes: string[] = [];
    const bar = new Progbar(12, { write: (t) => writes.push(t), isTTY: false });
    for (let i = 1; i <= 12; i++) bar.update(i, [['accuracy', 0.75]], i === 12);
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatch(/^12\/12 ━{20} \d+s \d+(us|ms|s)\/step - accuracy: 0\.7500\n$/);
  });
});

describe('historySvg', () => {
  it("draws the tutorial's two figures: training as dots, validation as a line", () => {
    const svg = historySvg({ loss: [0.7, 0.5, 0.4], val_loss: [0.69, 0.55, 0.5], accuracy: [0.5, 0.7, 0.8], val_accuracy: [0.52, 0.68, 0.75] });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('Training and validation loss');
    expect(svg).toContain('Training and validation accuracy');
    expect(svg.match(/<circle /g)).toHaveLength(3 * 2 + 2); // 3 epochs per panel, plus a legend dot each
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg).not.toContain('NaN');
  });

  it('labels ticks with enough decimals to tell them apart on a narrow range', () => {
    const svg = historySvg({ loss: [0.6924, 0.6888, 0.6797], val_loss: [0.6914, 0.6862, 0.6746], accuracy: [0.5, 0.6], val_accuracy: [0.5, 0.6] });
    const lossPanel = svg.slice(0, svg.indexOf('Training and validation accuracy'));
    const ticks = [...lossPanel.matchAll(/text-anchor="end">([\d.]+)</g)].map((m) => m[1]);
    expect(ticks).toHaveLength(6);
    expect(new Set(ticks).size).toBe(6);
  });
});
