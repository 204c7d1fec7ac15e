// Small SVG line charts for the simulator page: no library, redrawn whole
// (a few thousand points at most).

const NS = 'http://www.w3.org/2000/svg';
export const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d', '#475569', '#ea580c', '#4f46e5', '#0d9488'];

function el(name, attrs = {}, text = null) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== null) e.textContent = text;
  return e;
}

/** A "nice" step for about `n` ticks over 0..max. */
function niceStep(max, n) {
  const raw = max / n;
  let mag = 1;
  while (mag * 10 <= raw) mag *= 10;
  while (mag > raw) mag /= 10;
  for (const m of [1, 2, 2.5, 5, 10]) if (m * mag >= raw) return m * mag;
  return 10 * mag;
}

const fmt = (v) => (Math.abs(v) >= 1000 ? `${(v / 1000).toFixed(v % 1000 === 0 ? 0 : 1)}k` : String(Number(v.toFixed(2))));

/**
 * Draws a line chart into `svg` (its viewBox is set to width × height):
 * `x` the shared x values, `lines` [{label, color, values (null = no value),
 * dash, width, legend (false: none), dots (mark each value), connectGaps}],
 * `xMax`, optional `yMax`, `yFormat`, `xLabel`.
 */
export function lineChart(svg, { x, lines, xMax, yMax = null, yFormat = fmt, xLabel = 'hours' }) {
  const W = 560;
  const H = 250;
  const m = { l: 48, r: 12, t: 12, b: 50 };
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.replaceChildren();
  let top = yMax;
  if (top === null) {
    top = 0;
    for (const line of lines) for (const v of line.values) if (v !== null && v > top) top = v;
    if (top <= 0) top = 1;
  }
  const step = niceStep(top, 4);
  top = Math.ceil(top / step - 1e-9) * step;
  const px = (v) => m.l + ((W - m.l - m.r) * v) / xMax;
  const py = (v) => H - m.b - ((H - m.t - m.b) * Math.min(v, top)) / top;
  const axes = el('g', { class: 'axes' });
  for (let v = 0; v <= top + 1e-9; v += step) {
    axes.append(el('line', { x1: m.l, x2: W - m.r, y1: py(v), y2: py(v), class: 'grid' }));
    axes.append(el('text', { x: m.l - 6, y: py(v) + 4, 'text-anchor': 'end' }, yFormat(v)));
  }
  const xs = niceStep(xMax, 6);
  for (let v = 0; v <= xMax + 1e-9; v += xs) {
    axes.append(el('text', { x: px(v), y: H - m.b + 16, 'text-anchor': 'middle' }, fmt(v)));
  }
  axes.append(el('text', { x: W - m.r, y: H - m.b + 16, 'text-anchor': 'end', class: 'unit' }, xLabel === 'hours' ? 'h' : xLabel));
  svg.append(axes);
  for (const line of lines) {
    let d = '';
    let pen = false;
    const dots = el('g', { fill: line.color });
    line.values.forEach((v, i) => {
      if (v === null || i >= x.length) {
        if (!line.connectGaps) pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${px(x[i]).toFixed(1)},${py(v).toFixed(1)}`;
      pen = true;
      if (line.dots) dots.append(el('circle', { cx: px(x[i]).toFixed(1), cy: py(v).toFixed(1), r: 2 }));
    });
    if (line.dots) svg.append(dots);
    if (d) {
      svg.append(el('path', { d, fill: 'none', stroke: line.color, 'stroke-width': line.width ?? 1.8, 'stroke-dasharray': line.dash ?? '' }));
    }
  }
  // legend under the x axis
  let lx = m.l;
  const ly = H - 12;
  for (const line of lines) {
    if (line.legend === false) continue;
    const g = el('g', { class: 'legend' });
    g.append(el('line', { x1: lx, x2: lx + 16, y1: ly - 4, y2: ly - 4, stroke: line.color, 'stroke-width': 2.5, 'stroke-dasharray': line.dash ?? '' }));
    const t = el('text', { x: lx + 20, y: ly }, line.label);
    g.append(t);
    svg.append(g);
    lx += 28 + 6.5 * line.label.length;
  }
}
