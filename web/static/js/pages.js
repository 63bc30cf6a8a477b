// The three views of the seat picker: the event list, one event's live seat map, my bookings.
// Each returns {dispose()} so the router can tear down its listeners and subscriptions.

import { api } from "./api.js";
import { announce, announceError, formatTime, h, mount } from "./dom.js";
import { STATUSES, SeatMapView, SeatModel } from "./seatmap.js";

const STATUS_NAMES = { available: "Available", held: "Held", sold: "Sold", mine: "Your hold" };

function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

function listen(target, name, fn, offs) {
  target.addEventListener(name, fn);
  offs.push(() => target.removeEventListener(name, fn));
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

  function render(res) {
    const items = res.items ?? [];
    status.textContent = res.total ? `${res.total} event${res.total === 1 ? "" : "s"}` : "No events match.";
    mount(list, items.map((ev) => {
      app.eventNames.set(ev.id, ev.name);
      const soldOut = ev.status === "active" && ev.available_count === 0;
      return h("li", { class: "event-card", "data-event-id": ev.id },
        h("h2", {}, h("a", { href: `#/events/${ev.id}`, text: ev.name })),
        h("p", { class: "event-meta" }, `${ev.venue ?? ""} · `, h("time", { datetime: ev.start_time, text: formatTime(ev.start_time) })),
        h("p", { class: "event-avail" },
          ev.status !== "active" ? h("span", { class: "badge muted", text: "Not on sale" })
            : soldOut ? h("span", { class: "badge warn", text: "Sold out · waitlist open" })
              : `${ev.available_count} of ${ev.capacity} seats available`),
      );
    }));
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
  return { dispose: () => { disposed = true; } };
}

// ---- #/events/{id} --------------------------------------------------------------------------

export function eventPage(app, root, eventId) {
  const offs = [];
  let disposed = false;
  let event = null;
  const model = new SeatModel(eventId);

  const title = h("h1", { class: "event-title", text: "Loading…" });
  const meta = h("p", { class: "event-meta" });
  const notice = h("p", { class: "event-notice", hidden: true });
  const counts = {};
  const legend = h("ul", { class: "legend", "aria-label": "Seat counts" },
    STATUSES.map((s) => h("li", { class: `legend-item legend-${s}` },
      h("span", { class: `swatch swatch-${s}`, "aria-hidden": "true" }),
      h("span", { text: `${STATUS_NAMES[s]} ` }),
      (counts[s] = h("strong", { "data-count": s, text: "–" })))));
  const mapRoot = h("div", { class: "seat-map", id: "seat-map" });
  const view = new SeatMapView(mapRoot, model, { onToggle: () => renderSelection() });

  const summary = h("p", { class: "selection-summary", "aria-live": "polite" });
  const holdBtn = h("button", { type: "button", class: "btn primary", "data-action": "hold", disabled: true, text: "Hold selected seats", onclick: () => holdSeats({ seat_ids: [...view.selected] }) });
  const clearBtn = h("button", { type: "button", class: "btn subtle", "data-action": "clear-selection", disabled: true, text: "Clear", onclick: () => { view.clearSelection(); renderSelection(); } });
  const qty = h("input", { id: "best-qty", name: "qty", type: "number", min: "1", max: "10", value: "2", inputmode: "numeric" });
  const bestForm = h("form", { class: "best", "data-form": "best", onsubmit: (ev) => { ev.preventDefault(); holdSeats({ qty: Number(qty.value) || 1 }); } },
    h("label", { for: "best-qty", text: "Best seats for" }), qty,
    h("button", { type: "submit", class: "btn", "data-action": "hold-best", text: "Find & hold" }));
  const actions = h("section", { class: "pick-actions", "aria-label": "Choose seats" },
    summary, h("div", { class: "button-row" }, holdBtn, clearBtn), bestForm);

  const wlQty = h("input", { id: "waitlist-qty", name: "qty", type: "number", min: "1", max: "10", value: "1", inputmode: "numeric" });
  const wlForm = h("form", { class: "waitlist-form", "data-form": "waitlist", onsubmit: (ev) => { ev.preventDefault(); joinWaitlist(); } },
    h("label", { for: "waitlist-qty", text: "Seats wanted" }), wlQty,
    h("button", { type: "submit", class: "btn primary", "data-action": "join-waitlist", text: "Join the waitlist" }));
  const wlStatus = h("div", { class: "waitlist-status" });
  const wlTitle = h("h2", { id: "wl-title", text: "Sold out — join the waitlist" });
  const waitlistBox = h("section", { class: "waitlist-box", "data-waitlist": "", hidden: true, "aria-labelledby": "wl-title" },
    wlTitle,
    h("p", { text: "When seats free up they are offered to the waitlist in order, and you'll see the offer here instantly." }),
    wlForm, wlStatus);

  const myBookings = h("ul", { class: "booking-list" });
  const bookingsBox = h("section", { class: "event-bookings", hidden: true, "aria-labelledby": "eb-title" },
    h("h2", { id: "eb-title", text: "Your bookings for this event" }), myBookings);

  mount(root, h("section", { class: "page event-page", "data-event-id": eventId },
    h("p", { class: "crumbs" }, h("a", { href: "#/", text: "← All events" })),
    title, meta, notice, legend,
    h("div", { class: "event-layout" },
      h("div", { class: "map-wrap", role: "region", "aria-label": "Seat map", tabindex: "-1" }, mapRoot),
      h("div", { class: "side" }, actions, waitlistBox, bookingsBox)),
  ));

  function mine() {
    return app.holds.seatIdsFor(eventId);
  }

  let countsTimer = null;
  function scheduleCounts() {
    if (countsTimer) return;
    countsTimer = setTimeout(() => {
      countsTimer = null;
      renderCounts();
    }, 30);
  }

  function renderCounts() {
    if (disposed || model.meta.size === 0) return;
    const c = model.counts(mine());
    for (const s of STATUSES) counts[s].textContent = String(c[s]);
    renderWaitlist(c);
    renderSelection();
  }

  function renderSelection() {
    const ids = [...view.selected];
    const labels = ids.map((id) => model.meta.get(id)?.label).filter(Boolean);
    summary.textContent = ids.length
      ? `Selected ${ids.length}: ${labels.join(", ")}`
      : "Pick seats on the map, or ask for the best available.";
    holdBtn.disabled = ids.length === 0 || !bookable();
    clearBtn.disabled = ids.length === 0;
    holdBtn.textContent = ids.length ? `Hold ${ids.length} seat${ids.length === 1 ? "" : "s"}` : "Hold selected seats";
  }

  function bookable() {
    return !event || event.status === "active";
  }

  function renderWaitlist(c = model.counts(mine())) {
    const entry = app.waitlist.find((e) => e.event_id === eventId && (e.status === "WAITING" || e.status === "OFFERED"));
    const soldOut = c.available === 0 && model.meta.size > 0;
    waitlistBox.hidden = !(soldOut || entry) || !bookable();
    actions.hidden = soldOut || !bookable(); // nothing to pick; the waitlist box takes over
    wlForm.hidden = Boolean(entry);
    wlTitle.textContent = entry ? "Waitlist" : "Sold out — join the waitlist";
    mount(wlStatus, entry ? [
      h("p", { "data-waitlist-entry": entry.id, "data-waitlist-status": entry.status,
        text: entry.status === "OFFERED" ? "Seats are being offered to you — confirm them in “Your holds”."
          : `You're on the waitlist for ${entry.qty} seat${entry.qty === 1 ? "" : "s"}${entry.position ? ` (number ${entry.position} in line)` : ""}.` }),
      h("button", { type: "button", class: "btn subtle", "data-action": "leave-waitlist", text: "Leave the waitlist", onclick: () => leaveWaitlist(entry) }),
    ] : null);
  }

  function renderBookings() {
    const mineHere = app.bookings.filter((b) => b.event_id === eventId && b.status === "CONFIRMED");
    bookingsBox.hidden = mineHere.length === 0;
    mount(myBookings, mineHere.map((b) => bookingItem(app, b)));
  }

  function renderHeader() {
    if (!event) return;
    title.textContent = event.name;
    document.title = `${event.name} — Evently`;
    mount(meta, `${event.venue ?? ""} · `, h("time", { datetime: event.start_time, text: formatTime(event.start_time) }),
      event.end_time ? [" – ", h("time", { datetime: event.end_time, text: formatTime(event.end_time) })] : null);
    notice.hidden = event.status === "active";
    notice.textContent = event.status === "active" ? "" : "This event is not taking bookings right now.";
    actions.hidden = !bookable();
  }

  async function loadSeats() {
    const seats = await api.get(`/events/${eventId}/seats`);
    if (disposed) return;
    model.setMeta(seats);
    view.build();
    view.update(null, mine());
    renderCounts();
  }

  async function holdSeats(fields) {
    if (!app.user) {
      app.requireSignIn();
      return;
    }
    try {
      const hold = await app.command("hold", { event_id: eventId, ...fields });
      app.holds.add({ event_id: eventId, ...hold }, { kind: "hold" });
      view.clearSelection();
      renderSelection();
      announce(`Held ${(hold.labels ?? []).join(", ")} for you. Confirm before the timer runs out.`, { kind: "success" });
      document.querySelector(`[data-hold-id="${CSS.escape(hold.hold_id)}"] [data-action="confirm"]`)?.focus();
    } catch (err) {
      if (err.code === "SEAT_UNAVAILABLE") {
        const ids = err.details?.seat_ids ?? [];
        const labels = ids.map((id) => model.meta.get(id)?.label).filter(Boolean);
        for (const id of ids) view.selected.delete(id);
        view.update(ids);
        renderSelection();
        announceError({ ...err, code: err.code, message: err.message, details: { ...err.details, labels } });
      } else {
        if (err.code === "SOLD_OUT" || err.code === "NOT_ENOUGH_SEATS") waitlistBox.hidden = false;
        announceError(err);
      }
    }
  }

  async function joinWaitlist() {
    if (!app.user) {
      app.requireSignIn("Sign in to join the waitlist.");
      return;
    }
    try {
      const entry = await app.command("waitlist.join", { event_id: eventId, qty: Number(wlQty.value) || 1 });
      app.waitlist = [...app.waitlist.filter((e) => e.id !== entry.id), entry];
      renderWaitlist();
      announce(`You're on the waitlist${entry.position ? ` at number ${entry.position}` : ""}. Keep this page open to get seats the moment they free up.`, { kind: "success" });
    } catch (err) {
      announceError(err);
    }
  }

  async function leaveWaitlist(entry) {
    try {
      await app.command("waitlist.leave", { entry_id: entry.id });
      app.waitlist = app.waitlist.filter((e) => e.id !== entry.id);
      renderWaitlist();
      announce("You left the waitlist.");
    } catch (err) {
      announceError(err);
    }
  }

  // -- the live stream --
  let resyncing = false;
  let tries = 0;

  async function subscribe(fresh = false) {
    const since = fresh ? undefined : model.since();
    await app.ws.request("subscribe", { event_id: eventId, ...(since ? { since } : {}) });
  }

  async function resync() {
    if (resyncing || disposed) return;
    resyncing = true;
    tries += 1;
    try {
      await subscribe(tries > 3); // repeated gaps: ask for a plain snapshot instead
    } catch {
      /* a reconnect will subscribe again */
    } finally {
      resyncing = false;
    }
  }

  function afterChange(changed) {
    if (model.unknownSeats) {
      loadSeats().catch(() => {}); // seats were added: labels needed
      return;
    }
    view.update(changed, mine());
    scheduleCounts();
  }

  const forThis = (fn) => (msg) => {
    if (!disposed && msg.event_id === eventId) fn(msg);
  };
  offs.push(app.ws.on("snapshot", forThis((msg) => {
    tries = 0;
    const changed = model.applySnapshot(msg);
    if (model.unknownSeats) loadSeats().catch(() => {});
    else afterChange(changed);
  })));
  offs.push(app.ws.on("delta", forThis((msg) => {
    const { result, changed } = model.applyDelta(msg);
    if (changed.length) afterChange(changed);
    if (result === "gap" || result === "epoch") resync();
  })));
  offs.push(app.ws.on("recovered", forThis((msg) => {
    model.live = true;
    if (msg.seq !== undefined && msg.seq !== model.seq) resync();
    else tries = 0;
  })));

  listen(app.holds, "change", () => { view.update(null, mine()); scheduleCounts(); }, offs);
  listen(app.bus, "bookings", renderBookings, offs);
  listen(app.bus, "waitlist", () => renderWaitlist(), offs);
  listen(app.bus, "user", () => { renderSelection(); renderWaitlist(); }, offs);

  (async () => {
    try {
      const [ev] = await Promise.all([api.get(`/events/${eventId}`), loadSeats()]);
      if (disposed) return;
      event = ev;
      app.eventNames.set(ev.id, ev.name);
      renderHeader();
      renderSelection();
      renderBookings();
      renderWaitlist();
      // Subscribed only once labels are known; re-run on every reconnect with `since`.
      offs.push(app.ws.onSession(() => (disposed ? undefined : subscribe())));
    } catch (err) {
      title.textContent = err.code === "NOT_FOUND" ? "Event not found" : "Could not load this event";
      announceError(err);
    }
  })();

  return {
    dispose() {
      disposed = true;
      clearTimeout(countsTimer);
      for (const off of offs) off();
      app.ws.request("unsubscribe", { event_id: eventId }).catch(() => {});
    },
  };
}

// ---- #/bookings -----------------------------------------------------------------------------

function bookingItem(app, b) {
  const name = app.eventNames.get(b.event_id) ?? `Event ${b.event_id}`;
  return h("li", { class: `booking ${b.status === "CANCELLED" ? "cancelled" : ""}`, "data-booking-id": b.id, "data-booking-status": b.status },
    h("div", { class: "booking-main" },
      h("strong", {}, h("a", { href: `#/events/${b.event_id}`, text: name })),
      h("span", { class: "booking-seats", text: `${(b.seats ?? []).join(", ") || `${b.qty} seats`}` }),
      h("span", { class: "booking-meta", text: `#${b.id} · ${b.status === "CANCELLED" ? "cancelled" : "confirmed"} · ${formatTime(b.created_at)}` })),
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

export function bookingsPage(app, root) {
  const offs = [];
  const list = h("ul", { class: "booking-list" });
  const waitlist = h("ul", { class: "waitlist-list" });
  const status = h("p", { class: "list-status", role: "status" });
  mount(root, h("section", { class: "page bookings-page", "aria-labelledby": "bookings-title" },
    h("h1", { id: "bookings-title", text: "My bookings" }), status, list,
    h("h2", { text: "My waitlists" }), waitlist));

  async function render() {
    if (!app.user) {
      status.textContent = "Sign in to see your bookings.";
      mount(list);
      mount(waitlist);
      return;
    }
    const ids = new Set([...app.bookings, ...app.waitlist].map((b) => b.event_id));
    await Promise.all([...ids].filter((id) => !app.eventNames.has(id)).map((id) => app.eventName(id)));
    status.textContent = app.bookings.length ? "" : "No bookings yet.";
    mount(list, app.bookings.map((b) => bookingItem(app, b)));
    const open = app.waitlist.filter((e) => e.status === "WAITING" || e.status === "OFFERED");
    mount(waitlist, open.length ? open.map((e) => h("li", { "data-waitlist-entry": e.id },
      h("a", { href: `#/events/${e.event_id}`, text: app.eventNames.get(e.event_id) ?? `Event ${e.event_id}` }),
      ` · ${e.qty} seat${e.qty === 1 ? "" : "s"} · ${e.status === "OFFERED" ? "offer open" : `waiting${e.position ? ` (#${e.position})` : ""}`} `,
      h("button", { type: "button", class: "btn subtle", "data-action": "leave-waitlist", text: "Leave",
        onclick: async () => {
          try {
            await app.command("waitlist.leave", { entry_id: e.id });
            await app.refreshWaitlist();
          } catch (err) {
            announceError(err);
          }
        } }))) : h("li", { class: "muted", text: "Not on any waitlist." }));
  }

  listen(app.bus, "bookings", render, offs);
  listen(app.bus, "waitlist", render, offs);
  listen(app.bus, "user", render, offs);
  render();
  app.refreshBookings();
  app.refreshWaitlist();
  return { dispose: () => offs.forEach((off) => off()) };
}
