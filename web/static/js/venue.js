// The whole venue in one SVG: one <rect> per seat (updated in place by id), the stage, section
// titles and row letters; zoom and pan (zoom.js), +/−/fit buttons, section shapes with live
// availability at low zoom (a click zooms to the section), and a minimap when zoomed in.
// Seats stay real buttons for assistive technology: role, aria-label, aria-pressed,
// aria-disabled, and one Tab stop with arrow-key moves (a roving tabindex).

import { SVG_NS, h } from "./dom.js";
import { PITCH, SEAT, layoutVenue } from "./layout.js";
import { seatLabel } from "./seatmap.js";
import { ZoomPan } from "./zoom.js";

const OVERVIEW_BELOW = 13; // px per seat: below this, sections are shown as shapes
const FOCUS_PX = 22; // px per seat when the keyboard lands on a seat
const SECTION_PX = 17; // at least this many px per seat once a section is opened

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  for (const c of children.flat()) if (c) el.append(c);
  return el;
}

/**
 * onToggle(id) runs when an available seat is picked or unpicked. `booked` (a Set of seat ids
 * of my confirmed bookings) marks my sold seats with data-mine="booked".
 */
export class VenueView {
  constructor(root, model, { onToggle }) {
    this.root = root;
    this.model = model;
    this.onToggle = onToggle;
    this.seats = new Map();
    this.selected = new Set();
    this.mine = new Set();
    this.booked = new Set();
    this.layout = null;
    this.shapes = new Map();
    this.overview = null;
    this.world = svg("g", { class: "world" });
    this.svg = svg("svg", { class: "venue", role: "group", "aria-label": "Seat map", "aria-describedby": "venue-help" }, this.world);
    this.mini = svg("svg", { class: "minimap", "aria-hidden": "true" });
    this.miniView = svg("rect", { class: "mini-view" });
    const button = (action, text, label, onclick) =>
      h("button", { type: "button", class: "btn zoom-btn", "data-action": action, "aria-label": label, text, onclick });
    this.controls = h("div", { class: "zoom-controls", role: "toolbar", "aria-label": "Zoom" },
      button("zoom-in", "+", "Zoom in", () => this.zoom.zoomBy(1.5)),
      button("zoom-out", "−", "Zoom out", () => this.zoom.zoomBy(1 / 1.5)),
      button("zoom-fit", "Fit", "Show the whole venue", () => this.zoom.fit()));
    this.help = h("p", { id: "venue-help", class: "visually-hidden",
      text: "Arrow keys move between seats and rows; Enter or Space picks a seat." });
    root.replaceChildren(this.svg, this.controls, this.mini, this.help);
    this.zoom = new ZoomPan(this.svg, this.world, { onChange: (view) => this.#viewChanged(view) });
    this.svg.addEventListener("click", (ev) => this.#onClick(ev));
    this.svg.addEventListener("keydown", (ev) => this.#onKey(ev));
    this.svg.addEventListener("focusin", (ev) => this.#onFocus(ev));
    this.mini.addEventListener("click", (ev) => this.#onMiniClick(ev));
    this.resize = new ResizeObserver(() => this.layout && this.zoom.resized());
    this.resize.observe(this.svg);
  }

  dispose() {
    this.resize.disconnect();
  }

  /** (Re)draw the whole venue from the model's seats and fit it to the screen. */
  build() {
    const layout = (this.layout = layoutVenue(this.model.meta));
    const { stage, sections, pos, rows } = layout;
    const focusId = this.root.querySelector('[data-seat-id][tabindex="0"]')?.dataset.seatId;
    const rowsGroups = new Map();
    for (const sec of sections) rowsGroups.set(sec.name, []);
    this.seats.clear();
    let first = true;
    for (const row of rows) {
      const rects = row.ids.map((id) => {
        const p = pos.get(id);
        const rect = svg("rect", { class: "seat", x: p.x, y: p.y, width: SEAT, height: SEAT, rx: 1.6,
          role: "button", "data-seat-id": id, tabindex: (focusId ? String(id) === focusId : first) ? 0 : -1 });
        first = false;
        this.seats.set(id, rect);
        return rect;
      });
      const name = `${row.section ? `${row.section} ` : ""}row ${row.name}`;
      rowsGroups.get(row.section).push(svg("g", { class: "seat-row", role: "group", "aria-label": name, "data-row": row.name },
        svg("text", { class: "row-label", x: row.x0 - 3, y: row.y + PITCH / 2, "text-anchor": "end", "aria-hidden": "true" }, row.name),
        svg("text", { class: "row-label", x: row.x1 + 3, y: row.y + PITCH / 2, "aria-hidden": "true" }, row.name),
        rects));
    }
    this.shapes.clear();
    const secGroups = sections.map((sec) => svg("g", { class: "seat-section", role: "group", "aria-label": sec.name || "Seats", "data-section": sec.name },
      svg("text", { class: "section-title", x: sec.x + sec.w / 2, y: sec.y - 8, "text-anchor": "middle", "aria-hidden": "true" }, sec.name || "Seats"),
      rowsGroups.get(sec.name)));
    const shapes = sections.map((sec) => this.#shape(sec));
    this.world.replaceChildren(
      svg("g", { class: "stage", "aria-hidden": "true" },
        svg("rect", { x: stage.x, y: stage.y, width: stage.w, height: stage.h, rx: 6 }),
        svg("text", { x: stage.x + stage.w / 2, y: stage.y + stage.h / 2, "text-anchor": "middle" }, "STAGE")),
      ...secGroups,
      svg("g", { class: "section-shapes" }, shapes));
    this.#buildMinimap();
    this.zoom.setBounds(layout.bounds);
    this.zoom.flush();
    this.update();
  }

  #shape(sec) {
    const pad = 6;
    const label = svg("text", { class: "shape-name", x: sec.x + sec.w / 2, y: sec.y + sec.h / 2, "text-anchor": "middle" }, sec.name || "Seats");
    const count = svg("text", { class: "shape-count", x: sec.x + sec.w / 2, y: sec.y + sec.h / 2, "text-anchor": "middle" });
    const size = Math.max(8, Math.min(sec.h * 0.2, sec.w / 12));
    label.setAttribute("font-size", size.toFixed(1));
    label.setAttribute("dy", (-size * 0.25).toFixed(1));
    count.setAttribute("font-size", (size * 0.6).toFixed(1));
    count.setAttribute("dy", (size * 0.85).toFixed(1));
    const g = svg("g", { class: "section-shape", role: "button", tabindex: 0, "data-section-shape": sec.name },
      svg("rect", { x: sec.x - pad, y: sec.y - pad, width: sec.w + 2 * pad, height: sec.h + 2 * pad, rx: 8 }), label, count);
    const open = () => {
      this.zoom.zoomToRect({ x: sec.x - pad, y: sec.y - pad, w: sec.w + 2 * pad, h: sec.h + 2 * pad }, 24, null, SECTION_PX / PITCH);
      this.zoom.flush();
    };
    g.addEventListener("click", (ev) => { ev.stopPropagation(); open(); });
    g.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); open(); }
    });
    this.shapes.set(sec.name, { g, count, sec });
    return g;
  }

  #buildMinimap() {
    const { bounds, sections, stage } = this.layout;
    this.mini.setAttribute("viewBox", `${bounds.x} ${bounds.y} ${bounds.w} ${bounds.h}`);
    this.mini.replaceChildren(
      svg("rect", { class: "mini-stage", x: stage.x, y: stage.y, width: stage.w, height: stage.h }),
      ...sections.map((s) => svg("rect", { class: "mini-section", "data-mini-section": s.name, x: s.x, y: s.y, width: s.w, height: s.h })),
      this.miniView);
  }

  #viewChanged(view) {
    const overview = view.k * PITCH < OVERVIEW_BELOW;
    if (overview !== this.overview) {
      this.overview = overview;
      this.svg.classList.toggle("overview", overview);
      this.root.dataset.zoom = overview ? "overview" : "seats";
      for (const { g } of this.shapes.values()) g.setAttribute("tabindex", overview ? "0" : "-1");
    }
    const r = this.zoom.visibleRect();
    const zoomed = view.k > this.zoom.fitK * 1.15;
    this.mini.classList.toggle("shown", zoomed);
    this.miniView.setAttribute("x", r.x.toFixed(1));
    this.miniView.setAttribute("y", r.y.toFixed(1));
    this.miniView.setAttribute("width", r.w.toFixed(1));
    this.miniView.setAttribute("height", r.h.toFixed(1));
  }

  #onMiniClick(ev) {
    const box = this.mini.getBoundingClientRect();
    const b = this.layout.bounds;
    const scale = Math.min(box.width / b.w, box.height / b.h);
    const ox = (box.width - b.w * scale) / 2;
    const oy = (box.height - b.h * scale) / 2;
    this.zoom.centreOn(b.x + (ev.clientX - box.left - ox) / scale, b.y + (ev.clientY - box.top - oy) / scale);
  }

  /**
   * Refresh the given seats (all when omitted). `mine`: seat ids in my holds for this event;
   * `booked`: seat ids of my confirmed bookings.
   */
  update(ids = null, mine = this.mine, booked = this.booked) {
    this.mine = mine;
    this.booked = booked;
    for (const id of ids ?? this.seats.keys()) {
      const el = this.seats.get(id);
      const seat = this.model.meta.get(id);
      if (!el || !seat) continue;
      const status = this.model.displayStatus(id, mine);
      if (status !== "available") this.selected.delete(id);
      const selected = this.selected.has(id);
      const myBooking = status === "sold" && booked.has(id);
      if (el.dataset.status !== status) el.dataset.status = status;
      if (myBooking) el.dataset.mine = "booked";
      else if (el.dataset.mine) delete el.dataset.mine;
      el.classList.toggle("selected", selected);
      el.setAttribute("aria-pressed", String(selected));
      el.setAttribute("aria-disabled", String(status !== "available"));
      el.setAttribute("aria-label", seatLabel(seat, myBooking ? "booked" : status, selected));
    }
    this.#scheduleShapes();
  }

  #scheduleShapes() {
    if (this.shapeTimer) return;
    this.shapeTimer = setTimeout(() => {
      this.shapeTimer = null;
      this.#renderShapes();
    }, 120);
  }

  #renderShapes() {
    for (const { g, count, sec } of this.shapes.values()) {
      let free = 0;
      for (const id of sec.ids) if (this.model.displayStatus(id, this.mine) === "available") free += 1;
      const share = sec.ids.length ? free / sec.ids.length : 0;
      g.dataset.available = String(free);
      g.dataset.level = free === 0 ? "none" : share < 0.2 ? "low" : "some";
      count.textContent = free === 0 ? "Sold out" : `${free} of ${sec.ids.length} free`;
      g.setAttribute("aria-label", `${sec.name || "Seats"}: ${free} of ${sec.ids.length} seats available. Zoom in`);
      this.mini.querySelector(`[data-mini-section="${CSS.escape(sec.name)}"]`)?.setAttribute("data-level", g.dataset.level);
    }
  }

  /** Zoom to show these seats (a new hold), seats at least SECTION_PX big. */
  showSeats(ids) {
    const points = ids.map((id) => this.layout?.pos.get(id)).filter(Boolean);
    if (!points.length) return;
    const x0 = Math.min(...points.map((p) => p.x));
    const y0 = Math.min(...points.map((p) => p.y));
    const x1 = Math.max(...points.map((p) => p.x)) + SEAT;
    const y1 = Math.max(...points.map((p) => p.y)) + SEAT;
    const k = Math.max(this.zoom.view.k, SECTION_PX / PITCH);
    const r = this.zoom.visibleRect();
    const inView = x0 >= r.x && y0 >= r.y && x1 <= r.x + r.w && y1 <= r.y + r.h;
    if (inView && k === this.zoom.view.k) return;
    this.zoom.zoomToRect({ x: x0, y: y0, w: x1 - x0, h: y1 - y0 }, 0, k);
  }

  clearSelection() {
    const ids = [...this.selected];
    this.selected.clear();
    this.update(ids);
  }

  #activate(id) {
    if (this.model.displayStatus(id, this.mine) !== "available") return;
    if (this.selected.has(id)) this.selected.delete(id);
    else this.selected.add(id);
    this.update([id]);
    this.#focus(this.seats.get(id));
    this.onToggle?.(id);
  }

  #onClick(ev) {
    const el = ev.target.closest?.("[data-seat-id]");
    if (el) this.#activate(Number(el.dataset.seatId));
  }

  #focus(el) {
    if (!el) return;
    for (const other of this.world.querySelectorAll('[data-seat-id][tabindex="0"]')) if (other !== el) other.setAttribute("tabindex", "-1");
    el.setAttribute("tabindex", "0");
    el.focus({ preventScroll: true });
  }

  // Keyboard focus on a seat zooms in far enough to see it.
  #onFocus(ev) {
    const el = ev.target.closest?.("[data-seat-id]");
    if (!el) return;
    const p = this.layout.pos.get(Number(el.dataset.seatId));
    if (p) this.zoom.ensureVisible({ x: p.x, y: p.y, w: SEAT, h: SEAT }, FOCUS_PX / PITCH);
  }

  #onKey(ev) {
    const el = ev.target.closest?.("[data-seat-id]");
    if (!el) return;
    const id = Number(el.dataset.seatId);
    if (ev.key === "Enter" || ev.key === " ") {
      ev.preventDefault();
      this.#activate(id);
      return;
    }
    const rows = this.layout.rows;
    const r = rows.findIndex((row) => row.ids.includes(id));
    const row = rows[r];
    const i = row.ids.indexOf(id);
    let target = null;
    switch (ev.key) {
      case "ArrowLeft": target = row.ids[i - 1]; break;
      case "ArrowRight": target = row.ids[i + 1]; break;
      case "Home": target = row.ids[0]; break;
      case "End": target = row.ids.at(-1); break;
      case "ArrowUp":
      case "ArrowDown": {
        const other = rows[r + (ev.key === "ArrowUp" ? -1 : 1)];
        if (other) {
          // The seat of the other row nearest on screen.
          const x = this.layout.pos.get(id).x;
          target = other.ids.reduce((best, o) => (Math.abs(this.layout.pos.get(o).x - x) < Math.abs(this.layout.pos.get(best).x - x) ? o : best));
        }
        break;
      }
      case "+": case "=": this.zoom.zoomBy(1.5); break;
      case "-": this.zoom.zoomBy(1 / 1.5); break;
      default: return;
    }
    ev.preventDefault();
    if (target !== null && target !== undefined) this.#focus(this.seats.get(target));
  }
}
