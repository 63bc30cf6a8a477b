// The seat picker at "/": bootstraps the session, the live socket and the hash router
// (#/ events, #/events/{id} seat map, #/bookings), and handles the server's personal pushes.

import { api, currentUser, logout, refreshTokens, session } from "./api.js";
import { makeCommand } from "./commands.js";
import { $, announce, announceError, formatCountdown, h, mount, uuid } from "./dom.js";
import { HoldStore, bindHoldsPanel, startCountdowns } from "./holds.js";
import { eventPage } from "./eventpage.js";
import { eventsPage } from "./pages.js";
import { accountPage } from "./account.js";
import { bindAuthForms } from "./signin.js";
import { organizerPage } from "./organizer.js";
import { HubSocket } from "./ws.js";

const ws = new HubSocket({ getToken: () => session.access, refreshToken: refreshTokens });

/** Shared state the pages read; `bus` tells them what changed ("user", "bookings", "waitlist"). */
export const app = {
  ws,
  command: makeCommand(ws),
  user: null,
  holds: new HoldStore(),
  bookings: [],
  waitlist: [],
  eventNames: new Map(),
  /** event id → start_time (RFC 3339), for "My bookings". */
  eventDates: new Map(),
  bus: new EventTarget(),
  page: null,
  /** Booking ids this tab just confirmed or cancelled, so their pushes aren't announced twice. */
  recent: new Set(),
  // Function declarations below are hoisted, so the pages can call them through `app`.
  requireSignIn,
  refreshBookings,
  refreshWaitlist,
  eventName,
};

function emit(name) {
  app.bus.dispatchEvent(new Event(name));
}

/** Name of an event for messages; fetched once and cached. */
export async function eventName(id) {
  if (!app.eventNames.has(id)) {
    try {
      const ev = await api.get(`/events/${id}`);
      app.eventNames.set(id, ev.name);
    } catch {
      return `event ${id}`;
    }
  }
  return app.eventNames.get(id);
}

export async function refreshBookings() {
  if (!app.user) {
    app.bookings = [];
  } else {
    try {
      app.bookings = (await api.get("/me/bookings")) ?? [];
    } catch (err) {
      if (err.status !== 401) announceError(err);
    }
  }
  emit("bookings");
}

export async function refreshWaitlist() {
  if (!app.user) {
    app.waitlist = [];
  } else {
    try {
      app.waitlist = (await api.get("/waitlists/me")) ?? [];
    } catch {
      /* non-essential */
    }
  }
  emit("waitlist");
}

/** Open the sign-in dialog, say why, and put keyboard focus on its email field. */
export function requireSignIn(why = "Sign in to hold and book seats.") {
  const dialog = $("#auth");
  $("[data-auth-why]", dialog).textContent = why;
  $("[data-auth-error]", dialog).textContent = "";
  if (!dialog.open) dialog.showModal();
  $('form[data-form="login"] [name="email"]', dialog)?.focus();
}

// ---- hold actions (used by the holds panel) -------------------------------------------

function seatsText(hold) {
  return hold.labels?.length ? hold.labels.join(", ") : `${hold.seat_ids?.length ?? 0} seats`;
}

async function confirmHold(hold) {
  if (!hold) return;
  // One key per hold: a retry after a dropped connection can't book twice.
  hold.idempotency_key ??= uuid();
  hold.confirming = true; // its booking.confirmed push may beat the reply
  try {
    const booking = await app.command("confirm", { hold_id: hold.hold_id, idempotency_key: hold.idempotency_key });
    app.recent.add(booking.id);
    app.holds.remove(hold.hold_id);
    announce(`Booked! ${(booking.seats ?? hold.labels ?? []).join(", ")} — booking #${booking.id}.`, { kind: "success" });
    refreshBookings();
    if (hold.kind === "offer") refreshWaitlist();
  } catch (err) {
    if (err.code === "HOLD_EXPIRED" || err.code === "NOT_FOUND") app.holds.remove(hold.hold_id);
    announceError(err);
  } finally {
    hold.confirming = false;
  }
}

async function extendHold(hold) {
  if (!hold) return;
  try {
    const next = await app.command("extend", { hold_id: hold.hold_id });
    app.holds.add({ ...hold, ...next });
    announce(`Hold extended: ${formatCountdown((Date.parse(next.expires_at) - Date.now()) / 1000)} left.`);
  } catch (err) {
    if (err.code === "HOLD_EXPIRED" || err.code === "NOT_FOUND") app.holds.remove(hold.hold_id);
    announceError(err);
  }
}

async function releaseHold(hold) {
  if (!hold) return;
  try {
    if (hold.kind === "offer" && hold.entry_id) {
      await app.command("waitlist.leave", { entry_id: hold.entry_id });
      refreshWaitlist();
    } else {
      await app.command("release", { hold_id: hold.hold_id });
    }
    app.holds.remove(hold.hold_id);
    announce(`Released ${seatsText(hold)}.`);
  } catch (err) {
    if (err.code === "HOLD_EXPIRED" || err.code === "NOT_FOUND") app.holds.remove(hold.hold_id);
    announceError(err);
  }
}

// ---- pushes -----------------------------------------------------------------------------

ws.on("hold.expired", (msg) => {
  const hold = app.holds.get(msg.hold_id);
  app.holds.remove(msg.hold_id);
  announce(`Your hold on ${hold ? seatsText(hold) : "some seats"} expired; the seats were released.`, { kind: "warning" });
});

ws.on("booking.confirmed", (msg) => {
  const b = msg.booking ?? {};
  const seats = new Set(b.seat_ids ?? []);
  const mine = app.holds.all().some((h) => h.confirming && h.seat_ids?.some((id) => seats.has(id)));
  app.holds.removeCoveredBy(b.event_id, b.seat_ids ?? []);
  if (!mine && !app.recent.has(b.id)) announce(`Booking #${b.id} confirmed: ${(b.seats ?? []).join(", ")}.`, { kind: "success" });
  refreshBookings();
});

ws.on("booking.cancelled", (msg) => {
  const b = msg.booking ?? {};
  if (!app.recent.has(`x${b.id}`)) announce(`Booking #${b.id} was cancelled.`, { kind: "warning" });
  refreshBookings();
});

ws.on("waitlist.offered", async (msg) => {
  const hold = { ...msg.hold, event_id: msg.hold?.event_id ?? msg.event_id };
  app.holds.add(hold, { kind: "offer", entry_id: msg.entry_id });
  const left = formatCountdown((Date.parse(hold.expires_at) - Date.now()) / 1000);
  announce(`Seats are free for you at ${await eventName(hold.event_id)}: ${seatsText(hold)}. Confirm within ${left}.`,
    { kind: "success", timeout: 30000 });
  refreshWaitlist();
});

ws.on("waitlist.promoted", (msg) => {
  const b = msg.booking ?? {};
  app.recent.add(b.id);
  announce(`From the waitlist: you're booked! ${(b.seats ?? []).join(", ")} (booking #${b.id}).`, { kind: "success", timeout: 30000 });
  refreshBookings();
  refreshWaitlist();
});

// Notifications that repeat a push this page already announces (the stored copy of it).
const ANNOUNCED_KINDS = new Set(["waitlist.offered", "waitlist.promoted", "booking.confirmed", "booking.cancelled", "hold.expired"]);

ws.on("notification", (msg) => {
  const n = msg.notification ?? msg;
  if (ANNOUNCED_KINDS.has(n.kind)) return;
  const p = n.payload ?? {};
  const what = String(n.kind ?? "notification").replaceAll(/[._]/g, " ");
  const text = p.message ?? p.text ?? `${what[0].toUpperCase()}${what.slice(1)}${p.seats?.length ? `: ${p.seats.join(", ")}` : ""}.`;
  announce(text, { kind: "info", timeout: 12000 });
});

ws.on("auth.expired", () => {
  refreshTokens()
    .then(() => ws.reauth())
    .catch(() => signedOut("Your session expired. Please sign in again."));
});

ws.on("auth.lost", () => {
  if (app.user) signedOut("Your session ended. Please sign in again.");
});

ws.on("revoked", () => {
  session.clear("revoked");
  if (app.user) signedOut("Your account's session was revoked. Please sign in again.");
});

ws.on("error", (err) => announceError(err));

ws.on("state", (state) => showConnection(state));

// Pushes missed while disconnected: fetch the personal lists again after every reconnect.
ws.onSession(() => {
  if (app.user) {
    refreshBookings();
    refreshWaitlist();
  }
});

function showConnection(state) {
  const el = $("#connection");
  if (!el) return;
  el.dataset.connection = state;
  $(".conn-text", el).textContent = { connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…" }[state] ?? state;
}

// ---- account ------------------------------------------------------------------------------

function renderAccount() {
  const el = $("#account");
  const organizes = app.user?.role === "organizer" || app.user?.role === "admin";
  $('[data-nav="my-events"]').hidden = !organizes;
  if (app.user) {
    mount(el,
      h("span", { class: "who", "data-user-id": app.user.id, text: app.user.name || app.user.email }),
      app.user.role === "admin" ? h("a", { href: "/admin", class: "btn subtle", text: "Admin" }) : null,
      h("button", { type: "button", class: "btn subtle", "data-action": "logout", text: "Sign out",
        onclick: async () => {
          await logout();
          signedOut("You are signed out.");
        } }),
    );
    if ($("#auth").open) $("#auth").close();
  } else {
    mount(el, h("button", { type: "button", class: "btn primary", "data-action": "sign-in", text: "Sign in",
      onclick: () => requireSignIn("") }));
  }
}

async function signedIn() {
  app.user = await currentUser();
  renderAccount();
  if (!app.user) return;
  // A connection can't switch users; if it refuses, start a fresh one.
  await ws.reauth().catch(() => ws.reconnectNow());
  await app.holds.restore(app.user.id);
  emit("user");
  refreshBookings();
  refreshWaitlist();
}

function signedOut(message) {
  const was = app.user;
  session.clear("signed-out");
  app.user = null;
  app.holds.clear();
  app.bookings = [];
  app.waitlist = [];
  renderAccount();
  emit("user");
  emit("bookings");
  emit("waitlist");
  if (was && message) announce(message, { kind: "warning" });
  ws.reconnectNow(); // the server has no "deauth": a fresh anonymous connection
}

// ---- routing ------------------------------------------------------------------------------

function route() {
  app.page?.dispose?.();
  const view = $("#view");
  const hash = location.hash.replace(/^#/, "");
  const match = hash.match(/^\/events\/(\d+)/);
  for (const a of document.querySelectorAll("[data-nav]")) a.removeAttribute("aria-current");
  if (match) {
    app.page = eventPage(app, view, Number(match[1]));
  } else if (hash.startsWith("/bookings") || hash.startsWith("/account")) {
    $('[data-nav="account"]')?.setAttribute("aria-current", "page");
    app.page = accountPage(app, view);
  } else if (hash.startsWith("/my-events")) {
    $('[data-nav="my-events"]')?.setAttribute("aria-current", "page");
    app.page = organizerPage(app, view);
  } else {
    if (hash === "auth") requireSignIn("Sign in or create an account.");
    $('[data-nav="events"]')?.setAttribute("aria-current", "page");
    app.page = eventsPage(app, view);
  }
}

// Holds left past their expiry (a missed hold.expired while offline) are dropped locally;
// the server has already released them.
function sweepExpiredHolds() {
  for (const hold of app.holds.all()) {
    if (Date.parse(hold.expires_at) < Date.now() - 3000) {
      app.holds.remove(hold.hold_id);
      announce(`Your hold on ${seatsText(hold)} expired.`, { kind: "warning" });
    }
  }
}

async function main() {
  bindAuthForms(app, signedIn);
  bindHoldsPanel($("#holds"), app.holds, {
    confirm: confirmHold,
    extend: extendHold,
    release: releaseHold,
    eventName: (id) => app.eventNames.get(id),
  });
  startCountdowns();
  setInterval(sweepExpiredHolds, 1000);
  showConnection(ws.state);
  renderAccount();
  app.bus.addEventListener("profile", renderAccount);
  await signedIn().catch(announceError);
  window.addEventListener("hashchange", route);
  route();
  ws.start();
  // A refresh that failed (spent or revoked refresh token) ends the session everywhere.
  session.onChange(({ reason }) => {
    if ((reason === "expired" || reason === "revoked") && app.user) {
      signedOut("Your session expired. Please sign in again.");
    }
  });
  window.addEventListener("storage", (ev) => {
    // Signed in or out in another tab.
    if (ev.key === "evently.auth" && Boolean(ev.newValue) !== Boolean(app.user)) {
      if (ev.newValue) signedIn();
      else signedOut("You signed out in another tab.");
    }
  });
}

main();
