// Reading the analyzer's JSON API, with the API token the person signed in
// with (kept in this tab's sessionStorage, sent as Authorization: Bearer,
// never put in a URL).

const TOKEN_KEY = "otel-parity.api-token";

/** The token of this tab's sign-in, or "" without one. */
export function storedToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || "";
  } catch (_) {
    return "";
  }
}

/** Keeps `token` for this tab until it closes or signs out. */
export function storeToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

/** Forgets this tab's token. */
export function forgetToken() {
  try {
    sessionStorage.removeItem(TOKEN_KEY);
  } catch (_) {
    // Storage unavailable: there is nothing to forget.
  }
}

/** A JSON API answer other than 2xx, with the API's own message. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** GET a JSON API path; throws ApiError with the server's message. */
export async function getJSON(path) {
  const headers = { Accept: "application/json" };
  const token = storedToken();
  if (token) headers.Authorization = "Bearer " + token;
  const response = await fetch(path, { headers, credentials: "omit", cache: "no-store" });
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch (_) {
    body = null;
  }
  if (!response.ok) {
    const message = body && typeof body.error === "string" ? body.error : `HTTP ${response.status}`;
    throw new ApiError(response.status, message);
  }
  return body;
}

/** `path?key=value…`, leaving out empty values. */
export function apiPath(path, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value) query.set(key, value);
  }
  const text = query.toString();
  return text ? path + "?" + text : path;
}
