// REST client: JSON in/out, bearer tokens kept in localStorage, one shared refresh.
// Errors become AppError with the contract's `code` (CONTRACT.md §2).

const STORAGE_KEY = "evently.auth";
// Refresh this long before the access token's own expiry, to absorb clock skew.
const REFRESH_MARGIN_MS = 15000;

export class AppError extends Error {
  /**
   * @param {string} code contract error code (SEAT_UNAVAILABLE, …) or a client-side one
   *   (NETWORK, DISCONNECTED, TIMEOUT)
   * @param {string} message human text from the server, if any
   * @param {{status?: number, details?: object, retryAfter?: number|null}} extra
   */
  constructor(code, message, { status = 0, details = {}, retryAfter = null } = {}) {
    super(message || code);
    this.name = "AppError";
    this.code = code;
    this.status = status;
    this.details = details || {};
    this.retryAfter = retryAfter;
  }
}

const changes = new EventTarget();

/** The signed-in session: {access_token, refresh_token, expires_at (ms epoch)} or null. */
export const session = {
  load() {
    try {
      return JSON.parse(localStorage.getItem(STORAGE_KEY)) || null;
    } catch {
      return null;
    }
  },
  get access() {
    return this.load()?.access_token ?? null;
  },
  get refresh() {
    return this.load()?.refresh_token ?? null;
  },
  expiresSoon() {
    const s = this.load();
    if (!s?.expires_at) return false;
    // A quarter of a short token's life, so tokens of a few seconds aren't refreshed constantly.
    const margin = Math.min(REFRESH_MARGIN_MS, (s.ttl_ms ?? Infinity) / 4);
    return s.expires_at - Date.now() < margin;
  },
  save(pair) {
    const data = {
      access_token: pair.access_token,
      refresh_token: pair.refresh_token ?? this.refresh,
      expires_at: pair.expires_in ? Date.now() + pair.expires_in * 1000 : null,
      ttl_ms: pair.expires_in ? pair.expires_in * 1000 : null,
    };
    localStorage.setItem(STORAGE_KEY, JSON.stringify(data));
    changes.dispatchEvent(new CustomEvent("change", { detail: { reason: "saved" } }));
  },
  clear(reason = "signed-out") {
    const had = localStorage.getItem(STORAGE_KEY) !== null;
    localStorage.removeItem(STORAGE_KEY);
    if (had) changes.dispatchEvent(new CustomEvent("change", { detail: { reason } }));
  },
  /** fn({reason}) on sign-in, refresh and sign-out; returns an unsubscribe function. */
  onChange(fn) {
    const listener = (ev) => fn(ev.detail);
    changes.addEventListener("change", listener);
    return () => changes.removeEventListener("change", listener);
  },
};

async function toError(res) {
  let body = null;
  try {
    body = await res.json();
  } catch {
    /* not JSON: fall back to the status line */
  }
  const e = body?.error ?? {};
  const retry = Number(res.headers.get("Retry-After"));
  return new AppError(e.code || `HTTP_${res.status}`, e.message || res.statusText, {
    status: res.status,
    details: e.details,
    retryAfter: Number.isFinite(retry) && retry > 0 ? retry : null,
  });
}

let refreshing = null;

/**
 * Trade the refresh token for a new pair (POST /auth/refresh). Concurrent callers share one
 * request, because a refresh token is single-use and reusing it revokes the whole family.
 * A 4xx answer ends the session; a network failure keeps it for a later retry.
 * @returns {Promise<string>} the new access token
 */
export function refreshTokens() {
  if (!refreshing) {
    refreshing = (async () => {
      const refresh = session.refresh;
      if (!refresh) throw new AppError("UNAUTHENTICATED", "Please sign in.", { status: 401 });
      try {
        const pair = await request("POST", "/auth/refresh", {
          body: { refresh_token: refresh },
          auth: false,
        });
        session.save(pair);
        return pair.access_token;
      } catch (err) {
        if (err.status >= 400 && err.status < 500) session.clear("expired");
        throw err;
      }
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

/**
 * One REST call. Sends the bearer token when signed in; on a 401 other than bad credentials it
 * refreshes once and retries; if that fails the session is cleared (the page then shows sign-in).
 * `raw: true` returns the successful Response itself (for a download such as CSV).
 * @returns {Promise<any>} parsed JSON, or null for 204
 * @throws {AppError}
 */
export async function request(method, path, { body, auth = true, headers = {}, retry = true, raw = false } = {}) {
  if (auth && retry && session.refresh && session.expiresSoon()) {
    await refreshTokens().catch(() => {});
  }
  const hdrs = { Accept: "application/json", ...headers };
  if (body !== undefined) hdrs["Content-Type"] = "application/json";
  const token = auth ? session.access : null;
  if (token) hdrs.Authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers: hdrs,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch (cause) {
    throw new AppError("NETWORK", "The server can't be reached.", { status: 0, details: { cause: String(cause) } });
  }
  if (res.ok) {
    if (raw) return res;
    if (res.status === 204) return null;
    const text = await res.text();
    return text ? JSON.parse(text) : null;
  }
  const err = await toError(res);
  if (res.status === 401 && token && retry && err.code !== "INVALID_CREDENTIALS") {
    try {
      await refreshTokens();
    } catch {
      throw err;
    }
    return request(method, path, { body, auth, headers, retry: false, raw });
  }
  throw err;
}

export const api = {
  get: (path, opts) => request("GET", path, opts),
  post: (path, body = {}, opts = {}) => request("POST", path, { ...opts, body }),
  patch: (path, body = {}, opts = {}) => request("PATCH", path, { ...opts, body }),
  del: (path, opts) => request("DELETE", path, opts),
};

/** Sign in and keep the tokens. */
export async function login(email, password) {
  const pair = await request("POST", "/auth/login", { body: { email, password }, auth: false });
  session.save(pair);
  return pair;
}

/**
 * Create an account (role "user" or "organizer"), then sign in with it.
 * @returns {Promise<object>} the created user: an organizer sign-up that awaits an admin's
 *   approval comes back with role "user"; a closed one throws FORBIDDEN and creates nothing.
 */
export async function signup(name, email, password, role = "user") {
  const body = { name, email, password, ...(role === "user" ? {} : { role }) };
  const user = await request("POST", "/auth/signup", { body, auth: false });
  await login(email, password);
  return user;
}

/** Revoke the tokens on the server (best effort) and forget them here. */
export async function logout() {
  if (session.access) {
    await request("POST", "/auth/logout", { retry: false }).catch(() => {});
  }
  session.clear("signed-out");
}

/** GET /auth/me, or null when signed out or the session can't be renewed. */
export async function currentUser() {
  if (!session.access && !session.refresh) return null;
  try {
    return await api.get("/auth/me");
  } catch (err) {
    if (err.status === 401) {
      session.clear("expired");
      return null;
    }
    throw err;
  }
}
