// Small DOM helpers shared by the seat picker and the admin dashboard.
// No framework: h() builds elements, announce() speaks to the aria-live regions.

/**
 * Build an element.
 * attrs: "class", "text", "data-*", "aria-*", other attributes (strings/numbers),
 * booleans (true → attribute present), functions for on* listeners.
 * children: nodes, strings, numbers, arrays of those, null/false (skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const el = tag === "svg" || attrs.xmlns === SVG_NS
    ? document.createElementNS(SVG_NS, tag)
    : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") el.textContent = String(value);
    else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "value" && "value" in el) el.value = value;
    else if (key === "checked" && "checked" in el) el.checked = Boolean(value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

export const SVG_NS = "http://www.w3.org/2000/svg";

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace all children of `el`. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

/**
 * Show a message in the page's live regions, replacing the one shown before (one toast at a
 * time: an old message never lingers under a newer one).
 * kind "error" goes to the role=alert region (read at once by screen readers) and
 * carries data-error-code; "info"/"success" go to the polite region and fade after a while.
 */
export function announce(text, { kind = "info", code = null, timeout = null } = {}) {
  const region = document.getElementById(kind === "error" ? "errors" : "messages");
  if (!region) return null;
  const item = h(
    "div",
    { class: `msg msg-${kind}`, "data-kind": kind, "data-error-code": code },
    h("span", { class: "msg-text", text }),
    h("button", {
      type: "button", class: "msg-close", "aria-label": "Dismiss message", text: "×",
      onclick: () => item.remove(),
    }),
  );
  for (const id of ["errors", "messages"]) document.getElementById(id)?.replaceChildren();
  region.append(item);
  const ttl = timeout ?? (kind === "error" ? 15000 : 7000);
  if (ttl > 0) setTimeout(() => item.remove(), ttl);
  return item;
}

/** A friendly sentence for an AppError (see api.js), keeping the server's message as detail. */
export function describeError(err) {
  const code = err?.code || "ERROR";
  const labels = err?.details?.labels || err?.details?.seats;
  const friendly = {
    SEAT_UNAVAILABLE: `Sorry, ${labels ? `seat${labels.length > 1 ? "s" : ""} ${labels.join(", ")}` : "some of those seats"} just went to someone else.`,
    NOT_ENOUGH_SEATS: "There aren't enough seats available for that many. Try fewer.",
    SOLD_OUT: "This event is sold out. You can join the waitlist.",
    HOLD_EXPIRED: "Your hold has expired; the seats were released.",
    EVENT_INACTIVE: "This event is not taking bookings right now.",
    HOLD_LIMIT: "You are holding as many seats as allowed. Confirm or release some first.",
    RATE_LIMITED: "Too many requests. Please wait a moment.",
    UNAUTHENTICATED: "Please sign in first.",
    TOKEN_EXPIRED: "Your session expired. Please sign in again.",
    TOKEN_REVOKED: "Your session was ended. Please sign in again.",
    INVALID_CREDENTIALS: "Wrong email or password.",
    FORBIDDEN: "You are not allowed to do that.",
    NOT_FOUND: "Not found.",
    ALREADY_EXISTS: "That already exists.",
    UNAVAILABLE: "The service is briefly unavailable. Nothing was changed; please retry.",
    NETWORK: "Can't reach the server. Check your connection.",
    DISCONNECTED: "Not connected to the live server; please retry in a moment.",
    TIMEOUT: "The server did not answer in time; please retry.",
  }[code];
  const server = err?.message && err.message !== code ? err.message : "";
  if (friendly && server && !friendly.includes(server)) return `${friendly} (${server})`;
  return friendly || server || code;
}

export function announceError(err) {
  return announce(describeError(err), { kind: "error", code: err?.code || "ERROR" });
}

/** "Sat 21 Nov, 19:30" in the user's locale. */
export function formatTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString(undefined, {
    weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
  });
}

/** Seconds → "m:ss". */
export function formatCountdown(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** crypto.randomUUID() where available (secure contexts), else a v4 UUID from getRandomValues. */
export function uuid() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
