// The sign-in dialog: sign in, or sign up as a ticket buyer or as an organizer (open: the
// account organizes at once; approval: it books now and its request awaits an admin;
// closed: nothing is created and the dialog says so).

import { login, signup } from "./api.js";
import { ORGANIZER_REQUEST_KEY } from "./account.js";
import { $, announce, describeError } from "./dom.js";

// What an organizer sign-up got: "organizer" (open), "pending" (approval) or null.
let organizerOutcome = null;

function welcome(app, outcome) {
  const who = app.user?.name || app.user?.email;
  if (outcome === "organizer") {
    announce(`Welcome, ${who}. Your organizer account is ready: create events and follow them under My events.`,
      { kind: "success", timeout: 20000 })?.setAttribute("data-signup-outcome", "organizer");
    location.hash = "#/my-events";
  } else if (outcome === "pending") {
    announce(`Welcome, ${who}. Your account is ready for booking; your request to organize events is pending an admin's approval.`,
      { kind: "warning", timeout: 30000 })?.setAttribute("data-signup-outcome", "pending");
    location.hash = "#/account";
  } else {
    announce(`Welcome, ${who}.`, { kind: "success" });
  }
}

/**
 * Wire the sign-in dialog's two forms. `app` is the shared state, `signedIn()` loads the
 * account after a successful login or sign-up.
 */
export function bindAuthForms(app, signedIn) {
  $('[data-action="close-sign-in"]').addEventListener("click", () => $("#auth").close());
  const loginForm = $('form[data-form="login"]');
  const signupForm = $('form[data-form="signup"]');
  async function submit(form, fn) {
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    form.setAttribute("aria-busy", "true");
    try {
      organizerOutcome = null;
      delete $("[data-auth-error]").dataset.signupOutcome;
      await fn(new FormData(form));
      form.reset();
      await signedIn();
      welcome(app, organizerOutcome);
    } catch (err) {
      $("[data-auth-error]").textContent = describeError(err);
    } finally {
      button.disabled = false;
      form.setAttribute("aria-busy", "false");
    }
  }
  loginForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submit(loginForm, (d) => login(d.get("email").trim(), d.get("password")));
  });
  signupForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submit(signupForm, async (d) => {
      const role = d.get("role") === "organizer" ? "organizer" : "user";
      try {
        const user = await signup(d.get("name").trim(), d.get("email").trim(), d.get("password"), role);
        if (role === "organizer") organizerOutcome = user.role === "organizer" ? "organizer" : "pending";
        if (organizerOutcome === "pending") localStorage.setItem(ORGANIZER_REQUEST_KEY, String(user.id));
      } catch (err) {
        if (role === "organizer" && err.code === "FORBIDDEN") {
          $("[data-auth-error]").dataset.signupOutcome = "closed";
          throw new Error("Organizer sign-up is closed on this hub: no account was created. Choose \u201cBook seats\u201d to create an attendee account.");
        }
        throw err;
      }
    });
  });
}

