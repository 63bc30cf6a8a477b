// Zoom and pan of one SVG "world" group: wheel (and trackpad pinch), one-finger or mouse drag,
// two-finger pinch, and calls from buttons. The view is {k, tx, ty}: screen = world * k + t.
// Changes are drawn once per animation frame; onChange(view) runs after each drawn change.

const DRAG_SLOP = 5; // px a pointer may move and still count as a click
const MAX_FIT = 3.4; // px per world unit when fitting (a seat pitch is 10 units)
const MAX_K = 6;

export class ZoomPan {
  /**
   * @param {SVGSVGElement} svg the viewport (its client size is the screen)
   * @param {SVGGElement} world the group that gets the transform
   * @param {{onChange?: (view) => void}} options
   */
  constructor(svg, world, { onChange } = {}) {
    this.svg = svg;
    this.world = world;
    this.onChange = onChange;
    this.view = { k: 1, tx: 0, ty: 0 };
    this.bounds = { x: 0, y: 0, w: 1, h: 1 };
    this.fitK = 1;
    this.maxK = 6;
    this.pointers = new Map();
    this.dragged = false;
    this.frame = 0;
    svg.addEventListener("wheel", (ev) => this.#onWheel(ev), { passive: false });
    svg.addEventListener("pointerdown", (ev) => this.#onDown(ev));
    svg.addEventListener("pointermove", (ev) => this.#onMove(ev));
    for (const type of ["pointerup", "pointercancel", "pointerleave"]) svg.addEventListener(type, (ev) => this.#onUp(ev));
    // A drag must not end in a click on the seat under the pointer.
    svg.addEventListener("click", (ev) => {
      if (this.dragged) {
        ev.stopPropagation();
        ev.preventDefault();
        this.dragged = false;
      }
    }, true);
  }

  size() {
    return { w: this.svg.clientWidth || 1, h: this.svg.clientHeight || 1 };
  }

  /** Set the world's extent and show all of it. */
  setBounds(bounds) {
    this.bounds = bounds;
    this.fit();
  }

  /** The screen changed size: fit again unless the user has zoomed or panned away. */
  resized() {
    if (this.atFit) this.fit();
    else this.#set(this.view.k, this.view.tx, this.view.ty);
  }

  /** Show the whole venue, centred. */
  fit() {
    const { w, h } = this.size();
    const b = this.bounds;
    // Small venues stop at big seats (MAX_FIT px/unit) instead of filling the screen.
    this.fitK = Math.min(Math.min(w / b.w, h / b.h) * 0.96, MAX_FIT);
    this.maxK = Math.max(this.fitK * 2, MAX_K);
    this.zoomToRect(b, 0, this.fitK);
    this.atFit = true;
  }

  /**
   * Centre `rect` (world units) and scale it to fill the screen, less `pad` px, but to at
   * least `minK` (a section on a phone: seats big enough to tap beat seeing all of it).
   */
  zoomToRect(rect, pad = 24, k = null, minK = 0) {
    const { w, h } = this.size();
    const scale = k ?? Math.max(minK, Math.min((w - 2 * pad) / rect.w, (h - 2 * pad) / rect.h));
    this.#set(scale, w / 2 - (rect.x + rect.w / 2) * this.#clampK(scale), h / 2 - (rect.y + rect.h / 2) * this.#clampK(scale));
  }

  /** Zoom by `factor` keeping the screen point (sx, sy) still (the centre when omitted). */
  zoomBy(factor, sx = null, sy = null) {
    const { w, h } = this.size();
    const px = sx ?? w / 2;
    const py = sy ?? h / 2;
    const { k, tx, ty } = this.view;
    const nk = this.#clampK(k * factor);
    this.#set(nk, px - ((px - tx) / k) * nk, py - ((py - ty) / k) * nk);
  }

  panBy(dx, dy) {
    this.#set(this.view.k, this.view.tx + dx, this.view.ty + dy);
  }

  /** Centre the world point (x, y) at the current scale. */
  centreOn(x, y) {
    const { w, h } = this.size();
    this.#set(this.view.k, w / 2 - x * this.view.k, h / 2 - y * this.view.k);
  }

  /** Make `rect` visible, zooming in to at least `minK` (keyboard focus). */
  ensureVisible(rect, minK) {
    const { w, h } = this.size();
    const k = Math.max(this.view.k, minK);
    const sx = rect.x * k + this.view.tx;
    const sy = rect.y * k + this.view.ty;
    const margin = 40;
    if (k !== this.view.k || sx < margin || sy < margin || sx + rect.w * k > w - margin || sy + rect.h * k > h - margin) {
      this.#set(k, w / 2 - (rect.x + rect.w / 2) * k, h / 2 - (rect.y + rect.h / 2) * k);
    }
  }

  /** The world rectangle on screen now. */
  visibleRect() {
    const { w, h } = this.size();
    const { k, tx, ty } = this.view;
    return { x: -tx / k, y: -ty / k, w: w / k, h: h / k };
  }

  #clampK(k) {
    return Math.min(Math.max(k, this.fitK * 0.8), this.maxK);
  }

  // Keep some of the venue on screen whatever the pan.
  #set(k, tx, ty) {
    this.atFit = false;
    k = this.#clampK(k);
    const { w, h } = this.size();
    const b = this.bounds;
    const keep = 60;
    tx = Math.min(Math.max(tx, keep - (b.x + b.w) * k), w - keep - b.x * k);
    ty = Math.min(Math.max(ty, keep - (b.y + b.h) * k), h - keep - b.y * k);
    this.view = { k, tx, ty };
    if (!this.frame) this.frame = requestAnimationFrame(() => this.#draw());
  }

  #draw() {
    this.frame = 0;
    const { k, tx, ty } = this.view;
    this.world.setAttribute("transform", `translate(${tx.toFixed(2)} ${ty.toFixed(2)}) scale(${k.toFixed(5)})`);
    this.onChange?.(this.view);
  }

  /** Apply the view now (first paint must not wait a frame). */
  flush() {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.#draw();
  }

  #point(ev) {
    const r = this.svg.getBoundingClientRect();
    return { x: ev.clientX - r.left, y: ev.clientY - r.top };
  }

  #onWheel(ev) {
    ev.preventDefault();
    const p = this.#point(ev);
    if (ev.ctrlKey || Math.abs(ev.deltaY) >= Math.abs(ev.deltaX)) {
      // Mouse wheels zoom; trackpad pinches arrive as ctrl+wheel.
      const unit = ev.deltaMode === 1 ? 16 : 1;
      this.zoomBy(Math.exp(-ev.deltaY * unit * (ev.ctrlKey ? 0.01 : 0.0015)), p.x, p.y);
    } else {
      this.panBy(-ev.deltaX, 0);
    }
  }

  #onDown(ev) {
    if (ev.button !== 0 && ev.pointerType === "mouse") return;
    this.pointers.set(ev.pointerId, { ...this.#point(ev), start: this.#point(ev) });
    if (this.pointers.size === 1) this.dragged = false;
  }

  #onMove(ev) {
    const prev = this.pointers.get(ev.pointerId);
    if (!prev) return;
    const p = this.#point(ev);
    if (this.pointers.size === 1) {
      if (!this.dragged && Math.hypot(p.x - prev.start.x, p.y - prev.start.y) < DRAG_SLOP) return;
      if (!this.dragged) this.svg.setPointerCapture?.(ev.pointerId);
      this.dragged = true;
      this.panBy(p.x - prev.x, p.y - prev.y);
    } else if (this.pointers.size === 2) {
      const [a, b] = [...this.pointers.entries()].map(([id, q]) => (id === ev.pointerId ? p : q));
      const [pa, pb] = [...this.pointers.values()];
      const before = Math.hypot(pa.x - pb.x, pa.y - pb.y) || 1;
      const after = Math.hypot(a.x - b.x, a.y - b.y) || 1;
      this.dragged = true;
      this.zoomBy(after / before, (a.x + b.x) / 2, (a.y + b.y) / 2);
      this.panBy((a.x + b.x - pa.x - pb.x) / 2, (a.y + b.y - pa.y - pb.y) / 2);
    }
    this.pointers.set(ev.pointerId, { ...p, start: prev.start });
  }

  #onUp(ev) {
    this.pointers.delete(ev.pointerId);
  }
}
