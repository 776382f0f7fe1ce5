// The one way the dashboard talks to the server: JSON over /api/v1 with the session cookie,
// the CSRF token on changes, and the server's error shape turned into an `ApiError` whose
// message is shown to the user as the server wrote it.

/** An error answer from the API (or a network failure, with status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** A page of a list endpoint. */
export type List<T> = { items: T[]; next_cursor?: string | null };

let csrfToken: string | null = null;

/** Sets the token that changes must echo (from login or `GET /auth/me`). */
export function setCsrfToken(token: string | null | undefined): void {
  csrfToken = token ?? null;
}

/** Called when the server says the session is gone (401), so the app can show the sign-in page. */
let onUnauthenticated: () => void = () => {};
export function setOnUnauthenticated(handler: () => void): void {
  onUnauthenticated = handler;
}

/** Encodes path segments: `path\`projects/${name}\`` escapes `name`. */
export function path(strings: TemplateStringsArray, ...values: Array<string | number>): string {
  return strings.reduce(
    (out, part, i) => out + part + (i < values.length ? encodeURIComponent(String(values[i])) : ""),
    "",
  );
}

/** A query string from the defined values (`?a=1&b=x`, or empty). */
export function query(params: Record<string, string | number | boolean | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** Turns a non-2xx answer into an ApiError carrying the server's own code and message. */
export async function errorFrom(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => "");
  try {
    const body = JSON.parse(text);
    const detail = body?.error;
    if (detail && typeof detail.message === "string") {
      return new ApiError(response.status, String(detail.code ?? "error"), detail.message);
    }
    // The MLflow envelope, in case a page ever reads one.
    if (typeof body?.message === "string") {
      return new ApiError(response.status, String(body.error_code ?? "error"), body.message);
    }
  } catch {
    // not JSON: fall through
  }
  const message = text.trim() || response.statusText || `HTTP ${response.status}`;
  return new ApiError(response.status, "http_error", message.slice(0, 500));
}

/** Sends one request to `/api/v1{endpoint}` and returns the parsed JSON (undefined for 204). */
export async function api<T>(method: string, endpoint: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  // Every change is sent as JSON (an empty object when it has no body): the server refuses
  // untyped POSTs that act on a session or with authentication off (cross-site protection).
  const change = method !== "GET";
  if (change) {
    headers["Content-Type"] = "application/json";
    if (csrfToken) headers["X-CSRF-Token"] = csrfToken;
  }
  let response: Response;
  try {
    response = await fetch(`/api/v1${endpoint}`, {
      method,
      headers,
      credentials: "same-origin",
      body: change ? JSON.stringify(body ?? {}) : undefined,
    });
  } catch (err) {
    throw new ApiError(0, "network_error", `the server could not be reached (${String(err)})`);
  }
  if (!response.ok) {
    const error = await errorFrom(response);
    if (response.status === 401 && !endpoint.startsWith("/auth/login")) onUnauthenticated();
    throw error;
  }
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** GET shorthand. */
export const get = <T>(endpoint: string) => api<T>("GET", endpoint);

/** Every item of a list endpoint, page by page, up to `max` items. */
export async function getAll<T>(
  endpoint: string,
  max = 10_000,
): Promise<{ items: T[]; truncated: boolean }> {
  const items: T[] = [];
  let cursor: string | null | undefined;
  const sep = endpoint.includes("?") ? "&" : "?";
  do {
    const page = await get<List<T>>(
      `${endpoint}${sep}limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return { items, truncated: Boolean(cursor) };
}
