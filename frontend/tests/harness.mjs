// Test harness for the dashboard: start a throwaway Verity server, talk to its API as a user,
// drive a headless Chromium, and take screenshots. Plain ESM for Node 20, no dependencies
// beyond playwright-core (imported only by launchBrowser).

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const SCREENSHOT_DIR = join(HERE, "..", "screenshots");
const STDERR_LINES = 200;
const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;
// oxlint-disable-next-line no-control-regex
const ANSI_ESCAPE = /\x1b\[[0-9;]*m/g;

/** The verity binary: $VERITY_BIN, else the debug build under $CARGO_TARGET_DIR. */
export function verityBin() {
  const target = process.env.CARGO_TARGET_DIR ?? "/var/tmp/verity-target";
  return process.env.VERITY_BIN ?? join(target, "debug", "verity");
}

/**
 * Starts `verity serve` on a free loopback port with a fresh data directory, fast worker and
 * retry timings, and private webhook targets allowed. Resolves once it listens.
 * `exited` resolves with `{code, signal}` when the process ends, however it ends.
 * @returns {Promise<{base: string, dataDir: string, stderrTail: () => string[], exited: Promise<{code: number | null, signal: string | null}>, stop: () => Promise<void>}>}
 */
export async function startVerity({ adminPassword = "admin-password-123", env = {} } = {}) {
  const bin = verityBin();
  if (!existsSync(bin)) {
    throw new Error(
      `verity binary not found at ${bin}: build it with \`cargo build -p verity\` ` +
        "(or point VERITY_BIN at one)",
    );
  }
  const dataDir = await mkdtemp(join(tmpdir(), "verity-data-"));
  const child = spawn(bin, ["serve", "--bind", "127.0.0.1:0", "--data-dir", dataDir], {
    env: {
      ...process.env,
      VERITY_ADMIN_PASSWORD: adminPassword,
      VERITY_WORKER_POLL_MS: "100",
      VERITY_JOB_LEASE_MS: "3000",
      VERITY_RETRY_BASE_MS: "200",
      VERITY_WEBHOOK_ALLOW_PRIVATE: "true",
      VERITY_LOG: "warn",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });

  const stderr = [];
  createInterface({ input: child.stderr }).on("line", (line) => {
    stderr.push(line.replace(ANSI_ESCAPE, "")); // the log is coloured even into a pipe
    if (stderr.length > STDERR_LINES) stderr.shift();
  });
  const stderrTail = () => [...stderr];

  let exited = false;
  // A process that could not be spawned emits "error" and no "exit".
  const exit = new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      exited = true;
      resolve({ code, signal });
    });
    child.on("error", () => {
      if (child.pid === undefined) {
        exited = true;
        resolve({ code: null, signal: null });
      }
    });
  });

  const stop = async () => {
    if (!exited) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => {
        if (!exited) child.kill("SIGKILL");
      }, STOP_GRACE_MS);
      await exit;
      clearTimeout(timer);
    }
    await rm(dataDir, { recursive: true, force: true });
  };

  // stdout is read to the end (so the pipe never fills); the listening line gives the address.
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`verity did not start within ${START_TIMEOUT_MS / 1000} s`)),
      START_TIMEOUT_MS,
    );
    createInterface({ input: child.stdout }).on("line", (line) => {
      const match = /verity listening on (http:\/\/\S+)/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    exit.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`verity exited (code ${code}, signal ${signal}) before listening`));
    });
  }).catch(async (err) => {
    await stop();
    err.message += `\n--- verity stderr ---\n${stderr.join("\n")}`;
    throw err;
  });

  return { base, dataDir, stderrTail, exited: exit, stop };
}

/** An error answer of the API: `status`, `code` and `body` besides the message. */
export class ApiError extends Error {
  constructor(method, path, status, body) {
    const code = body?.error?.code;
    const message = body?.error?.message ?? (typeof body === "string" ? body : "");
    super(`${method} ${path}: ${status}${code ? ` ${code}` : ""}${message ? `: ${message}` : ""}`);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

/**
 * An API client logged in as a user with a dashboard session (cookie + CSRF token), as the
 * browser is. Paths are relative to /api/v1. Answers are parsed JSON (null for 204; text for
 * text/*; a Buffer for other bytes); non-2xx answers throw an ApiError.
 */
export class Client {
  constructor(base, username, cookie, csrfToken) {
    this.base = base;
    this.username = username;
    this.cookie = cookie;
    this.csrfToken = csrfToken;
  }

  /** Logs in with POST /api/v1/auth/login. */
  static async login(base, username, password) {
    const res = await fetch(`${base}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username, password }),
    });
    const body = await readBody(res);
    if (!res.ok) throw new ApiError("POST", "/auth/login", res.status, body);
    const session = res.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .find((c) => c.startsWith("verity_session="));
    if (!session) throw new Error("login answered without a verity_session cookie");
    return new Client(base, username, session, body.csrf_token);
  }

  get(path) {
    return this.request("GET", path);
  }
  post(path, body) {
    return this.request("POST", path, body);
  }
  put(path, body) {
    return this.request("PUT", path, body);
  }
  patch(path, body) {
    return this.request("PATCH", path, body);
  }
  del(path) {
    return this.request("DELETE", path);
  }

  /**
   * Sends raw bytes: dataset versions and model files are POSTed, run artifacts PUT
   * (`/runs/{id}/artifacts/{path}`); `method` overrides that choice.
   */
  upload(path, bytes, contentType = "application/octet-stream", method) {
    method ??= /^\/runs\/[^/]+\/artifacts\//.test(path) ? "PUT" : "POST";
    return this.request(method, path, bytes, contentType);
  }

  /** One request; `body` is sent as JSON unless `contentType` says it is raw. */
  async request(method, path, body, contentType) {
    const headers = { cookie: this.cookie };
    if (method !== "GET" && method !== "HEAD") headers["x-csrf-token"] = this.csrfToken;
    let payload;
    if (contentType !== undefined) {
      headers["content-type"] = contentType;
      payload = body;
    } else if (body !== undefined) {
      headers["content-type"] = "application/json";
      payload = JSON.stringify(body);
    }
    const res = await fetch(`${this.base}/api/v1${path}`, { method, headers, body: payload });
    const answer = await readBody(res);
    if (!res.ok) throw new ApiError(method, path, res.status, answer);
    return answer;
  }
}

async function readBody(res) {
  if (res.status === 204) return null;
  const type = res.headers.get("content-type") ?? "";
  if (type.includes("json")) {
    const text = await res.text();
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  if (type.startsWith("text/")) return res.text();
  return Buffer.from(await res.arrayBuffer());
}

/**
 * A headless Chromium (Playwright gives it a fresh temporary profile). `newContext` opens an
 * isolated browser context (its own cookies) at the given viewport.
 * @returns {Promise<{browser: import("playwright-core").Browser, newContext: (size?: {width: number, height: number}) => Promise<import("playwright-core").BrowserContext>, close: () => Promise<void>}>}
 */
export async function launchBrowser({ width = 1280, height = 800 } = {}) {
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const newContext = (size = { width, height }) => browser.newContext({ viewport: size });
  const close = () => browser.close().catch(() => {});
  return { browser, newContext, close };
}

/** A full-page PNG at frontend/screenshots/<name>.png; returns its path. */
export async function screenshot(page, name) {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * The number of painted pixels (alpha > 0) over every canvas matching `selector`: 0 means the
 * chart drew nothing. With `color` (`#rrggbb`), only pixels of that colour count (each channel
 * within 24), so axes and grid lines, drawn on the same canvas, do not: the series itself must
 * have been drawn. Each canvas is copied onto a scratch 2D canvas, so WebGL ones count too.
 */
export async function canvasInk(page, selector, color = null) {
  return page.evaluate(
    ([sel, hex]) => {
      const want = hex ? [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) : null;
      let ink = 0;
      for (const canvas of document.querySelectorAll(sel)) {
        if (!(canvas instanceof HTMLCanvasElement) || !canvas.width || !canvas.height) continue;
        const scratch = document.createElement("canvas");
        scratch.width = canvas.width;
        scratch.height = canvas.height;
        const ctx = scratch.getContext("2d");
        ctx.drawImage(canvas, 0, 0);
        const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
        for (let i = 0; i < data.length; i += 4) {
          if (data[i + 3] === 0) continue;
          if (want && want.some((v, c) => Math.abs(data[i + c] - v) > 24)) continue;
          ink++;
        }
      }
      return ink;
    },
    [selector, color],
  );
}
