// Seat commands: sent over the WebSocket when it is live and authenticated, else over REST.
// Both paths answer with the same shapes and error codes (CONTRACT.md §2, §3).

import { AppError, api, refreshTokens, session } from "./api.js";

const REST = {
  hold: (f) => api.post(`/events/${f.event_id}/holds`, f.seat_ids ? { seat_ids: f.seat_ids } : { qty: f.qty }),
  extend: (f) => api.post(`/holds/${encodeURIComponent(f.hold_id)}/extend`),
  release: (f) => api.del(`/holds/${encodeURIComponent(f.hold_id)}`).then(() => ({})),
  confirm: (f) =>
    api.post(`/holds/${encodeURIComponent(f.hold_id)}/confirm`, f.guest ? { guest: f.guest } : {}, {
      headers: f.idempotency_key ? { "Idempotency-Key": f.idempotency_key } : {},
    }),
  cancel: (f) => api.del(`/bookings/${f.booking_id}`),
  "waitlist.join": (f) => api.post(`/events/${f.event_id}/waitlist`, { qty: f.qty }),
  "waitlist.leave": (f) => api.del(`/waitlists/${f.entry_id}`).then(() => ({})),
};

// Safe to repeat over REST when the socket dropped before the reply: confirm carries an
// idempotency key; the others end in the same state however often they run.
const REPEATABLE = new Set(["confirm", "extend", "release", "waitlist.leave"]);

/** Bind command() to one HubSocket. */
export function makeCommand(ws) {
  /**
   * @param {string} op a client op from CONTRACT.md §3
   * @param {object} fields its fields
   * @returns {Promise<object>} the result (Hold, Booking, WaitlistEntry, {})
   * @throws {AppError}
   */
  return async function command(op, fields) {
    if (!session.access) throw new AppError("UNAUTHENTICATED", "Sign in to continue.");
    if (ws.state === "live" && ws.user) {
      try {
        return await ws.request(op, fields);
      } catch (err) {
        if (err.code === "TOKEN_EXPIRED") {
          await refreshTokens();
          await ws.reauth();
          return ws.request(op, fields);
        }
        if ((err.code === "DISCONNECTED" || err.code === "TIMEOUT") && REPEATABLE.has(op)) {
          return REST[op](fields);
        }
        // An older hub without this op: the REST route does the same.
        if (err.code === "BAD_REQUEST" && /unknown op/i.test(err.message)) return REST[op](fields);
        throw err;
      }
    }
    return REST[op](fields);
  };
}
