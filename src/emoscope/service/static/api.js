// The API client: the access token (kept in localStorage), the error banner, and api(), which
// sends the token and turns any failure into an ApiError with the server's message.
import { $ } from "./dom.js";

const TOKEN_KEY = "emoscope.token";

function readToken() {
  try { return localStorage.getItem(TOKEN_KEY) || ""; } catch { return ""; }
}

let token = readToken();

// The token sent with every request and the live stream ("" for none).
export function getToken() {
  return token;
}

export function writeToken(value) {
  token = value;
  try {
    if (value) localStorage.setItem(TOKEN_KEY, value);
    else localStorage.removeItem(TOKEN_KEY);
  } catch { /* storage disabled: keep the token for this page only */ }
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function showError(message) {
  $("error-message").textContent = message;
  $("error").hidden = false;
}

export function clearError() {
  $("error").hidden = true;
  $("error-message").textContent = "";
}

export function messageOf(err) {
  if (err instanceof ApiError) return err.message;
  if (err && err.message) return err.message;
  return String(err);
}

// Runs an async handler; any failure ends up in the error banner, never in the console.
export function guard(fn) {
  return (...args) => {
    Promise.resolve()
      .then(() => fn(...args))
      .catch((err) => {
        // A 401 has already asked for the token, with the server's reason.
        if (!(err instanceof ApiError && err.status === 401)) showError(messageOf(err));
      });
  };
}

export function needToken(message) {
  const form = $("token-form");
  form.hidden = false;
  showError(message || "This server needs an access token.");
  $("token-input").focus();
}

// Reads a JSON error body ({"error": {"code", "message"}}), or whatever the server said.
async function errorFrom(resp) {
  let code = `http_${resp.status}`;
  let message = `${resp.status} ${resp.statusText || "error"}`.trim();
  const text = await resp.text().catch(() => "");
  if (text) {
    try {
      const body = JSON.parse(text);
      const e = body && body.error;
      if (e && typeof e === "object") {
        code = e.code || code;
        message = e.message || message;
      } else if (typeof e === "string") {
        message = e;
      } else if (body && body.detail) {
        message = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
      }
    } catch {
      message = text.slice(0, 300);
    }
  }
  return new ApiError(resp.status, code, message);
}

export async function api(path, options = {}) {
  const headers = new Headers(options.headers || {});
  headers.set("Accept", "application/json");
  if (token) headers.set("Authorization", `Bearer ${token}`);
  let resp;
  try {
    resp = await fetch(new URL(path, document.baseURI), { ...options, headers });
  } catch (err) {
    throw new ApiError(0, "network", `Cannot reach the server (${messageOf(err)}).`);
  }
  if (!resp.ok) {
    const err = await errorFrom(resp);
    if (resp.status === 401) {
      needToken(token ? `The access token was refused: ${err.message}`
        : `This server needs an access token: ${err.message}`);
    }
    throw err;
  }
  if (resp.status === 204) return null;
  return resp.json();
}
