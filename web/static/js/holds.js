// My holds and waitlist offers: a small store (persisted so a reload finds them again),
// the panel that lists them with countdowns, and one ticker for every countdown on the page.

import { api } from "./api.js";
import { announce, formatCountdown, h, mount } from "./dom.js";

const STORAGE_PREFIX = "evently.holds.";

/**
 * Hold = {hold_id, event_id, seat_ids, labels, expires_at, kind: "hold"|"offer", entry_id?,
 *         idempotency_key?} (the CONTRACT Hold plus what the page needs).
 */
export class HoldStore extends EventTarget {
  constructor() {
    super();
    this.items = new Map();
    this.userId = null;
  }

  add(hold, { kind = "hold", entry_id = null } = {}) {
    const prev = this.items.get(hold.hold_id);
    this.items.set(hold.hold_id, {
      ...prev,
      ...hold,
      kind: prev?.kind === "offer" ? "offer" : kind,
      entry_id: entry_id ?? prev?.entry_id ?? null,
    });
    this.#changed();
  }

  remove(holdId) {
    if (this.items.delete(holdId)) this.#changed();
  }

  get(holdId) {
    return this.items.get(holdId);
  }

  all() {
    return [...this.items.values()].sort((a, b) => Date.parse(a.expires_at) - Date.parse(b.expires_at));
  }

  /** Seat ids in my holds and offers for one event. */
  seatIdsFor(eventId) {
    const ids = new Set();
    for (const hold of this.items.values()) {
      if (hold.event_id === eventId) for (const id of hold.seat_ids ?? []) ids.add(id);
    }
    return ids;
  }

  /** Drop holds whose seats were all just booked (a confirm from another tab). */
  removeCoveredBy(eventId, seatIds) {
    const booked = new Set(seatIds);
    for (const hold of [...this.items.values()]) {
      if (hold.event_id === eventId && hold.seat_ids?.length && hold.seat_ids.every((id) => booked.has(id))) {
        this.items.delete(hold.hold_id);
      }
    }
    this.#changed();
  }

  clear() {
    this.items.clear();
    this.userId = null;
    this.#changed();
  }

  /**
   * Load the holds remembered for this user and keep those the server still has, plus the
   * open waitlist offers (GET /waitlists/me).
   */
  async restore(userId) {
    this.userId = userId;
    let remembered = [];
    try {
      remembered = JSON.parse(localStorage.getItem(STORAGE_PREFIX + userId)) || [];
    } catch {
      remembered = [];
    }
    const checks = remembered.map(async (saved) => {
      try {
        const hold = await api.get(`/holds/${encodeURIComponent(saved.hold_id)}`);
        if (Date.parse(hold.expires_at) > Date.now()) {
          this.items.set(hold.hold_id, { ...hold, kind: saved.kind, entry_id: saved.entry_id ?? null });
        }
      } catch {
        /* expired, released or confirmed: forget it */
      }
    });
    const offers = api.get("/waitlists/me").then(async (entries) => {
      for (const entry of entries ?? []) {
        if (entry.status !== "OFFERED" || !entry.offer?.hold_id) continue;
        let hold = { hold_id: entry.offer.hold_id, event_id: entry.event_id, expires_at: entry.offer.expires_at, seat_ids: [], labels: [] };
        try {
          hold = { ...hold, ...(await api.get(`/holds/${encodeURIComponent(entry.offer.hold_id)}`)) };
        } catch {
          /* keep what the entry told us */
        }
        this.items.set(hold.hold_id, { ...hold, kind: "offer", entry_id: entry.id });
      }
    }).catch(() => {});
    await Promise.all([...checks, offers]);
    this.#changed();
  }

  #changed() {
    if (this.userId !== null) {
      const keep = [...this.items.values()].map(({ hold_id, event_id, kind, entry_id }) => ({ hold_id, event_id, kind, entry_id }));
      localStorage.setItem(STORAGE_PREFIX + this.userId, JSON.stringify(keep));
    }
    this.dispatchEvent(new Event("change"));
  }
}

/**
 * Keep `root` listing the store's holds. actions: {confirm(hold), extend(hold), release(hold),
 * eventName(id) → string|undefined}.
 */
export function bindHoldsPanel(root, store, actions) {
  const cards = new Map();
  const list = h("div", { class: "hold-list" });
  const heading = h("h2", { id: "holds-title", text: "Your holds" });
  root.replaceChildren(heading, list);
  root.setAttribute("aria-labelledby", "holds-title");

  function busy(card, on) {
    card.setAttribute("aria-busy", String(on));
    for (const b of card.querySelectorAll("button")) b.disabled = on;
  }

  function run(card, fn) {
    return async () => {
      busy(card, true);
      try {
        await fn();
      } finally {
        if (card.isConnected) busy(card, false);
      }
    };
  }

  function makeCard(hold) {
    const title = h("h3", { class: "hold-title" });
    const seats = h("p", { class: "hold-seats" });
    const time = h("time", { class: "countdown", "data-countdown": "" });
    const card = h("article", { class: "hold-card", "data-hold-id": hold.hold_id },
      title, seats,
      h("p", { class: "hold-expiry" }, h("span", { class: "expires-label", text: "Expires in " }), time),
      h("div", { class: "hold-actions" }),
    );
    card._parts = { title, seats, time };
    return card;
  }

  function fill(card, hold) {
    const { title, seats, time } = card._parts;
    const offer = hold.kind === "offer";
    card.dataset.kind = hold.kind;
    card.dataset.eventId = hold.event_id;
    card.classList.toggle("offer", offer);
    const name = actions.eventName(hold.event_id);
    title.textContent = `${offer ? "Waitlist offer" : "Held for you"}${name ? ` · ${name}` : ""}`;
    const labels = hold.labels?.length ? hold.labels : (hold.seat_ids ?? []).map((id) => `#${id}`);
    seats.textContent = `${labels.length} seat${labels.length === 1 ? "" : "s"}: ${labels.join(", ")}`;
    time.dataset.expiresAt = hold.expires_at;
    time.setAttribute("datetime", hold.expires_at);
    const key = `${hold.kind}`;
    const actionsEl = card.querySelector(".hold-actions");
    if (actionsEl.dataset.key !== key) {
      actionsEl.dataset.key = key;
      mount(actionsEl,
        h("button", { type: "button", class: "btn primary", "data-action": "confirm",
          text: offer ? "Confirm offer" : "Confirm booking",
          onclick: run(card, () => actions.confirm(store.get(card.dataset.holdId))) }),
        offer ? null : h("button", { type: "button", class: "btn", "data-action": "extend", text: "More time",
          onclick: run(card, () => actions.extend(store.get(card.dataset.holdId))) }),
        h("button", { type: "button", class: "btn subtle", "data-action": "release",
          text: offer ? "Decline" : "Release",
          onclick: run(card, () => actions.release(store.get(card.dataset.holdId))) }),
      );
    }
    tickOne(time);
  }

  function render() {
    const holds = store.all();
    root.hidden = holds.length === 0;
    for (const [id, card] of cards) {
      if (!store.get(id)) {
        card.remove();
        cards.delete(id);
      }
    }
    for (const hold of holds) {
      let card = cards.get(hold.hold_id);
      if (!card) {
        card = makeCard(hold);
        cards.set(hold.hold_id, card);
      }
      fill(card, hold);
      list.append(card); // keeps expiry order; moving a node keeps its focus state
    }
  }

  store.addEventListener("change", render);
  render();
  return render;
}

const warned = new Set();

function tickOne(el) {
  const left = (Date.parse(el.dataset.expiresAt) - Date.now()) / 1000;
  const text = left > 0 ? formatCountdown(left) : "expired";
  if (el.textContent !== text) el.textContent = text;
  el.classList.toggle("urgent", left > 0 && left <= 60);
  el.classList.toggle("expired", left <= 0);
  // One spoken warning per hold; the ticking text itself is not live (too chatty).
  const card = el.closest("[data-hold-id]");
  if (card && left > 0 && left <= 60 && !warned.has(card.dataset.holdId)) {
    warned.add(card.dataset.holdId);
    if (left > 5) announce(`${card.querySelector(".hold-seats")?.textContent ?? "Your hold"}: less than a minute left.`);
  }
}

/** Update every [data-countdown] on the page twice a second. */
export function startCountdowns() {
  return setInterval(() => {
    for (const el of document.querySelectorAll("[data-countdown][data-expires-at]")) tickOne(el);
  }, 500);
}
