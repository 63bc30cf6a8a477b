// One event's live seat map (#/events/{id}): the venue drawn whole (venue.js), a side panel
// (a bottom sheet on phones) with picking, my holds and the waitlist, kept in step with the
// server's snapshot/delta stream. Exposes timings in window.eventlyPerf (README figures).

import { api } from "./api.js";
import { announce, announceError, formatTime, h, mount } from "./dom.js";
import { bookingItem } from "./pages.js";
import { STATUSES, SeatModel } from "./seatmap.js";
import { VenueView } from "./venue.js";

const STATUS_NAMES = { available: "Available", held: "Held", sold: "Sold", mine: "Your hold", booked: "Your seats" };
const LEGEND = [...STATUSES, "booked"];

function listen(target, name, fn, offs) {
  target.addEventListener(name, fn);
  offs.push(() => target.removeEventListener(name, fn));
}

/** Timings read by the browser tests: first paint of the map, delta → painted seat (ms). */
const perf = (window.eventlyPerf ??= { mapPainted: null, seats: 0, deltaToPaint: [], deltaLag: [] });

/** Run `fn` after the next frame has been painted. */
function afterPaint(fn) {
  requestAnimationFrame(() => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => fn();
    ch.port2.postMessage(null);
  });
}

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
    LEGEND.map((s) => h("li", { class: `legend-item legend-${s}` },
      h("span", { class: `swatch swatch-${s}`, "aria-hidden": "true" }),
      h("span", { text: `${STATUS_NAMES[s]} ` }),
      (counts[s] = h("strong", { "data-count": s, text: "–" })))));
  const mapRoot = h("div", { class: "seat-map", id: "seat-map" });
  const view = new VenueView(mapRoot, model, { onToggle: () => renderSelection() });

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

  // My holds live in the side panel while this page is open, so a hold never moves the map.
  const holdsPanel = document.getElementById("holds");
  const holdsHome = holdsPanel.parentElement;
  const holdsNext = holdsPanel.nextSibling;
  const side = h("aside", { class: "side", "aria-label": "Your seats" }, holdsPanel, actions, waitlistBox, bookingsBox);
  mount(root, h("section", { class: "page event-page", "data-event-id": eventId },
    h("div", { class: "event-head" },
      h("p", { class: "crumbs" }, h("a", { href: "#/", text: "← All events" })),
      title, meta, notice, legend),
    h("div", { class: "event-layout" },
      h("div", { class: "map-wrap", role: "region", "aria-label": "Seat map", tabindex: "-1" }, mapRoot),
      side),
  ));

  function mine() {
    return app.holds.seatIdsFor(eventId);
  }

  function booked() {
    const ids = new Set();
    for (const b of app.bookings) {
      if (b.event_id === eventId && b.status === "CONFIRMED") for (const id of b.seat_ids ?? []) ids.add(id);
    }
    return ids;
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
    const my = booked();
    let bookedHere = 0;
    for (const id of my) if (model.status.get(id) === "sold") bookedHere += 1;
    counts.booked.textContent = String(bookedHere);
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
    view.update(null, mine(), booked());
    scheduleCounts();
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
    view.update(null, mine(), booked());
    renderCounts();
    const size = model.meta.size;
    afterPaint(() => {
      if (perf.mapPainted === null) {
        perf.mapPainted = performance.now();
        perf.seats = size;
        performance.mark("evently-map-painted");
      }
    });
  }

  async function holdSeats(fields) {
    if (!app.user) {
      app.requireSignIn("Sign in to hold seats; your selection stays.");
      return;
    }
    try {
      const hold = await app.command("hold", { event_id: eventId, ...fields });
      app.holds.add({ event_id: eventId, ...hold }, { kind: "hold" });
      view.clearSelection();
      view.showSeats(hold.seat_ids ?? []);
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
    view.update(changed, mine(), booked());
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
    const received = performance.now();
    const { result, changed } = model.applyDelta(msg);
    if (changed.length) {
      afterChange(changed);
      afterPaint(() => {
        if (perf.deltaToPaint.length >= 5000) return;
        perf.deltaToPaint.push(performance.now() - received);
        if (msg.ts) perf.deltaLag.push(performance.timeOrigin + performance.now() - msg.ts);
      });
    }
    if (result === "gap" || result === "epoch") resync();
  })));
  offs.push(app.ws.on("recovered", forThis((msg) => {
    model.live = true;
    if (msg.seq !== undefined && msg.seq !== model.seq) resync();
    else tries = 0;
  })));

  listen(app.holds, "change", () => { view.update(null, mine(), booked()); scheduleCounts(); }, offs);
  listen(app.bus, "bookings", renderBookings, offs);
  listen(app.bus, "waitlist", () => renderWaitlist(), offs);
  listen(app.bus, "user", () => { renderSelection(); renderWaitlist(); }, offs);

  (async () => {
    try {
      const [ev] = await Promise.all([api.get(`/events/${eventId}`), loadSeats()]);
      if (disposed) return;
      event = ev;
      app.eventNames.set(ev.id, ev.name);
      app.eventDates.set(ev.id, ev.start_time);
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
      view.dispose();
      holdsHome.insertBefore(holdsPanel, holdsNext);
      for (const off of offs) off();
      app.ws.request("unsubscribe", { event_id: eventId }).catch(() => {});
    },
  };
}

