// The /admin live dashboard: sign-in gate (role from GET /auth/me), a per-event table fed by
// `analytics` pushes with sparklines, event creation, (de)activation and the attendee list.

import { api, currentUser, login, logout, refreshTokens, session } from "./api.js";
import { $, announce, announceError, formatTime, h, mount } from "./dom.js";
import { showAttendees } from "./attendees.js";
import { Series, Sparkline } from "./sparkline.js";
import { HubSocket } from "./ws.js";

const FIELDS = ["sold", "held", "available", "waitlisted", "holds_per_min", "bookings_per_min", "subscribers"];

const ws = new HubSocket({ getToken: () => session.access, refreshToken: refreshTokens });
/** id → {tr, cells: {field: td}, info: Event|null, series: {field: Series}, charts: [Sparkline]} */
const rows = new Map();
const connections = new Series();
let connectionsChart = null;
let started = false;

// ---- gate -----------------------------------------------------------------------------------

function show(which) {
  for (const id of ["signin", "denied", "dashboard"]) $(`#${id}`).hidden = id !== which;
  $("#connection").hidden = which !== "dashboard"; // only the dashboard holds a live connection
}

async function gate() {
  let user = null;
  try {
    user = await currentUser();
  } catch (err) {
    announceError(err);
  }
  renderAccount(user);
  if (!user) {
    show("signin");
    $('#signin [name="email"]')?.focus();
  } else if (user.role !== "admin") {
    $("#denied-who").textContent = user.email;
    show("denied");
  } else {
    show("dashboard");
    startDashboard();
  }
}

function renderAccount(user) {
  mount($("#account"), user ? [
    h("span", { class: "who", text: `${user.name || user.email} (${user.role})` }),
    h("button", { type: "button", class: "btn subtle", "data-action": "logout", text: "Sign out",
      onclick: async () => {
        await logout();
        location.reload();
      } }),
  ] : null);
}

function bindLogin() {
  const form = $('form[data-form="login"]');
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      await login(String(data.get("email")).trim(), String(data.get("password")));
      form.reset();
      await gate();
    } catch (err) {
      announceError(err);
    } finally {
      button.disabled = false;
    }
  });
}

// ---- live table -----------------------------------------------------------------------------

function fmt(field, value) {
  if (value === undefined || value === null) return "–";
  if (field.endsWith("_per_min")) return Number(value).toFixed(Number.isInteger(value) ? 0 : 1);
  return String(value);
}

function statusBadge(info) {
  if (!info) return null;
  const active = info.status === "active";
  return h("span", { class: `badge ${active ? "ok" : "muted"}`, "data-field": "status", text: active ? "active" : "inactive" });
}

function ensureRow(id) {
  let row = rows.get(id);
  if (row) return row;
  const series = Object.fromEntries(FIELDS.map((f) => [f, new Series()]));
  const seats = new Sparkline([{ series: series.sold, className: "sold" }, { series: series.held, className: "held" }],
    { width: 140, height: 34, label: `Sold and held seats over time, event ${id}` });
  const rate = new Sparkline([{ series: series.holds_per_min, className: "holds" }, { series: series.bookings_per_min, className: "bookings" }],
    { width: 140, height: 34, label: `Holds and bookings per minute over time, event ${id}` });
  const key = (...parts) => h("span", { class: "spark-key", "aria-hidden": "true" },
    parts.map(([cls, text]) => h("span", { class: `key key-${cls}`, text })));
  const cells = {};
  const nameCell = h("th", { scope: "row", class: "event-name" });
  const actions = h("td", { class: "row-actions" });
  const tr = h("tr", { "data-event-id": id },
    nameCell,
    FIELDS.map((f) => (cells[f] = h("td", { class: "num", "data-field": f, text: "–" }))),
    h("td", { class: "trend" },
      h("div", { class: "spark-pair" }, seats.el, key(["sold", "sold"], ["held", "held"])),
      h("div", { class: "spark-pair" }, rate.el, key(["holds", "holds/min"], ["bookings", "bookings/min"]))),
    actions,
  );
  row = { id, tr, cells, nameCell, actions, info: null, series, charts: [seats, rate] };
  rows.set(id, row);
  $("#events-body").append(tr);
  $("#events-empty").hidden = true;
  renderRowInfo(row);
  loadInfo(row);
  return row;
}

async function loadInfo(row) {
  try {
    row.info = await api.get(`/events/${row.id}`);
  } catch (err) {
    if (err.code === "NOT_FOUND") {
      row.tr.remove();
      rows.delete(row.id);
      return;
    }
  }
  renderRowInfo(row);
}

function renderRowInfo(row) {
  const { info, id } = row;
  mount(row.nameCell,
    h("a", { href: `/#/events/${id}`, text: info?.name ?? `Event ${id}` }),
    " ", statusBadge(info),
    info ? h("div", { class: "sub", text: `#${id} · ${info.venue ?? ""} · ${formatTime(info.start_time)} · ${info.capacity} seats` }) : null,
  );
  const active = info?.status !== "inactive";
  mount(row.actions,
    active
      ? h("button", { type: "button", class: "btn subtle", "data-action": "deactivate", text: "Deactivate",
        "aria-label": `Deactivate ${info?.name ?? `event ${id}`}`, onclick: () => setActive(row, false) })
      : h("button", { type: "button", class: "btn subtle", "data-action": "reactivate", text: "Reactivate",
        "aria-label": `Reactivate ${info?.name ?? `event ${id}`}`, onclick: () => setActive(row, true) }),
    h("button", { type: "button", class: "btn subtle", "data-action": "attendees", text: "Attendees",
      "aria-label": `Attendees of ${info?.name ?? `event ${id}`}`, onclick: () => showAttendees(row) }),
  );
}

const STALE_MS = 3000;

// The analytics stream covers the events the hub has live views for; a row it leaves out (a new
// event nobody has opened yet) or a hub without the stream is filled from the public counts.
async function pollCounts() {
  const now = Date.now();
  const stale = (row) => now - (row.pushedAt ?? 0) > STALE_MS;
  if (rows.size > 0 && ![...rows.values()].some(stale)) return;
  try {
    const res = await api.get("/events?page_size=100&sort=created_at&order=desc");
    const events = (res.items ?? []).filter((e) => !rows.has(e.id) || stale(rows.get(e.id)));
    if (events.length === 0) return;
    applyAnalytics({
      events: events.map((e) => ({
        id: e.id, sold: e.booked_count, held: e.held_count, available: e.available_count,
        waitlisted: e.waitlisted_count,
      })),
    }, false);
  } catch {
    /* next tick */
  }
}

function applyAnalytics(msg, pushed = true) {
  for (const ev of msg.events ?? []) {
    const row = ensureRow(ev.id);
    if (pushed) row.pushedAt = Date.now();
    for (const f of FIELDS) {
      if (!pushed && ev[f] === undefined) continue;
      const text = fmt(f, ev[f]);
      if (row.cells[f].textContent !== text) row.cells[f].textContent = text;
      row.series[f].push(Number(ev[f] ?? 0));
    }
    for (const chart of row.charts) chart.draw();
  }
  if (msg.connections !== undefined) {
    $('[data-field="connections"]').textContent = String(msg.connections);
    connections.push(Number(msg.connections));
    connectionsChart.draw();
  }
  if (!pushed) return;
  const at = $('[data-field="at"]');
  const when = msg.at ? new Date(msg.at) : new Date(); // ms epoch or RFC 3339
  at.textContent = when.toLocaleTimeString();
  at.setAttribute("datetime", when.toISOString());
}

async function setActive(row, active) {
  try {
    row.info = active
      ? await api.patch(`/admin/events/${row.id}`, { status: "active" })
      : await api.post(`/admin/events/${row.id}/deactivate`);
    renderRowInfo(row);
    announce(`${row.info?.name ?? `Event ${row.id}`} is now ${active ? "on sale again" : "deactivated"}.`, { kind: "success" });
    row.actions.querySelector("button")?.focus();
    loadSummary();
  } catch (err) {
    announceError(err);
  }
}

// ---- attendees ------------------------------------------------------------------------------

// ---- summary --------------------------------------------------------------------------------

async function loadSummary(refresh = false) {
  try {
    const s = await api.get(`/admin/analytics/summary${refresh ? "?refresh=1" : ""}`);
    for (const [k, v] of Object.entries(s.totals ?? {})) {
      const el = document.querySelector(`[data-total="${k}"]`);
      if (el) el.textContent = String(v);
    }
    const rate = document.querySelector('[data-total="cancellation_rate"]');
    if (rate && s.cancellation_rate !== undefined) rate.textContent = `${(Number(s.cancellation_rate) * 100).toFixed(1)}%`;
    for (const ev of s.events ?? []) ensureRow(ev.id);
  } catch (err) {
    if (err.status !== 404) console.warn("summary unavailable", err);
  }
}

async function loadEvents() {
  try {
    const res = await api.get("/events?page_size=100&sort=created_at&order=desc");
    for (const ev of res.items ?? []) {
      const row = ensureRow(ev.id);
      if (!row.info) {
        row.info = ev;
        renderRowInfo(row);
      }
    }
  } catch (err) {
    announceError(err);
  }
}

// ---- create ---------------------------------------------------------------------------------

function sectionRow(values = { name: "", rows: 5, seats_per_row: 10 }) {
  const idx = Math.random().toString(36).slice(2, 7);
  const row = h("div", { class: "section-row", role: "group", "aria-label": "Section" },
    h("label", { for: `sn-${idx}`, text: "Section" }, h("input", { id: `sn-${idx}`, name: "section_name", value: values.name, required: true, placeholder: "Stalls" })),
    h("label", { for: `sr-${idx}`, text: "Rows" }, h("input", { id: `sr-${idx}`, name: "section_rows", type: "number", min: "1", max: "52", value: values.rows, required: true })),
    h("label", { for: `ss-${idx}`, text: "Seats per row" }, h("input", { id: `ss-${idx}`, name: "section_seats", type: "number", min: "1", max: "200", value: values.seats_per_row, required: true })),
    h("button", { type: "button", class: "btn subtle", "data-action": "remove-section", text: "Remove",
      onclick: () => { if ($("#sections").children.length > 1) row.remove(); } }),
  );
  return row;
}

function localInput(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function fieldNames(details) {
  const names = new Set();
  const visit = (v) => {
    if (typeof v === "string") names.add(v.split(/[.[]/)[0]);
    else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === "object") {
      for (const key of ["field", "name", "loc", "path"]) if (key in v) visit(Array.isArray(v[key]) ? v[key].at(-1) ?? v[key][0] : v[key]);
      if (v.fields) visit(v.fields);
      else if (!("field" in v || "name" in v || "loc" in v)) Object.keys(v).forEach((k) => names.add(k));
    }
  };
  visit(details);
  return names;
}

function bindCreate() {
  const form = $('form[data-form="create-event"]');
  const start = new Date(Date.now() + 7 * 86400e3);
  start.setHours(19, 30, 0, 0);
  form.elements.start_time.value = localInput(start);
  form.elements.end_time.value = localInput(new Date(start.getTime() + 3 * 3600e3));
  $("#sections").append(sectionRow({ name: "Stalls", rows: 6, seats_per_row: 12 }), sectionRow({ name: "Balcony", rows: 3, seats_per_row: 10 }));
  $('[data-action="add-section"]').addEventListener("click", () => {
    const row = sectionRow();
    $("#sections").append(row);
    row.querySelector("input").focus();
  });
  const syncLayout = () => {
    const byMap = form.elements.layout.value === "seat_map";
    $("#layout-sections").hidden = !byMap;
    $("#layout-capacity").hidden = byMap;
    for (const el of $("#layout-sections").querySelectorAll("input")) el.disabled = !byMap;
    form.elements.capacity.disabled = byMap;
  };
  for (const r of form.querySelectorAll('[name="layout"]')) r.addEventListener("change", syncLayout);
  syncLayout();

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    const f = form.elements;
    const body = {
      name: f.name.value.trim(),
      venue: f.venue.value.trim(),
      start_time: new Date(f.start_time.value).toISOString(),
      end_time: new Date(f.end_time.value).toISOString(),
    };
    if (f.layout.value === "seat_map") {
      body.seat_map = {
        sections: [...$("#sections").children].map((row) => ({
          name: row.querySelector('[name="section_name"]').value.trim(),
          rows: Number(row.querySelector('[name="section_rows"]').value),
          seats_per_row: Number(row.querySelector('[name="section_seats"]').value),
        })),
      };
    } else {
      body.capacity = Number(f.capacity.value);
    }
    if (f.hold_ttl_seconds.value) body.hold_ttl_seconds = Number(f.hold_ttl_seconds.value);
    if (f.waitlist_offer_seconds.value) body.waitlist_offer_seconds = Number(f.waitlist_offer_seconds.value);
    if (f.auto_promote.checked) body.auto_promote = true;
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      const created = await api.post("/admin/events", body);
      announce(`Created “${created.name}” with ${created.capacity} seats.`, { kind: "success" });
      const row = ensureRow(created.id);
      row.info = created;
      renderRowInfo(row);
      f.name.value = "";
      loadSummary();
    } catch (err) {
      if (err.code === "VALIDATION_ERROR") {
        for (const name of fieldNames(err.details)) {
          const el = f[name] ?? (name === "seat_map" ? $("#sections input") : null);
          if (el?.setAttribute) el.setAttribute("aria-invalid", "true");
        }
      }
      announceError(err);
    } finally {
      button.disabled = false;
    }
  });
}

// ---- start ----------------------------------------------------------------------------------

function showConnection(state) {
  const el = $("#connection");
  el.dataset.connection = state;
  $(".conn-text", el).textContent = { connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…" }[state] ?? state;
}

function startDashboard() {
  if (started) return;
  started = true;
  connectionsChart = new Sparkline([{ series: connections, className: "connections" }],
    { width: 160, height: 32, label: "Open connections over time" });
  $("#connections-chart").append(connectionsChart.el);
  ws.on("state", showConnection);
  ws.on("analytics", applyAnalytics);
  ws.on("auth.expired", () => refreshTokens().then(() => ws.reauth()).catch(() => location.reload()));
  ws.on("revoked", () => { session.clear("revoked"); location.reload(); });
  ws.onSession(() => ws.request("analytics.subscribe"));
  ws.on("setup-error", (err) => announceError(err));
  ws.start();
  showConnection(ws.state);
  bindCreate();
  loadEvents();
  loadSummary(true);
  setInterval(() => loadSummary(), 30000);
  setInterval(pollCounts, 2000);
}

bindLogin();
gate();
