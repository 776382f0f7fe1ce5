// Benchmark: the runs table with 10,000 runs in Chromium. It starts verity (the debug build
// unless VERITY_BIN names another), makes one experiment with N runs (params, two metrics, a tag)
// over the API, opens the experiment page of the built dashboard (run `npm run build` first),
// and measures:
// - load: navigation to every run in the table (10 search pages of 1,000);
// - sort: a header click to the next painted frame, on all rows in the browser;
// - scroll: the time per scroll step of one screen of rows, each followed by a painted frame;
// - filter: Enter in the filter box to the filtered table painted (one server search).
// Usage: node scripts/bench-runs-table.mjs [runs=10000]
import { Client, launchBrowser, startVerity } from "../tests/harness.mjs";

const RUNS = Number(process.argv[2] ?? 10_000);
const ADMIN_PASSWORD = "admin-password-123";

const server = await startVerity({ adminPassword: ADMIN_PASSWORD });
try {
  const admin = await Client.login(server.base, "admin", ADMIN_PASSWORD);
  await admin.post("/projects", { name: "bench" });
  const experiment = await admin.post("/projects/bench/experiments", { name: "sweep" });
  const seeded = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < RUNS) {
      const i = next++;
      const run = await admin.post(`/projects/bench/experiments/${experiment.id}/runs`, {
        name: `run-${String(i).padStart(5, "0")}`,
        tags: [{ key: "group", value: `g${i % 7}` }],
      });
      await admin.post(`/runs/${run.run_id}/batch`, {
        params: [
          { key: "lr", value: String(10 ** -(1 + (i % 4))) },
          { key: "depth", value: String(2 + (i % 9)) },
        ],
        metrics: [
          { key: "accuracy", value: ((i * 7919) % 10_000) / 10_000, step: 0 },
          { key: "loss", value: ((i * 104_729) % 10_000) / 5_000, step: 0 },
        ],
      });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  console.log(`seeded ${RUNS} runs in ${((Date.now() - seeded) / 1000).toFixed(1)} s`);

  const browser = await launchBrowser({ width: 1280, height: 800 });
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.base}/ui/`);
    await page.getByLabel("User name").fill("admin");
    await page.getByLabel("Password").fill(ADMIN_PASSWORD);
    await page.getByLabel("Password").press("Enter");
    await page.getByTestId("who").waitFor();

    const rowcount = `[data-testid=runs-table] table[aria-rowcount="${RUNS + 1}"]`;
    const loadStart = Date.now();
    await page.goto(`${server.base}/ui/projects/bench/experiments/${experiment.id}`);
    await page.locator(rowcount).waitFor({ timeout: 120_000 });
    await page.waitForFunction(() => !document.body.textContent.includes("Loading"));
    const load = Date.now() - loadStart;

    // A click on a header, then two animation frames: React has rendered and the frame is painted.
    const sort = [];
    for (let i = 0; i < 6; i++) {
      sort.push(
        await page.evaluate(async () => {
          const button = [...document.querySelectorAll("[data-testid=runs-table] th button.sort")].find(
            (b) => b.textContent.trim().startsWith("accuracy"),
          );
          const t0 = performance.now();
          button.click();
          await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
          return performance.now() - t0;
        }),
      );
    }

    const scroll = await page.evaluate(async () => {
      const box = document.querySelector("[data-testid=runs-table] .table-box");
      const times = [];
      // Frames over 50 ms (Chromium's long animation frames) are what a user sees as lag.
      const long = [];
      const observer = new PerformanceObserver((list) => long.push(...list.getEntries().map((e) => e.duration)));
      observer.observe({ type: "long-animation-frame" });
      for (let i = 0; i < 120; i++) {
        const t0 = performance.now();
        box.scrollTop += box.clientHeight;
        box.dispatchEvent(new Event("scroll"));
        await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
        times.push(performance.now() - t0);
      }
      await new Promise((r) => setTimeout(r, 100));
      observer.disconnect();
      return { times, long };
    });

    const filterStart = Date.now();
    const input = page.getByTestId("filter-input");
    await input.fill("metrics.accuracy > 0.5 and params.depth = '4'");
    await input.press("Enter");
    await page.waitForFunction(
      (all) => {
        const table = document.querySelector("[data-testid=runs-table] table");
        const n = Number(table?.getAttribute("aria-rowcount"));
        return n > 1 && n < all;
      },
      RUNS + 1,
      { timeout: 60_000 },
    );
    const filter = Date.now() - filterStart;

    const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
    const ms = (x) => `${x.toFixed(1)} ms`;
    console.log(`runs: ${RUNS}`);
    console.log(`load (navigation to every run in the table): ${load} ms`);
    console.log(`sort (click to painted frame), 6 clicks: median ${ms(pct(sort, 0.5))}, max ${ms(Math.max(...sort))}`);
    const steps = scroll.times;
    console.log(`scroll (one screen per step, to the second painted frame), 120 steps: p50 ${ms(pct(steps, 0.5))}, p95 ${ms(pct(steps, 0.95))}, max ${ms(Math.max(...steps))}; frames over 50 ms: ${scroll.long.length}${scroll.long.length ? ` (max ${ms(Math.max(...scroll.long))})` : ""}`);
    console.log(`filter (Enter to filtered table): ${filter} ms`);
    await context.close();
  } finally {
    await browser.close();
  }
} finally {
  await server.stop();
}
