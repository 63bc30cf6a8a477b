// The seat model: SeatModel keeps statuses in step with the server's snapshot/delta stream
// (no DOM); venue.js draws it.

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

  /** Seats by shown status; over the known seats, or every streamed seat when no meta. */
  counts(mine = new Set()) {
    const counts = { available: 0, held: 0, sold: 0, mine: 0 };
    for (const id of this.meta.size ? this.meta.keys() : this.status.keys()) counts[this.displayStatus(id, mine)] += 1;
    return counts;
  }
}

const STATUS_WORDS = { available: "available", held: "held by someone else", sold: "sold", mine: "held by you", booked: "booked by you" };

/** "Stalls row A seat 5, available" (CONTRACT labels; section may be absent). */
export function seatLabel(seat, status, selected = false) {
  const where = [
    seat.section ? `${seat.section}` : "",
    seat.row !== null && seat.row !== undefined && seat.row !== "" ? `row ${seat.row}` : "",
    seat.number !== null && seat.number !== undefined ? `seat ${seat.number}` : `seat ${seat.label}`,
  ].filter(Boolean).join(" ");
  return `${where}, ${STATUS_WORDS[status] ?? status}${selected ? ", selected" : ""}`;
}
