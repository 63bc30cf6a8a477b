// #/account (also #/bookings): my bookings with change and cancel, my waitlists with leave,
// notifications with mark-read, and the profile (rename: PATCH /auth/me; change password:
// POST /auth/password).

import { api } from "./api.js";
import { bookingCard } from "./bookingchange.js";
import { announce, announceError, describeError, formatTime, h, mount } from "./dom.js";

/** localStorage key: user id → "pending" once that account asked to organize events. */
export const ORGANIZER_REQUEST_KEY = "evently.organizerRequest";

function listen(target, name, fn, offs) {
  target.addEventListener(name, fn);
  offs.push(() => target.removeEventListener(name, fn));
}

/** Name and start of every event the lists mention (GET /events/{id}, once each). */
async function loadEvents(app, ids) {
  await Promise.all([...ids].filter((id) => !app.eventNames.has(id) || !app.eventDates.has(id)).map(async (id) => {
    try {
      const ev = await api.get(`/events/${id}`);
      app.eventNames.set(id, ev.name);
      app.eventDates.set(id, ev.start_time);
    } catch {
      /* shown as "Event N" */
    }
  }));
}

/** A form's submit wrapped with busy state and an inline error line. */
function onSubmit(form, fn) {
  const error = form.querySelector("[data-form-error]");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const button = form.querySelector('[type="submit"]');
    button.disabled = true;
    form.setAttribute("aria-busy", "true");
    error.textContent = "";
    try {
      await fn(new FormData(form));
    } catch (err) {
      error.textContent = describeError(err);
      if (err.code) error.dataset.errorCode = err.code;
    } finally {
      button.disabled = false;
      form.setAttribute("aria-busy", "false");
    }
  });
}

function profileSection(app) {
  const u = app.user;
  const pending = u.role === "user" && localStorage.getItem(ORGANIZER_REQUEST_KEY) === String(u.id);
  const rename = h("form", { class: "card stack", "data-form": "profile" },
    h("h2", { text: "Profile" }),
    h("p", { class: "muted" }, `${u.email} · `, h("span", { "data-role": u.role, text: u.role }),
      pending ? h("span", { class: "badge warn", "data-organizer-request": "pending", text: " Organizer request pending approval" }) : null),
    h("label", { for: "profile-name" }, "Name", h("input", { id: "profile-name", name: "name", type: "text", autocomplete: "name", required: true, maxlength: "200", value: u.name ?? "" })),
    h("p", { class: "form-error", role: "alert", "data-form-error": "" }),
    h("button", { type: "submit", class: "btn primary", "data-action": "rename", text: "Save name" }));
  onSubmit(rename, async (d) => {
    const name = String(d.get("name")).trim();
    app.user = await api.patch("/auth/me", { name });
    app.bus.dispatchEvent(new Event("profile"));
    announce(`Your name is now ${app.user.name}.`, { kind: "success" });
  });

  const password = h("form", { class: "card stack", "data-form": "password", autocomplete: "on" },
    h("h2", { text: "Change password" }),
    h("input", { type: "text", name: "username", autocomplete: "username", value: u.email, hidden: true, "aria-hidden": "true", tabindex: "-1" }),
    h("label", { for: "pw-old" }, "Current password", h("input", { id: "pw-old", name: "old_password", type: "password", autocomplete: "current-password", required: true })),
    h("label", { for: "pw-new" }, "New password (8 characters or more)", h("input", { id: "pw-new", name: "new_password", type: "password", autocomplete: "new-password", required: true, minlength: "8" })),
    h("label", { for: "pw-again" }, "New password again", h("input", { id: "pw-again", name: "again", type: "password", autocomplete: "new-password", required: true, minlength: "8" })),
    h("p", { class: "form-error", role: "alert", "data-form-error": "" }),
    h("button", { type: "submit", class: "btn primary", "data-action": "change-password", text: "Change password" }));
  onSubmit(password, async (d) => {
    if (d.get("new_password") !== d.get("again")) throw new Error("The two new passwords differ.");
    await api.post("/auth/password", { old_password: d.get("old_password"), new_password: d.get("new_password") });
    password.reset();
    announce("Password changed. Your other sessions were signed out.", { kind: "success" });
  });
  return h("div", { class: "profile-grid" }, rename, password);
}

function notificationText(n) {
  const p = n.payload ?? {};
  if (p.message || p.text) return p.message ?? p.text;
  const what = String(n.kind ?? "notification").replaceAll(/[._]/g, " ");
  const seats = p.seats?.length ? `: ${p.seats.join(", ")}` : "";
  const booking = p.booking_id ?? p.booking?.id;
  return `${what[0].toUpperCase()}${what.slice(1)}${booking ? ` #${booking}` : ""}${seats}.`;
}

function notificationItem(n, reload) {
  const read = Boolean(n.read_at);
  return h("li", { class: `booking note ${read ? "read" : "unread"}`, "data-notification-id": n.id, "data-read": String(read) },
    h("div", { class: "booking-main" },
      h("span", { text: notificationText(n) }),
      h("span", { class: "booking-meta" }, h("time", { datetime: n.created_at, text: formatTime(n.created_at) }), read ? " · read" : " · new")),
    read ? null : h("button", { type: "button", class: "btn subtle", "data-action": "mark-read", "aria-label": `Mark "${notificationText(n)}" as read`, text: "Mark read",
      onclick: async (ev) => {
        ev.currentTarget.disabled = true;
        try {
          await api.post(`/me/notifications/${n.id}/read`);
          await reload();
        } catch (err) {
          announceError(err);
        }
      } }));
}

/** The account page; returns {dispose}. */
export function accountPage(app, root) {
  const offs = [];
  const profile = h("div");
  const bookings = h("ul", { class: "booking-list", "aria-labelledby": "acc-bookings" });
  const waitlist = h("ul", { class: "waitlist-list", "aria-labelledby": "acc-waitlists" });
  const notes = h("ul", { class: "booking-list notes", "aria-labelledby": "acc-notes" });
  const status = h("p", { class: "list-status", role: "status" });
  let notifications = [];
  let cards = new Map(); // booking id → {key, el}
  mount(root, h("section", { class: "page account-page", "aria-labelledby": "account-title" },
    h("h1", { id: "account-title", text: "My account" }), status,
    h("h2", { id: "acc-bookings", text: "My bookings" }), bookings,
    h("h2", { id: "acc-waitlists", text: "My waitlists" }), waitlist,
    h("h2", { id: "acc-notes", text: "Notifications" }), notes,
    profile));

  async function loadNotes() {
    if (!app.user) return;
    try {
      notifications = (await api.get("/me/notifications")) ?? [];
    } catch (err) {
      if (err.status !== 401) announceError(err);
    }
    renderNotes();
  }

  function renderNotes() {
    mount(notes, notifications.length ? notifications.map((n) => notificationItem(n, loadNotes)) : h("li", { class: "muted", text: "No notifications." }));
  }

  async function render() {
    if (!app.user) {
      status.textContent = "Sign in to see your bookings, waitlists and notifications.";
      mount(bookings);
      mount(waitlist);
      mount(notes);
      mount(profile);
      return;
    }
    if (!profile.firstChild || profile.dataset.user !== String(app.user.id)) {
      mount(profile, profileSection(app));
      profile.dataset.user = String(app.user.id);
    }
    await loadEvents(app, new Set([...app.bookings, ...app.waitlist].map((b) => b.event_id)));
    status.textContent = "";
    const after = async () => {
      await app.refreshBookings();
      loadNotes();
    };
    // A refresh (a push, a reconnect) keeps the cards whose booking did not change, so an
    // open change form and what was typed in it survive.
    const next = new Map();
    const els = app.bookings.map((b) => {
      const key = JSON.stringify(b) + (app.eventDates.get(b.event_id) ?? "");
      const kept = cards.get(b.id);
      const el = kept?.key === key ? kept.el : bookingCard(app, b, after);
      next.set(b.id, { key, el });
      return el;
    });
    if (!els.length) els.push(h("li", { class: "muted", text: "No bookings yet." }));
    cards = next;
    const same = els.length === bookings.children.length && els.every((el, i) => bookings.children[i] === el);
    if (!same) {
      const focused = bookings.contains(document.activeElement) ? document.activeElement : null;
      mount(bookings, els);
      if (focused?.isConnected) focused.focus();
    }
    const open = app.waitlist.filter((e) => e.status === "WAITING" || e.status === "OFFERED");
    mount(waitlist, open.length ? open.map((e) => {
      const name = app.eventNames.get(e.event_id) ?? `Event ${e.event_id}`;
      return h("li", { class: "booking", "data-waitlist-entry": e.id, "data-waitlist-status": e.status },
        h("div", { class: "booking-main" },
          h("strong", {}, h("a", { href: `#/events/${e.event_id}`, text: name })),
          h("span", { text: `${e.qty} seat${e.qty === 1 ? "" : "s"} · ${e.status === "OFFERED" ? "offer open" : `waiting${e.position ? ` (#${e.position} in line)` : ""}`}` })),
        h("button", { type: "button", class: "btn subtle", "data-action": "leave-waitlist", "aria-label": `Leave the waitlist for ${name}`, text: "Leave",
          onclick: async (ev) => {
            ev.currentTarget.disabled = true;
            try {
              await app.command("waitlist.leave", { entry_id: e.id });
              announce(`You left the waitlist for ${name}.`);
              await app.refreshWaitlist();
            } catch (err) {
              announceError(err);
            }
          } }));
    }) : h("li", { class: "muted", text: "Not on any waitlist." }));
  }

  listen(app.bus, "bookings", render, offs);
  listen(app.bus, "waitlist", render, offs);
  listen(app.bus, "user", () => { render(); loadNotes(); }, offs);
  offs.push(app.ws.on("notification", () => loadNotes()));
  render();
  app.refreshBookings();
  app.refreshWaitlist();
  loadNotes();
  return { dispose: () => offs.forEach((off) => off()) };
}
