// The JSON API as the browser uses it: session cookie plus the page's CSRF token on writes.

const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }

  /** Worth sending again as it is: the network or the server failed, not the request. */
  get retryable() {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500;
  }
}

export async function api(method, path, body) {
  const init = { method, credentials: "same-origin", headers: { accept: "application/json" } };
  if (method !== "GET") init.headers["x-csrf-token"] = csrf;
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(`/api/v1${path}`, init);
  } catch {
    throw new ApiError(0, "the server could not be reached");
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const detail = data?.detail ?? `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, response.status === 401 ? "you are logged out" : detail);
  }
  return data;
}
