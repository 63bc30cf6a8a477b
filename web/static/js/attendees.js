// The admin dashboard's attendee list: GET /admin/events/{id}/attendees as a table.

import { api } from "./api.js";
import { $, announceError, formatTime, h, mount } from "./dom.js";

function pick(obj, ...paths) {
  for (const path of paths) {
    const v = path.split(".").reduce((o, k) => (o === null || o === undefined ? undefined : o[k]), obj);
    if (v !== undefined && v !== null && v !== "") return v;
  }
  return "";
}

/** Show the guest list of one dashboard row's event in #attendees. */
export async function showAttendees(row) {
  const box = $("#attendees");
  const name = row.info?.name ?? `Event ${row.id}`;
  try {
    const res = await api.get(`/admin/events/${row.id}/attendees`);
    const items = Array.isArray(res) ? res : res?.items ?? res?.attendees ?? res?.bookings ?? [];
    mount(box,
      h("div", { class: "section-head" },
        h("h2", { id: "attendees-title", tabindex: "-1", text: `Attendees — ${name} (${items.length})` }),
        h("button", { type: "button", class: "btn subtle", text: "Close", onclick: () => { box.hidden = true; } })),
      items.length === 0 ? h("p", { class: "muted", text: "No bookings yet." }) : h("div", { class: "table-wrap" },
        h("table", { class: "data", "data-attendees": row.id },
          h("thead", {}, h("tr", {}, ["Booking", "Name", "Email", "Guest", "Seats", "Status", "Booked"].map((t) => h("th", { scope: "col", text: t })))),
          h("tbody", {}, items.map((a) => {
            const seats = pick(a, "seats", "booking.seats", "labels");
            const guest = [pick(a, "guest.name", "booking.guest.name"), pick(a, "guest.email", "booking.guest.email")].filter(Boolean).join(" · ");
            return h("tr", { "data-booking-id": pick(a, "booking_id", "booking.id", "id") },
              h("td", { text: `#${pick(a, "booking_id", "booking.id", "id")}` }),
              h("td", { text: pick(a, "user.name", "name", "user_name") }),
              h("td", { text: pick(a, "user.email", "email", "user_email") }),
              h("td", { text: guest }),
              h("td", { text: Array.isArray(seats) ? seats.join(", ") : String(seats || pick(a, "qty", "booking.qty")) }),
              h("td", { text: pick(a, "status", "booking.status") }),
              h("td", { text: formatTime(pick(a, "created_at", "booking.created_at")) }));
          })))),
    );
    box.hidden = false;
    $("#attendees-title").focus();
  } catch (err) {
    announceError(err);
  }
}
