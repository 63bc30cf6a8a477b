// The live connection to /ws (CONTRACT.md §3): request/reply by `ref`, pushes by `type`,
// frames that are one object or an array of objects, re-auth and re-setup after every
// reconnect, exponential backoff with jitter, and a visible connection state.
// An anonymous connection that watches nothing is closed by the hub after WS_IDLE_SECONDS
// (close 1008, reason "idle: …"); it then stays closed, quietly, until something needs it.

import { AppError } from "./api.js";

const BACKOFF_BASE_MS = 400;
const BACKOFF_CAP_MS = 8000;
const REQUEST_TIMEOUT_MS = 15000;
const PING_EVERY_MS = 20000;
// No frame at all for this long (pings included) means the link is dead even if TCP says not.
const SILENCE_LIMIT_MS = 45000;

const IDLE_CLOSE = 1008;

const AUTH_CODES = new Set(["TOKEN_EXPIRED", "TOKEN_REVOKED", "UNAUTHENTICATED"]);

export function defaultUrl(loc = window.location) {
  return `${loc.protocol === "https:" ? "wss:" : "ws:"}//${loc.host}/ws`;
}

/**
 * Connection states, shown to the user and as data-connection on the status element:
 * "connecting" (first attempt), "live" (open, authenticated if we have a token, set up),
 * "reconnecting" (lost; retrying with backoff).
 */
export class HubSocket {
  /**
   * @param {{url?: string, getToken: () => string|null, refreshToken: () => Promise<string>}} opts
   */
  constructor({ url = defaultUrl(), getToken, refreshToken }) {
    this.url = url;
    this.getToken = getToken;
    this.refreshToken = refreshToken;
    this.state = "connecting";
    /** The `auth` result {user_id, role, expires_at}, or null when anonymous. */
    this.user = null;
    this.ws = null;
    this.pending = new Map();
    this.handlers = new Map();
    this.setups = new Set();
    this.nextRef = 1;
    this.attempt = 0;
    this.everLive = false;
    this.stopped = false;
    this.retryTimer = null;
    this.lastFrameAt = Date.now();
    this.heartbeat = null;
    /** Closed by the hub for idling; dialled again by the next onSession/request/reauth. */
    this.idle = false;
  }

  /** Open the connection (idempotent). */
  start() {
    this.stopped = false;
    if (!this.ws) this.#connect();
    if (!this.heartbeat) this.heartbeat = setInterval(() => this.#beat(), PING_EVERY_MS);
    window.addEventListener("online", () => this.reconnectNow());
    return this;
  }

  /** Close for good (page teardown). */
  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.heartbeat);
    this.heartbeat = null;
    this.ws?.close(1000);
  }

  /** Drop the current connection and dial again now, e.g. after signing out. */
  reconnectNow() {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.attempt = 0;
    const old = this.ws;
    this.ws = null;
    if (old) {
      this.#failPending(old);
      old.onclose = null;
      old.close(1000);
    }
    this.#connect();
  }

  /** Listen for server messages of one `type` ("*" for all); returns an unsubscribe function. */
  on(type, fn) {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type).add(fn);
    return () => this.handlers.get(type)?.delete(fn);
  }

  /**
   * Register work to redo on every (re)connection after auth, such as subscriptions.
   * Runs at once when already live. Returns an unregister function.
   */
  onSession(fn) {
    this.setups.add(fn);
    if (this.idle) this.#wake(); // the new connection runs every setup, this one included
    else if (this.state === "live") Promise.resolve().then(fn).catch((e) => this.#emit("setup-error", e));
    return () => this.setups.delete(fn);
  }

  /**
   * Send one command and wait for its reply.
   * @returns {Promise<object>} the ok reply without type/ref
   * @throws {AppError} the error reply's code, DISCONNECTED or TIMEOUT
   */
  request(op, fields = {}, { timeout = REQUEST_TIMEOUT_MS } = {}) {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      this.#wake();
      return Promise.reject(new AppError("DISCONNECTED", "Not connected."));
    }
    const ref = `r${this.nextRef++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(ref);
        reject(new AppError("TIMEOUT", `No reply to ${op}.`));
      }, timeout);
      this.pending.set(ref, { resolve, reject, timer, ws, op });
      try {
        ws.send(JSON.stringify({ op, ref, ...fields }));
      } catch (cause) {
        clearTimeout(timer);
        this.pending.delete(ref);
        reject(new AppError("DISCONNECTED", String(cause)));
      }
    });
  }

  /** Authenticate this connection again with the current token (after sign-in or refresh). */
  async reauth() {
    if (this.idle) {
      this.reconnectNow(); // a fresh connection authenticates first
      return;
    }
    if (this.ws?.readyState !== WebSocket.OPEN) return;
    await this.#authenticate();
    this.#emit("authenticated", this.user);
  }

  #setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.#emit("state", state);
  }

  #emit(type, msg) {
    for (const key of [type, "*"]) {
      for (const fn of this.handlers.get(key) ?? []) {
        try {
          fn(msg, type);
        } catch (err) {
          console.error(`handler for ${type} failed`, err);
        }
      }
    }
  }

  /** Dial again after an idle close (no-op otherwise). */
  #wake() {
    if (this.idle && !this.stopped) this.#connect();
  }

  #connect() {
    this.idle = false;
    this.#setState(this.everLive ? "reconnecting" : "connecting");
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this.#scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => this.#opened(ws);
    ws.onmessage = (ev) => this.#receive(ev.data);
    ws.onclose = (ev) => this.#closed(ws, ev);
    ws.onerror = () => {}; // a close event always follows
  }

  async #opened(ws) {
    this.lastFrameAt = Date.now();
    try {
      await this.#authenticate();
      for (const fn of [...this.setups]) {
        if (ws !== this.ws) return;
        try {
          await fn();
        } catch (err) {
          if (err?.code === "DISCONNECTED") throw err;
          this.#emit("setup-error", err);
        }
      }
      if (ws !== this.ws) return;
      this.attempt = 0;
      this.everLive = true;
      this.#setState("live");
    } catch {
      // The socket died during set-up; its close handler schedules the retry.
      if (ws === this.ws && ws.readyState === WebSocket.OPEN) ws.close(4000);
    }
  }

  async #authenticate() {
    const token = this.getToken();
    if (!token) {
      this.user = null;
      return;
    }
    try {
      this.user = await this.request("auth", { token });
    } catch (err) {
      if (!AUTH_CODES.has(err.code)) throw err;
      try {
        const fresh = await this.refreshToken();
        this.user = await this.request("auth", { token: fresh });
      } catch (err2) {
        if (err2.code === "DISCONNECTED" || err2.code === "TIMEOUT" || err2.code === "NETWORK") throw err2;
        this.user = null; // carry on anonymously: seat maps still work
        this.#emit("auth.lost", err2);
      }
    }
  }

  #receive(data) {
    this.lastFrameAt = Date.now();
    let parsed;
    try {
      parsed = JSON.parse(data);
    } catch {
      console.warn("ignoring a non-JSON frame");
      return;
    }
    for (const msg of Array.isArray(parsed) ? parsed : [parsed]) {
      if (msg && typeof msg === "object") this.#dispatch(msg);
    }
  }

  #dispatch(msg) {
    const ref = msg.ref === undefined || msg.ref === null ? null : String(msg.ref);
    const waiter = ref !== null ? this.pending.get(ref) : undefined;
    if (waiter && (msg.type === "ok" || msg.type === "error" || msg.type === "pong")) {
      this.pending.delete(ref);
      clearTimeout(waiter.timer);
      const { type, ref: _ref, ...rest } = msg;
      if (type === "error") {
        waiter.reject(new AppError(rest.code || "ERROR", rest.message, { details: rest.details }));
      } else {
        const keys = Object.keys(rest);
        waiter.resolve(keys.length === 1 && keys[0] === "result" ? rest.result : rest);
      }
      return;
    }
    if (msg.type === "error") {
      this.#emit("error", new AppError(msg.code || "ERROR", msg.message, { details: msg.details }));
      return;
    }
    this.#emit(msg.type, msg);
  }

  #failPending(ws) {
    for (const [ref, waiter] of this.pending) {
      if (waiter.ws !== ws) continue;
      clearTimeout(waiter.timer);
      this.pending.delete(ref);
      waiter.reject(new AppError("DISCONNECTED", `Connection lost during ${waiter.op}.`));
    }
  }

  #closed(ws, ev) {
    this.#failPending(ws);
    if (ws !== this.ws) return;
    this.ws = null;
    if (this.stopped) return;
    if (ev.code === IDLE_CLOSE && String(ev.reason).startsWith("idle")) {
      this.idle = true; // nothing was watched and nobody signed in: nothing is lost
      return;
    }
    if (ev.code === 4401) {
      // Banned or revoked: the token is useless; keep the live map going anonymously.
      this.#emit("revoked", ev);
    }
    this.#scheduleRetry();
  }

  #scheduleRetry() {
    this.#setState(this.everLive ? "reconnecting" : "connecting");
    // "Equal jitter": half the backoff fixed, half random, so a restarted server is not
    // hit by every client in the same instant.
    const backoff = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** this.attempt);
    const delay = backoff / 2 + Math.random() * (backoff / 2);
    this.attempt += 1;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.#connect(), delay);
  }

  #beat() {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    if (Date.now() - this.lastFrameAt > SILENCE_LIMIT_MS) {
      ws.close(4000); // onclose → reconnect
      return;
    }
    this.request("ping", {}, { timeout: SILENCE_LIMIT_MS }).catch(() => {});
  }
}
