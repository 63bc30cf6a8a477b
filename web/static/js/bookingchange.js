// A booking on the account page: event name and date, seats, guest; "Change" opens a form
// that edits the guest details and gives back some of the seats (PATCH /bookings/{id}),
// "Cancel" gives back all of them (DELETE /bookings/{id}).

import { api } from "./api.js";
import { announce, announceError, formatTime, h } from "./dom.js";

/** Guest fields of a booking ({name, email} or null) as two labelled inputs. */
function guestFields(b, id) {
  const g = b.guest ?? {};
  return h("fieldset", { class: "guest-fields" },
    h("legend", { text: "Guest" }),
    h("label", { for: `${id}-gname` }, "Guest name",
      h("input", { id: `${id}-gname`, name: "guest_name", type: "text", autocomplete: "off", value: g.name ?? "" })),
    h("label", { for: `${id}-gemail` }, "Guest email",
      h("input", { id: `${id}-gemail`, name: "guest_email", type: "email", autocomplete: "off", value: g.email ?? "" })));
}

/** One checkbox per seat: ticked seats are given back. */
function seatChoices(b, id) {
  const labels = b.seats ?? [];
  return h("fieldset", { class: "release-seats" },
    h("legend", { text: "Give back seats" }),
    (b.seat_ids ?? []).map((seatId, i) => h("label", { class: "check" },
      h("input", { type: "checkbox", name: "release", value: String(seatId), id: `${id}-s${seatId}` }),
      ` ${labels[i] ?? `Seat ${seatId}`}`)));
}

/** The PATCH body from the form, or a sentence saying what is wrong with it. */
function changeBody(form, b) {
  const data = new FormData(form);
  const release = data.getAll("release").map(Number);
  const name = String(data.get("guest_name") ?? "").trim();
  const email = String(data.get("guest_email") ?? "").trim();
  const body = {};
  if (release.length) {
    if (release.length >= (b.seat_ids ?? []).length) return "To give back every seat, cancel the booking.";
    body.release_seat_ids = release;
  }
  const was = b.guest ?? {};
  if (name !== (was.name ?? "") || email !== (was.email ?? "")) {
    if (!name || !email) return "A guest needs both a name and an email.";
    body.guest = { name, email };
  }
  return Object.keys(body).length ? body : "Nothing to change.";
}

/**
 * A booking as a list item (hooks: data-booking-id, data-booking-status, [data-event-date],
 * data-action = change-booking | save-booking | cancel, data-form = change-booking).
 * `after()` runs once the booking changed (to reload the list).
 */
export function bookingCard(app, b, after) {
  const name = app.eventNames.get(b.event_id) ?? `Event ${b.event_id}`;
  const starts = app.eventDates.get(b.event_id);
  const id = `bk${b.id}`;
  const live = b.status === "CONFIRMED";
  const error = h("p", { class: "form-error", role: "alert", "data-form-error": "" });
  const form = h("form", { class: "change-form", "data-form": "change-booking", id: `${id}-form`, hidden: true,
    "aria-label": `Change booking ${b.id}` },
  guestFields(b, id), (b.seat_ids ?? []).length > 1 ? seatChoices(b, id) : null, error,
  h("div", { class: "booking-actions" },
    h("button", { type: "submit", class: "btn primary", "data-action": "save-booking", text: "Save changes" }),
    h("button", { type: "button", class: "btn subtle", text: "Close", onclick: () => toggle(false) })));
  const changeBtn = live ? h("button", {
    type: "button", class: "btn", "data-action": "change-booking", "aria-expanded": "false",
    "aria-controls": `${id}-form`, "aria-label": `Change booking ${b.id} for ${name}`, text: "Change",
    onclick: () => toggle(form.hidden),
  }) : null;

  function toggle(open) {
    form.hidden = !open;
    changeBtn?.setAttribute("aria-expanded", String(open));
    if (open) form.querySelector("input")?.focus();
    else changeBtn?.focus();
  }

  form.addEventListener("input", () => { error.textContent = ""; });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = changeBody(form, b);
    if (typeof body === "string") {
      error.textContent = body;
      return;
    }
    error.textContent = "";
    const submit = form.querySelector('[type="submit"]');
    submit.disabled = true;
    try {
      const next = await api.patch(`/bookings/${b.id}`, body);
      const gave = body.release_seat_ids ? ` Gave back ${body.release_seat_ids.length} seat${body.release_seat_ids.length === 1 ? "" : "s"};` : "";
      announce(`Booking #${b.id} changed.${gave} you keep ${(next.seats ?? []).join(", ")}.`, { kind: "success" });
      await after();
    } catch (err) {
      error.textContent = "";
      announceError(err);
      submit.disabled = false;
    }
  });

  const cancelBtn = live ? h("button", {
    type: "button", class: "btn danger", "data-action": "cancel", "data-booking-id": b.id,
    "aria-label": `Cancel booking ${b.id} for ${name}`, text: "Cancel",
    onclick: async (ev) => {
      const button = ev.currentTarget;
      button.disabled = true;
      try {
        app.recent.add(`x${b.id}`);
        await app.command("cancel", { booking_id: b.id });
        announce(`Booking #${b.id} cancelled; the seats were released.`);
        await after();
      } catch (err) {
        announceError(err);
        if (button.isConnected) button.disabled = false;
      }
    },
  }) : null;

  const guest = b.guest?.name ? `Guest: ${b.guest.name} <${b.guest.email ?? ""}>` : null;
  return h("li", { class: `booking ${live ? "" : "cancelled"}`, "data-booking-id": b.id, "data-booking-status": b.status },
    h("div", { class: "booking-main" },
      h("strong", {}, h("a", { href: `#/events/${b.event_id}`, text: name })),
      starts ? h("span", { class: "booking-when" }, h("time", { datetime: starts, "data-event-date": b.event_id, text: formatTime(starts) })) : null,
      h("span", { class: "booking-seats", "data-booking-seats": "", text: (b.seats ?? []).join(", ") || `${b.qty} seats` }),
      guest ? h("span", { class: "booking-guest", "data-booking-guest": "", text: guest }) : null,
      h("span", { class: "booking-meta", text: `#${b.id} · ${live ? "booked" : "cancelled"} ${formatTime(b.created_at)}` })),
    live ? h("div", { class: "booking-actions" }, changeBtn, cancelBtn) : null,
    form);
}
