// Tiny inline-SVG time series for the admin dashboard: a ring buffer of recent values and
// a chart that redraws in place (no library).

import { SVG_NS } from "./dom.js";

export const HISTORY = 120;

/** The last `limit` numbers pushed. */
export class Series {
  constructor(limit = HISTORY) {
    this.limit = limit;
    this.values = [];
  }

  push(value) {
    this.values.push(Number.isFinite(value) ? value : 0);
    if (this.values.length > this.limit) this.values.splice(0, this.values.length - this.limit);
  }

  get last() {
    return this.values.at(-1);
  }
}

function svg(tag, attrs) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/**
 * A chart of one or more series on a shared 0-based scale, newest point at the right edge.
 * lines: [{series: Series, className}] — colours come from CSS (.spark-<className>).
 */
export class Sparkline {
  constructor(lines, { width = 120, height = 28, label = "" } = {}) {
    this.lines = lines;
    this.width = width;
    this.height = height;
    this.el = svg("svg", {
      class: "sparkline", width, height, viewBox: `0 0 ${width} ${height}`,
      role: "img", "aria-label": label, preserveAspectRatio: "none",
    });
    this.el.append(svg("line", { class: "spark-base", x1: 0, y1: height - 1, x2: width, y2: height - 1 }));
    this.polys = lines.map(({ className }) => {
      const p = svg("polyline", { class: `spark-line spark-${className}`, fill: "none", points: "" });
      this.el.append(p);
      return p;
    });
    this.dots = lines.map(({ className }) => {
      const c = svg("circle", { class: `spark-dot spark-${className}`, r: 2, cx: -10, cy: -10 });
      this.el.append(c);
      return c;
    });
  }

  /**
   * Redraw. Until a series has `limit` points its points are spread over the whole width, so
   * the chart is filled from the first push (one point is a flat line at that value).
   */
  draw() {
    const { width, height } = this;
    const longest = Math.max(...this.lines.map((l) => l.series.values.length));
    const max = Math.max(1, ...this.lines.flatMap((l) => l.series.values));
    const step = width / Math.max(1, longest - 1);
    const pad = 2;
    const y = (v) => (height - pad - (v / max) * (height - 2 * pad)).toFixed(1);
    this.lines.forEach(({ series }, i) => {
      const n = series.values.length;
      const pts = n === 1 ? [`0,${y(series.last)}`, `${width},${y(series.last)}`]
        : series.values.map((v, j) => `${(width - (n - 1 - j) * step).toFixed(1)},${y(v)}`);
      this.polys[i].setAttribute("points", pts.join(" "));
      if (n) {
        this.dots[i].setAttribute("cx", String(width - 2));
        this.dots[i].setAttribute("cy", y(series.last));
      }
    });
  }
}
