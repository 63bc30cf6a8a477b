// The seat map: SeatModel keeps statuses in step with the server's snapshot/delta stream
// (no DOM), SeatMapView draws sections → rows → seat buttons and updates them in place.

import { h } from "./dom.js";

export const STATUSES = ["available", "held", "sold", "mine"];

/**
 * Seat statuses for one event, following CONTRACT.md §3:
 * a `snapshot` replaces everything; a `delta` applies only when its epoch matches and its
 * seq is exactly ours + 1. Anything else tells the caller to subscribe again with since().
 */
export class SeatModel {
  constructor(eventId) {
    this.eventId = eventId;
    /** id → {id, label, section, row, number} from GET /events/{id}/seats */
    this.meta = new Map();
    /** id → "available" | "held" | "sold" */
    this.status = new Map();
    this.epoch = null;
    this.seq = null;
    /** True once a snapshot or a recovery has brought us level with the server. */
    this.live = false;
    /** seq → changes of deltas that arrived ahead of a gap. */
    this.pending = new Map();
    /** Set when the stream names a seat we have no label for (seats were added). */
    this.unknownSeats = false;
  }

  /**
   * Take the seat list from REST. Its statuses and (epoch, seq) are used only until the first
   * WebSocket snapshot: they make a good `since` for the first subscribe.
   */
  setMeta(payload) {
    for (const s of payload.seats ?? []) {
      this.meta.set(s.id, { id: s.id, label: s.label, section: s.section, row: s.row, number: s.number });
      if (!this.live && !this.status.has(s.id)) this.status.set(s.id, s.status);
    }
    if (this.epoch === null && payload.epoch !== undefined && payload.seq !== undefined) {
      this.epoch = payload.epoch;
      this.seq = payload.seq;
    }
    this.unknownSeats = false;
  }

  /** @returns {{epoch, seq} | undefined} where we are, for `subscribe.since` */
  since() {
    return this.epoch === null || this.seq === null ? undefined : { epoch: this.epoch, seq: this.seq };
  }

  /** @returns {number[]} every seat id (all may have changed) */
  applySnapshot(msg) {
    const next = new Map();
    for (const status of ["available", "held", "sold"]) {
      for (const id of msg.seats?.[status] ?? []) next.set(id, status);
    }
    // A seat missing from the snapshot keeps its last known status rather than vanishing.
    for (const [id, status] of this.status) if (!next.has(id)) next.set(id, status);
    this.status = next;
    this.epoch = msg.epoch;
    this.seq = msg.seq;
    this.live = true;
    this.unknownSeats = [...next.keys()].some((id) => !this.meta.has(id));
    this.#drain([]);
    return [...next.keys()];
  }

  /**
   * @returns {{result: "applied"|"stale"|"gap"|"epoch", changed: number[]}}
   *   "stale": already seen (seq ≤ ours) and ignored; "gap": kept aside until the missing ones
   *   arrive (resubscribe with since()); "epoch": the view was rebuilt (resubscribe).
   */
  applyDelta(msg) {
    if (this.epoch === null || msg.epoch !== this.epoch) return { result: "epoch", changed: [] };
    if (msg.seq <= this.seq) return { result: "stale", changed: [] };
    if (this.pending.size > 5000) this.pending.clear(); // a resubscribe will refill
    this.pending.set(msg.seq, msg.changes ?? []);
    const changed = this.#drain([]);
    if (this.pending.size > 0) return { result: "gap", changed };
    return { result: "applied", changed };
  }

  // Apply buffered deltas that now follow on from seq, in order; drop ones already covered.
  #drain(changed) {
    while (this.pending.has(this.seq + 1)) {
      this.seq += 1;
      for (const { seat_id: id, status } of this.pending.get(this.seq)) {
        this.status.set(id, status);
        if (!this.meta.has(id)) this.unknownSeats = true;
        changed.push(id);
      }
      this.pending.delete(this.seq);
    }
    for (const seq of this.pending.keys()) if (seq <= this.seq) this.pending.delete(seq);
    return changed;
  }

  /** "mine" when held and in one of my holds, else the server status. */
  displayStatus(id, mine) {
    const status = this.status.get(id) ?? "available";
    return status === "held" && mine.has(id) ? "mine" : status;
  }

  counts(mine) {
    const counts = { available: 0, held: 0, sold: 0, mine: 0 };
    for (const id of this.meta.keys()) counts[this.displayStatus(id, mine)] += 1;
    return counts;
  }
}

const STATUS_WORDS = { available: "available", held: "held by someone else", sold: "sold", mine: "held by you" };

/** "Stalls row A seat 5, available" (CONTRACT labels; section may be absent). */
export function seatLabel(seat, status, selected = false) {
  const where = [
    seat.section ? `${seat.section}` : "",
    seat.row !== null && seat.row !== undefined && seat.row !== "" ? `row ${seat.row}` : "",
    seat.number !== null && seat.number !== undefined ? `seat ${seat.number}` : `seat ${seat.label}`,
  ].filter(Boolean).join(" ");
  return `${where}, ${STATUS_WORDS[status] ?? status}${selected ? ", selected" : ""}`;
}

function naturalCompare(a, b) {
  return String(a ?? "").localeCompare(String(b ?? ""), undefined, { numeric: true });
}

/**
 * Draws the map into `root` and keeps one button per seat.
 * onToggle(id) is called when an available seat is activated.
 */
export class SeatMapView {
  constructor(root, model, { onToggle }) {
    this.root = root;
    this.model = model;
    this.onToggle = onToggle;
    this.buttons = new Map();
    this.selected = new Set();
    this.mine = new Set();
    this.root.addEventListener("keydown", (ev) => this.#onKey(ev));
  }

  /** (Re)build every section, row and seat from the model's meta. */
  build() {
    const sections = new Map();
    const seats = [...this.model.meta.values()].sort((a, b) => a.id - b.id);
    for (const seat of seats) {
      const sKey = seat.section ?? "";
      if (!sections.has(sKey)) sections.set(sKey, new Map());
      const rows = sections.get(sKey);
      const rKey = seat.row ?? "";
      if (!rows.has(rKey)) rows.set(rKey, []);
      rows.get(rKey).push(seat);
    }
    this.buttons.clear();
    const blocks = [];
    let first = true;
    for (const [section, rows] of sections) {
      const rowEls = [];
      for (const [row, rowSeats] of rows) {
        rowSeats.sort((a, b) => naturalCompare(a.number, b.number) || a.id - b.id);
        const buttons = rowSeats.map((seat) => {
          const btn = h("button", {
            type: "button",
            class: "seat",
            "data-seat-id": seat.id,
            tabindex: first ? "0" : "-1",
            text: seat.number ?? seat.label,
            title: seat.label,
            onclick: () => this.#activate(seat.id),
          });
          first = false;
          this.buttons.set(seat.id, btn);
          return btn;
        });
        rowEls.push(
          h("div", { class: "seat-row", role: "group", "aria-label": `${section ? `${section} ` : ""}row ${row}`, "data-row": row },
            h("span", { class: "row-label", "aria-hidden": "true", text: row }),
            h("div", { class: "row-seats" }, buttons),
          ),
        );
      }
      const title = section || "Seats";
      blocks.push(
        h("section", { class: "seat-section", "data-section": section, "aria-label": title },
          h("h3", { class: "section-title", text: title }),
          h("div", { class: "section-rows" }, rowEls),
        ),
      );
    }
    this.root.replaceChildren(
      h("div", { class: "stage", "aria-hidden": "true", text: "Stage" }),
      ...blocks,
    );
    this.update();
  }

  /** Refresh the given seats (all when omitted). `mine` = seat ids in my holds for this event. */
  update(ids = null, mine = this.mine) {
    this.mine = mine;
    for (const id of ids ?? this.buttons.keys()) {
      const btn = this.buttons.get(id);
      const seat = this.model.meta.get(id);
      if (!btn || !seat) continue;
      const status = this.model.displayStatus(id, mine);
      if (status !== "available") this.selected.delete(id);
      const selected = this.selected.has(id);
      if (btn.dataset.status !== status) btn.dataset.status = status;
      btn.classList.toggle("selected", selected);
      btn.setAttribute("aria-pressed", String(selected));
      btn.setAttribute("aria-disabled", String(status !== "available"));
      btn.setAttribute("aria-label", seatLabel(seat, status, selected));
    }
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
    this.#focus(this.buttons.get(id));
    this.onToggle?.(id);
  }

  #focus(btn) {
    if (!btn) return;
    for (const b of this.root.querySelectorAll('.seat[tabindex="0"]')) if (b !== btn) b.tabIndex = -1;
    btn.tabIndex = 0;
    btn.focus();
  }

  // Arrow keys move within and between rows (a roving tabindex: the map is one Tab stop).
  #onKey(ev) {
    const btn = ev.target.closest?.(".seat");
    if (!btn) return;
    const rowSeats = [...btn.parentElement.children];
    const index = rowSeats.indexOf(btn);
    const rows = [...this.root.querySelectorAll(".row-seats")];
    const rowIndex = rows.indexOf(btn.parentElement);
    let target = null;
    switch (ev.key) {
      case "ArrowLeft": target = rowSeats[index - 1]; break;
      case "ArrowRight": target = rowSeats[index + 1]; break;
      case "Home": target = rowSeats[0]; break;
      case "End": target = rowSeats.at(-1); break;
      case "ArrowUp":
      case "ArrowDown": {
        const other = rows[rowIndex + (ev.key === "ArrowUp" ? -1 : 1)];
        if (other) {
          const seats = [...other.children];
          target = seats[Math.min(index, seats.length - 1)];
        }
        break;
      }
      default: return;
    }
    ev.preventDefault();
    this.#focus(target);
  }
}
