// #/my-events: an organizer's events (GET /me/events) with live figures from the `analytics`
// stream (analytics.subscribe, scoped by the hub to the caller's events) and each event's
// guest list as CSV (GET /admin/events/{id}/attendees.csv, fetched with the bearer token).

import { request } from "./api.js";
import { announce, announceError, formatTime, h, mount } from "./dom.js";

const FIELDS = ["sold", "held", "available", "waitlisted"];
const LABELS = { sold: "Sold", held: "Held", available: "Available", waitlisted: "Waitlisted" };

/** Download the guest list: the route needs the bearer token, so a plain link can't. */
async function downloadCsv(event, button) {
  button.disabled = true;
  try {
    const res = await request("GET", `/admin/events/${event.id}/attendees.csv`, { raw: true });
    const url = URL.createObjectURL(await res.blob());
    const a = h("a", { href: url, download: `event-${event.id}-attendees.csv`, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    announce(`Guest list of ${event.name} downloaded.`);
  } catch (err) {
    announceError(err);
  } finally {
    button.disabled = false;
  }
}

function utilization(ev) {
  const u = ev.capacity ? ev.sold / ev.capacity : 0;
  return Math.round(u * 1000) / 10;
}

/** The organizer's page; returns {dispose}. */
export function organizerPage(app, root) {
  const offs = [];
  let disposed = false;
  const rows = new Map(); // event id → {ev, cells}
  const body = h("tbody");
  const status = h("p", { class: "list-status", role: "status" });
  const updated = h("p", { class: "muted live-at", hidden: true }, "Live figures: ", h("span", { "data-field": "at", text: "waiting…" }));
  const table = h("table", { class: "my-events", "aria-labelledby": "my-events-title" },
    h("thead", {}, h("tr", {},
      ["Event", "Sold", "Held", "Available", "Waitlisted", "Sold %", "Guest list"].map((t, i) => h("th", { scope: "col", class: i >= 1 && i <= 4 ? "num" : null, text: t })))),
    body);
  const wrap = h("div", { class: "events-wrap", hidden: true }, table);
  mount(root, h("section", { class: "page organizer-page", "aria-labelledby": "my-events-title" },
    h("h1", { id: "my-events-title", text: "My events" }), status, updated,
    wrap));

  function paint(row) {
    const { ev, cells } = row;
    for (const f of FIELDS) cells[f].textContent = String(ev[f] ?? 0);
    const pct = utilization(ev);
    cells.meter.value = pct;
    cells.meter.textContent = `${pct}%`;
    cells.pct.textContent = `${pct}%`;
  }

  function rowFor(ev) {
    const cells = Object.fromEntries(FIELDS.map((f) => [f, h("td", { "data-field": f, class: "num", "data-label": LABELS[f] })]));
    cells.meter = h("meter", { min: "0", max: "100", value: "0", "aria-label": `${ev.name}: share of seats sold` });
    cells.pct = h("span", { "data-field": "utilization" });
    const csv = h("button", { type: "button", class: "btn subtle", "data-action": "attendees-csv",
      "aria-label": `Download the guest list of ${ev.name} (CSV)`, text: "CSV",
      onclick: () => downloadCsv(ev, csv) });
    const tr = h("tr", { "data-event-id": ev.id, "data-status": ev.status },
      h("th", { scope: "row" }, h("div", { class: "event-cell" },
        h("a", { href: `#/events/${ev.id}`, text: ev.name }),
        h("span", { class: "booking-meta" }, h("time", { datetime: ev.start_time, text: formatTime(ev.start_time) }),
          ev.status === "active" ? null : " · not on sale"))),
      FIELDS.map((f) => cells[f]),
      h("td", { class: "util", "data-label": "Sold %" }, cells.meter, " ", cells.pct),
      h("td", { class: "csv", "data-label": "Guest list" }, csv));
    const row = { ev: { ...ev }, cells, tr };
    paint(row);
    return row;
  }

  async function load() {
    if (!app.user) {
      status.textContent = "Sign in as an organizer to see your events.";
      mount(body);
      return;
    }
    if (app.user.role !== "organizer" && app.user.role !== "admin") {
      status.textContent = "This page is for organizers. Ask for an organizer account to run events here.";
      mount(body);
      return;
    }
    try {
      const res = await request("GET", "/me/events?page_size=100");
      if (disposed) return;
      const items = res.items ?? [];
      rows.clear();
      for (const ev of items) rows.set(ev.id, rowFor(ev));
      status.textContent = items.length ? `${res.total} event${res.total === 1 ? "" : "s"}` : "You have no events yet.";
      wrap.hidden = updated.hidden = !items.length;
      mount(body, [...rows.values()].map((r) => r.tr));
      subscribe();
    } catch (err) {
      status.textContent = "Could not load your events.";
      announceError(err);
    }
  }

  function subscribe() {
    if (app.ws.state === "live" && app.ws.user) app.ws.request("analytics.subscribe").catch(() => {});
  }

  offs.push(app.ws.on("analytics", (msg) => {
    if (disposed) return;
    for (const e of msg.events ?? []) {
      const row = rows.get(e.id);
      if (!row) continue;
      for (const f of FIELDS) if (typeof e[f] === "number") row.ev[f] = e[f];
      paint(row);
    }
    const at = updated.querySelector('[data-field="at"]');
    at.textContent = msg.at ? new Date(msg.at).toLocaleTimeString() : "now";
  }));
  offs.push(app.ws.onSession(() => { if (rows.size) subscribe(); }));
  const onUser = () => load();
  app.bus.addEventListener("user", onUser);
  offs.push(() => app.bus.removeEventListener("user", onUser));
  load();
  return {
    dispose: () => {
      disposed = true;
      offs.forEach((off) => off());
    },
  };
}
