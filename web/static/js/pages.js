// Two views of the seat picker: the event list (live availability, the same figures as the
// map) and my bookings; the seat map is eventpage.js. Each returns {dispose()} so the router
// can tear down its listeners and subscriptions.

import { api } from "./api.js";
import { announce, announceError, formatTime, h, mount } from "./dom.js";
import { SeatModel } from "./seatmap.js";

function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}


// ---- #/ -------------------------------------------------------------------------------------

export function eventsPage(app, root) {
  const params = new URLSearchParams(sessionStorage.getItem("evently.search") || "upcoming_only=true");
  let page = 1;
  let disposed = false;
  const q = h("input", { id: "event-search", name: "q", type: "search", placeholder: "Name or venue", value: params.get("q") ?? "", autocomplete: "off" });
  const upcoming = h("input", { type: "checkbox", name: "upcoming_only", checked: params.get("upcoming_only") === "true" });
  const list = h("ul", { class: "event-list", "aria-busy": "true" });
  const status = h("p", { class: "list-status", role: "status" });
  const pager = h("nav", { class: "pager", "aria-label": "Pages" });
  const form = h("form", { class: "search", role: "search", "data-form": "search", onsubmit: (ev) => { ev.preventDefault(); page = 1; load(); } },
    h("label", { class: "grow", for: "event-search" }, "Search events", q),
    h("label", { class: "check" }, upcoming, " Upcoming only"),
    h("button", { type: "submit", class: "btn", text: "Search" }),
  );
  mount(root, h("section", { class: "page events-page", "aria-labelledby": "events-title" },
    h("h1", { id: "events-title", text: "Events" }), form, status, list, pager));

  async function load() {
    const query = new URLSearchParams({
      q: q.value.trim(), upcoming_only: String(upcoming.checked), page: String(page), page_size: "20", sort: "start_time", order: "asc",
    });
    sessionStorage.setItem("evently.search", new URLSearchParams({ q: q.value.trim(), upcoming_only: String(upcoming.checked) }).toString());
    list.setAttribute("aria-busy", "true");
    try {
      const res = await api.get(`/events?${query}`);
      if (disposed) return;
      render(res);
    } catch (err) {
      status.textContent = "Could not load events.";
      announceError(err);
    } finally {
      list.setAttribute("aria-busy", "false");
    }
  }

  // One truth for availability: each card follows the event's live seat stream, the very
  // snapshot and deltas the map draws, so a card and its map always show the same figures.
  const models = new Map();
  const cards = new Map();
  const offs = [];

  function availability(ev, c = null) {
    if (ev.status !== "active") return h("span", { class: "badge muted", text: "Not on sale" });
    const available = c ? c.available : ev.available_count;
    const held = c ? c.held : ev.held_count;
    const total = c ? c.available + c.held + c.sold : ev.capacity;
    if (available === 0) {
      return h("span", { class: "badge warn" }, "Sold out", h("span", { "data-avail": "available", hidden: true, text: "0" }),
        held ? [" · ", h("span", { "data-avail": "held", text: String(held) }), " held"] : null, " · waitlist open");
    }
    return [h("span", { "data-avail": "available", text: String(available) }), ` of ${total} seats available`,
      held ? [" · ", h("span", { "data-avail": "held", text: String(held) }), " held"] : null];
  }

  function renderCard(id) {
    const card = cards.get(id);
    const model = models.get(id);
    if (!card || !model) return;
    mount(card.avail, availability(card.ev, model.live ? model.counts() : null));
  }

  async function follow(ids) {
    for (const id of ids) {
      const model = models.get(id);
      try {
        await app.ws.request("subscribe", { event_id: id, ...(model?.since() ? { since: model.since() } : {}) });
      } catch {
        /* the next session subscribes again */
      }
    }
  }

  const forCard = (fn) => (msg) => {
    const model = models.get(msg.event_id);
    if (!disposed && model) {
      fn(model, msg);
      renderCard(msg.event_id);
    }
  };
  offs.push(app.ws.on("snapshot", forCard((m, msg) => m.applySnapshot(msg))));
  offs.push(app.ws.on("delta", forCard((m, msg) => {
    const { result } = m.applyDelta(msg);
    if (result === "gap" || result === "epoch") follow([msg.event_id]);
  })));

  function render(res) {
    const items = res.items ?? [];
    status.textContent = res.total ? `${res.total} event${res.total === 1 ? "" : "s"}` : "No events match.";
    const before = [...models.keys()];
    models.clear();
    cards.clear();
    mount(list, items.map((ev) => {
      app.eventNames.set(ev.id, ev.name);
      app.eventDates.set(ev.id, ev.start_time);
      models.set(ev.id, new SeatModel(ev.id));
      const avail = h("p", { class: "event-avail", "data-event-avail": ev.id }, availability(ev));
      cards.set(ev.id, { ev, avail });
      return h("li", { class: "event-card", "data-event-id": ev.id },
        h("h2", {}, h("a", { href: `#/events/${ev.id}`, text: ev.name })),
        h("p", { class: "event-meta" }, `${ev.venue ?? ""} · `, h("time", { datetime: ev.start_time, text: formatTime(ev.start_time) })),
        avail);
    }));
    for (const id of before) if (!models.has(id)) app.ws.request("unsubscribe", { event_id: id }).catch(() => {});
    if (app.ws.state === "live") follow([...models.keys()]);
    const pages = Math.max(1, Math.ceil((res.total ?? 0) / (res.page_size || 20)));
    mount(pager, pages <= 1 ? null : [
      h("button", { type: "button", class: "btn subtle", disabled: page <= 1, text: "← Previous", onclick: () => { page -= 1; load(); } }),
      h("span", { text: `Page ${page} of ${pages}` }),
      h("button", { type: "button", class: "btn subtle", disabled: page >= pages, text: "Next →", onclick: () => { page += 1; load(); } }),
    ]);
  }

  const live = debounce(() => { page = 1; load(); }, 300);
  q.addEventListener("input", live);
  upcoming.addEventListener("change", live);
  load();
  offs.push(app.ws.onSession(() => follow([...models.keys()])));
  return {
    dispose: () => {
      disposed = true;
      for (const off of offs) off();
      for (const id of models.keys()) app.ws.request("unsubscribe", { event_id: id }).catch(() => {});
    },
  };
}

// ---- #/bookings -----------------------------------------------------------------------------

/** One booking as a list item with its Cancel button. */
export function bookingItem(app, b) {
  const name = app.eventNames.get(b.event_id) ?? `Event ${b.event_id}`;
  const starts = app.eventDates.get(b.event_id);
  return h("li", { class: `booking ${b.status === "CANCELLED" ? "cancelled" : ""}`, "data-booking-id": b.id, "data-booking-status": b.status },
    h("div", { class: "booking-main" },
      h("strong", {}, h("a", { href: `#/events/${b.event_id}`, text: name })),
      starts ? h("span", { class: "booking-when" }, h("time", { datetime: starts, "data-event-date": b.event_id, text: formatTime(starts) })) : null,
      h("span", { class: "booking-seats", text: `${(b.seats ?? []).join(", ") || `${b.qty} seats`}` }),
      h("span", { class: "booking-meta", text: `#${b.id} · ${b.status === "CANCELLED" ? "cancelled" : "booked"} ${formatTime(b.created_at)}` })),
    b.status === "CONFIRMED" ? h("button", {
      type: "button", class: "btn danger", "data-action": "cancel", "data-booking-id": b.id,
      "aria-label": `Cancel booking ${b.id} for ${name}`, text: "Cancel",
      onclick: async (ev) => {
        ev.currentTarget.disabled = true;
        try {
          app.recent.add(`x${b.id}`);
          await app.command("cancel", { booking_id: b.id });
          announce(`Booking #${b.id} cancelled; the seats were released.`);
          await app.refreshBookings();
        } catch (err) {
          announceError(err);
          if (ev.target.isConnected) ev.target.disabled = false;
        }
      },
    }) : null);
}
