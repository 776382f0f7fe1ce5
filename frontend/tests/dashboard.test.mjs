// The dashboard in Debian's Chromium against the real verity binary on an ephemeral port with a
// temporary SQLite database, seeded over the API (tests/seed.mjs). Each step saves a
// screenshot under frontend/screenshots/. Run: npm run test:browser (after npm run build and
// cargo build -p verity; VERITY_BIN names another binary).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { Client, canvasInk, launchBrowser, screenshot, startVerity } from "./harness.mjs";
import { GRAD_NORM_SPIKE, GRAD_NORM_STEPS, seed } from "./seed.mjs";

const ADMIN_PASSWORD = "admin-password-123";
/** The chart palette's first two colours (src/lib/chart.ts PALETTE): one per run or side. */
const FIRST = "#1d4ed8";
const SECOND = "#c2410c";
/** Words that start a write action's button or link; a viewer must see none of them. */
const WRITE_WORDS =
  /^(new|create|add|set|move|delete|remove|rename|save|edit|run|acknowledge|resolve|grant|revoke|disable|enable|change|upload|register|retire|approve|reject|promote)\b/i;

let server;
let world;
let browser;

before(async () => {
  server = await startVerity({ adminPassword: ADMIN_PASSWORD });
  const admin = await Client.login(server.base, "admin", ADMIN_PASSWORD);
  world = await seed(server.base, admin);
  browser = await launchBrowser({ width: 1280, height: 800 });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A fresh page (own cookies) that records uncaught errors and console errors. */
async function newPage({ width = 1280, height = 800 } = {}) {
  const context = await browser.newContext({ width, height });
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
  page.on("console", (msg) => {
    // A refused request is logged by Chromium itself; the page shows the API's message.
    if (msg.type() === "error" && !msg.text().startsWith("Failed to load resource")) {
      problems.push(`console: ${msg.text()}`);
    }
  });
  page.problems = problems;
  page.closeAll = async () => {
    await page.close();
    await context.close();
  };
  return page;
}

const ui = (path) => `${server.base}/ui${path}`;

/**
 * Signs in through the form, with the keyboard, and waits for the frame. The server allows 20
 * logins a minute from one address; when the suite has used them up, it waits as told and
 * signs in again.
 */
async function signIn(page, user, password) {
  for (let attempt = 0; ; attempt++) {
    await page.goto(ui("/"));
    await page.getByLabel("User name").fill(user);
    await page.getByLabel("Password").fill(password);
    await page.getByLabel("Password").press("Enter");
    const who = page.getByTestId("who").filter({ hasText: user });
    const limited = page.getByRole("alert").filter({ hasText: /retry in \d+ s/ });
    await who.or(limited).first().waitFor();
    if (await who.isVisible()) return;
    if (attempt >= 2) throw new Error(`signing in as ${user} stayed rate-limited`);
    const seconds = Number((await limited.textContent()).match(/retry in (\d+) s/)[1]);
    await page.waitForTimeout((seconds + 1) * 1000);
  }
}

const password = (user) => world.users[user].password;

/**
 * Names of every button (enabled or not), button-like link and disclosure in the main area
 * that looks like a write action. Sort buttons in table headers and tabs are reads.
 */
async function writeControls(page) {
  const names = await page
    .locator("main button:not(.sort):not([role=tab]), main a.button, main [role=button], main summary")
    .evaluateAll((els) => els.map((el) => (el.getAttribute("aria-label") || el.textContent || "").trim()));
  return names.filter((name) => WRITE_WORDS.test(name));
}

describe("dashboard", () => {
  test("sign-in refuses a wrong password with the server's message, then shows the user", async () => {
    const page = await newPage();
    await page.goto(ui("/projects"));
    await page.getByLabel("User name").fill("admin");
    await page.getByLabel("Password").fill("not-the-password");
    await screenshot(page, "01-sign-in");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "invalid user name or password" }).waitFor();
    await page.getByLabel("Password").fill(ADMIN_PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    const who = page.getByTestId("who");
    await who.filter({ hasText: "admin" }).waitFor();
    assert.match(await who.textContent(), /admin/);
    await page.getByRole("link", { name: world.project }).waitFor();
    await screenshot(page, "02-projects");
    // Signing out returns to the form, and the session is gone on the server too: the old
    // cookie, sent again, is refused.
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === "verity_session");
    assert.ok(session, "signed in with a session cookie");
    const me = () => fetch(`${server.base}/api/v1/auth/me`, { headers: { cookie: `verity_session=${session.value}` } });
    assert.equal((await me()).status, 200);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("User name").waitFor();
    assert.equal((await me()).status, 401);
    await page.reload();
    await page.getByLabel("User name").waitFor();
    assert.deepEqual(page.problems, []);
    await page.closeAll();
  });

  test("runs table: filter errors show their position; a run's chart draws its spike", async () => {
    const page = await newPage();
    await signIn(page, "alice", password("alice"));
    await page.goto(ui(`/projects/${world.project}/experiments/${world.experimentId}`));
    const table = page.getByTestId("runs-table");
    await table.locator("tbody tr").nth(2).waitFor();
    assert.equal(await table.locator("tbody tr").count(), 3);
    await screenshot(page, "03-runs-table");

    const filter = page.getByTestId("filter-input");
    await filter.fill("metrics.loss >");
    await filter.press("Enter");
    const error = page.getByTestId("filter-error");
    await error.waitFor();
    assert.match(await error.textContent(), /position/);
    await screenshot(page, "04-filter-error");
    await filter.fill("");
    await filter.press("Enter");
    await error.waitFor({ state: "detached" });

    const spike = world.runs.find((r) => r.id === world.spikeRunId);
    await table.getByRole("link", { name: spike.name }).click();
    const chart = page.getByTestId("metric-chart-loss");
    await chart.locator("canvas").first().waitFor();
    await page.waitForFunction(
      (sel) => [...document.querySelectorAll(sel)].some((c) => c.width > 0),
      "[data-testid=metric-chart-loss] canvas",
    );
    const ink = await waitForInk(page, "[data-testid=metric-chart-loss] canvas", FIRST);
    assert.ok(ink > 500, `the loss line is drawn (${ink} pixels of its colour)`);
    // The drawn y range reaches the spike (25) although it lies inside one bucket.
    const yMax = Number(await chart.locator(".uplot").getAttribute("data-y-max"));
    assert.ok(yMax >= 25, `the y scale reaches the spike: ${yMax}`);
    // grad_norm has far more points than the chart has pixels; its one spike lies inside a
    // bucket and is drawn through the bucket's min–max band.
    const grad = page.getByTestId("metric-chart-grad_norm");
    await grad.locator(".uplot[data-y-max]").waitFor();
    const gradMax = Number(await grad.locator(".uplot").getAttribute("data-y-max"));
    assert.ok(GRAD_NORM_STEPS > 10 * (await grad.boundingBox()).width);
    assert.ok(gradMax >= GRAD_NORM_SPIKE.value, `grad_norm's spike is drawn: ${gradMax}`);
    // Dragging across the chart zooms in: finer buckets of that step range are fetched, and
    // the spike inside it is still drawn.
    const over = grad.locator(".u-over");
    const box = await over.boundingBox();
    const finer = page.waitForRequest(
      (r) => r.url().includes("key=grad_norm") && r.url().includes("start_step="),
    );
    await page.mouse.move(box.x + box.width * 0.55, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2, { steps: 8 });
    await page.mouse.up();
    const url = new URL((await finer).url());
    const [start, end] = ["start_step", "end_step"].map((k) => Number(url.searchParams.get(k)));
    assert.ok(start < GRAD_NORM_SPIKE.step && GRAD_NORM_SPIKE.step < end, `zoomed to ${start}..${end}`);
    assert.ok(end - start < GRAD_NORM_STEPS / 3, `a narrower range: ${start}..${end}`);
    await grad.getByRole("button", { name: "Reset zoom" }).waitFor();
    const zoomedMax = Number(await grad.locator(".uplot").getAttribute("data-y-max"));
    assert.ok(zoomedMax >= GRAD_NORM_SPIKE.value, `the spike is drawn after zooming: ${zoomedMax}`);
    // The keyboard does the same: Escape shows every step again, + halves the range.
    const focus = grad.locator(".chart-focus");
    await focus.focus();
    await focus.press("Escape");
    await grad.getByRole("button", { name: "Reset zoom" }).waitFor({ state: "detached" });
    const keyed = page.waitForRequest(
      (r) => r.url().includes("key=grad_norm") && r.url().includes("start_step="),
    );
    await focus.press("+");
    const halved = new URL((await keyed).url()).searchParams;
    assert.deepEqual(
      [Number(halved.get("start_step")), Number(halved.get("end_step"))],
      [4999, 15000],
      "+ zooms to the middle half of steps 0..19999",
    );
    await screenshot(page, "05-run");
    assert.deepEqual(page.problems, []);
    await page.closeAll();
  });

  test("compare two runs: overlaid charts and a param diff", async () => {
    const page = await newPage({ width: 1920, height: 1080 });
    await signIn(page, "alice", password("alice"));
    const [a, b] = world.runs;
    await page.goto(ui(`/projects/${world.project}/compare?runs=${a.id},${b.id}`));
    const diff = page.getByTestId("param-diff");
    await diff.waitFor();
    const text = await diff.textContent();
    assert.match(text, /lr/);
    for (const color of [FIRST, SECOND]) {
      const ink = await waitForInk(page, "[data-testid=metric-chart-loss] canvas", color);
      assert.ok(ink > 500, `both runs are drawn on the loss chart (${color}: ${ink} pixels)`);
    }
    await screenshot(page, "06-compare-1920");
    assert.deepEqual(page.problems, []);
    await page.closeAll();
  });

  test("drift report: reference and current histograms per column", async () => {
    const page = await newPage();
    await signIn(page, "alice", password("alice"));
    await page.goto(ui(`/projects/${world.project}/datasets/${world.dataset.name}/versions/2`));
    const drift = page.getByTestId("drift-report");
    await drift.waitFor();
    assert.match(await drift.textContent(), /income/);
    for (const [side, color] of [["reference", FIRST], ["current", SECOND]]) {
      const ink = await waitForInk(page, "[data-testid=drift-histogram-income] canvas", color);
      assert.ok(ink > 500, `the income histogram draws its ${side} bars (${ink} pixels)`);
    }
    await screenshot(page, "07-dataset-version");
    await page.goto(ui(`/projects/${world.project}/reports/${world.reports.drift}`));
    await page.getByTestId("drift-report").waitFor();
    await screenshot(page, "08-drift-report");
    assert.deepEqual(page.problems, []);
    await page.closeAll();
  });

  test("an owner acknowledges the open alert; the model's alias history is a timeline", async () => {
    const page = await newPage();
    await signIn(page, "olivia", password("olivia"));
    await page.goto(ui(`/projects/${world.project}?tab=monitoring`));
    const alerts = page.getByTestId("alerts-table");
    await alerts.waitFor();
    await screenshot(page, "09-monitoring");
    await alerts.getByRole("button", { name: "Acknowledge" }).first().click();
    await alerts.getByText("acknowledged").first().waitFor();

    await page.goto(ui(`/projects/${world.project}/models/${world.model.name}`));
    const timeline = page.getByTestId("alias-timeline");
    await timeline.waitFor();
    assert.match(await timeline.textContent(), /staging/);
    await screenshot(page, "10-model");
    await page.goto(ui(`/projects/${world.project}/models/${world.model.name}/versions/2`));
    await page.getByRole("heading", { level: 1 }).waitFor();
    await screenshot(page, "11-model-version");
    assert.deepEqual(page.problems, []);
    await page.closeAll();
  });

  test("lineage of a run is an interactive graph", async () => {
    const page = await newPage();
    await signIn(page, "alice", password("alice"));
    await page.goto(ui(`/lineage?kind=run&id=${world.inputRunId}`));
    const graph = page.getByTestId("lineage-graph");
    await graph.waitFor();
    await graph.locator("[data-key]").nth(1).waitFor();
    assert.ok((await graph.locator("[data-key]").count()) >= 2);
    await screenshot(page, "12-lineage");
    // One tab stop, the centre; the left arrow moves focus to the run's training data.
    assert.equal(await graph.locator('[data-key][tabindex="0"]').count(), 1);
    const centre = graph.locator('[data-key][aria-label*="(centre)"]');
    await centre.focus();
    await centre.press("ArrowLeft");
    const focusedLabel = await page.evaluate(() => document.activeElement?.getAttribute("aria-label") ?? "");
    assert.match(focusedLabel, /^Dataset version/);
    // Clicking the run's training data re-centres the graph on it.
    await graph.locator('[data-key][aria-label^="Dataset version"]').first().click();
    await page.waitForURL(/kind=dataset_version/);
    await graph.locator('[data-key][aria-label*="(centre)"][aria-label^="Dataset version"]').waitFor();
    assert.deepEqual(page.problems, []);
    await page.closeAll();
  });

  test("an administrator verifies the audit chain", async () => {
    const page = await newPage();
    await signIn(page, "admin", ADMIN_PASSWORD);
    await page.goto(ui("/audit"));
    await page.getByRole("button", { name: "Verify chain" }).click();
    const result = page.getByTestId("verify-result");
    await result.waitFor();
    assert.match(await result.textContent(), /intact/i);
    await screenshot(page, "13-audit");
    await page.goto(ui("/admin"));
    await page.getByRole("heading", { level: 1 }).waitFor();
    await screenshot(page, "14-admin");
    assert.deepEqual(page.problems, []);
    await page.closeAll();
  });

  test("differential privacy: an owner sets a budget, a viewer asks, the ledger shows it", async () => {
    const dataset = `/projects/${world.project}/datasets/${world.dataset.name}`;
    const owner = await newPage();
    await signIn(owner, "olivia", password("olivia"));
    await owner.goto(ui(dataset));
    const form = owner.getByTestId("set-budget");
    await form.getByLabel("Epsilon limit").fill("2");
    await form.getByRole("button", { name: "Set budget" }).click();
    await owner.getByTestId("budgets-table").getByText("0 / 2").waitFor();

    const viewer = await newPage();
    await signIn(viewer, "vic", password("vic"));
    await viewer.goto(ui(`${dataset}/versions/2`));
    const ask = viewer.getByTestId("dp-form");
    await ask.getByLabel("Epsilon").fill("0.5");
    await ask.getByRole("button", { name: "Ask" }).click();
    const answer = viewer.getByTestId("dp-answer");
    await answer.waitFor();
    assert.match(await answer.textContent(), /count: -?\d+/);
    assert.match(await answer.textContent(), /left to you: ε 1\.5/);
    // Over budget: the server's refusal is shown, nothing released.
    await ask.getByLabel("Epsilon").fill("5");
    await ask.getByRole("button", { name: "Ask" }).click();
    await ask.getByRole("alert").filter({ hasText: "nothing was released" }).waitFor();
    await screenshot(viewer, "19-dp-question");
    // Viewers do not see budgets or the ledger.
    await viewer.goto(ui(dataset));
    await viewer.getByRole("heading", { level: 1 }).waitFor();
    assert.equal(await viewer.getByTestId("ledger-table").count(), 0);

    await owner.reload();
    const ledger = owner.getByTestId("ledger-table");
    await ledger.getByText("vic").waitFor();
    await owner.getByTestId("budgets-table").getByText("0.5 / 2").waitFor();
    await screenshot(owner, "20-privacy-budget");
    assert.deepEqual(owner.problems, []);
    assert.deepEqual(viewer.problems, []);
    await owner.closeAll();
    await viewer.closeAll();
  });

  test("masking: an administrator masks columns, a viewer gets only pseudonyms", async () => {
    const admin = await Client.login(server.base, "admin", ADMIN_PASSWORD);
    const p = `/projects/${world.project}`;
    await admin.post(`${p}/datasets`, { name: "patients", sensitivity: "confidential" });
    const emails = ["ann@example.org", "bob@example.org", "cyd@example.org"];
    let csv = "email,ssn,region,age\n";
    for (let i = 0; i < 30; i++) csv += `${emails[i % 3]},${100 + i}-55-${7000 + i},region-${i % 2 ? "north" : "south"},${20 + i}\n`;
    await admin.upload(`${p}/datasets/patients/versions`, Buffer.from(csv), "text/csv");
    await admin.post(`${p}/checks`, { check: { kind: "profile" }, dataset: "patients", version: 1 });

    const owner = await newPage();
    await signIn(owner, "admin", ADMIN_PASSWORD);
    await owner.goto(ui(`${p}/datasets/patients`));
    const form = owner.getByTestId("set-masking");
    await form.getByLabel("email").selectOption("masked");
    await form.getByLabel("region").selectOption("masked");
    await form.getByLabel("ssn").selectOption("hidden");
    await form.getByRole("button", { name: "Save masking" }).click();
    const table = owner.getByTestId("masking-table");
    await table.getByText("ssn").waitFor();
    assert.equal(await table.getByText("pseudonyms").count(), 2);
    await screenshot(owner, "21-masking-settings");

    const viewer = await newPage();
    await signIn(viewer, "vic", password("vic"));
    await viewer.goto(ui(`${p}/datasets/patients/versions/1`));
    await viewer.getByTestId("masked-view").waitFor();
    await viewer.getByTestId("report-masked").waitFor();
    const download = viewer.getByTestId("download-masked");
    assert.equal(await viewer.getByTestId("download-version").count(), 0);
    const copy = await viewer.request.get(new URL(await download.getAttribute("href"), server.base).href);
    assert.equal(copy.status(), 200);
    const text = await copy.text();
    assert.equal(text.split("\n")[0], "email,region,age");
    assert.match(text.split("\n")[1], /^[0-9a-f]{32},[0-9a-f]{32},20$/);
    const page = await viewer.locator("main").textContent();
    for (const clear of [...emails, "region-north", "region-south", "7000"]) {
      assert.ok(!text.includes(clear), `the masked copy shows ${clear}`);
      assert.ok(!page.includes(clear), `the page shows ${clear}`);
    }
    await screenshot(viewer, "22-masked-version");
    // The viewer reads the masking but cannot change it.
    await viewer.goto(ui(`${p}/datasets/patients`));
    await viewer.getByTestId("masking-table").getByText("ssn").waitFor();
    assert.equal(await viewer.getByTestId("set-masking").count(), 0);
    await screenshot(viewer, "23-masking-as-viewer");
    assert.deepEqual(owner.problems, []);
    assert.deepEqual(viewer.problems, []);
    await owner.closeAll();
    await viewer.closeAll();
  });

  test("promotion: the creator's own approval is refused, an approver's meets the gate", async () => {
    const p = `/projects/${world.project}`;
    const model = world.model.name;
    const olivia = await Client.login(server.base, "olivia", password("olivia"));
    await olivia.put(`${p}/gates`, { model, alias: "production", requirements: { approvals: 1 } });
    const made = await olivia.upload(`${p}/models/${model}/versions`, Buffer.from("olivia's weights"));
    const page = ui(`${p}/models/${model}/versions/${made.version}`);

    const creator = await newPage();
    await signIn(creator, "olivia", password("olivia"));
    await creator.goto(page);
    await creator.getByTestId("gate-production").getByText("not met").waitFor();
    const own = creator.getByTestId("review-form");
    await own.getByLabel("Comment").fill("mine, and fine");
    await own.getByRole("button", { name: "Submit review" }).click();
    await own.getByRole("alert").filter({ hasText: "four eyes" }).waitFor();

    const approver = await newPage();
    await signIn(approver, "bob", password("bob"));
    await approver.goto(page);
    const form = approver.getByTestId("review-form");
    await form.getByLabel("Comment").fill("reviewed the evaluation");
    await form.getByRole("button", { name: "Submit review" }).click();
    await approver.getByTestId("reviews-table").getByText("bob").waitFor();
    await approver.getByTestId("gate-production").getByText("met", { exact: true }).waitFor();
    await screenshot(approver, "24-promotion-approved");
    // The promotion now succeeds; the gate's verdict is kept with the move.
    await olivia.put(`${p}/models/${model}/aliases/production`, { version: made.version });
    const history = await olivia.get(`${p}/models/${model}/alias-history?alias=production`);
    assert.equal(history.items[0].evidence.satisfied, true);
    assert.deepEqual(creator.problems, []);
    assert.deepEqual(approver.problems, []);
    await creator.closeAll();
    await approver.closeAll();
  });

  test("compliance: an owner documents a version, sets a gate, and reads its model card and audit export", async () => {
    const p = `/projects/${world.project}`;
    const model = world.model.name;
    const version = world.model.aliasVersion;
    const owner = await newPage();
    await signIn(owner, "olivia", password("olivia"));

    // A gate from the model page's form, then removed.
    await owner.goto(ui(`${p}/models/${model}`));
    const gateForm = owner.getByTestId("gate-form");
    await gateForm.getByText("Set a gate").click();
    await gateForm.getByLabel("Alias").fill("audited");
    await gateForm.getByLabel("Approvals needed").fill("2");
    await gateForm.getByRole("button", { name: "Save gate" }).click();
    const gates = owner.getByTestId("gates-table");
    await gates.getByText("@audited").waitFor();
    await gates.getByText('"approvals":2').waitFor();
    await screenshot(owner, "25-gate-form");
    await gates.getByRole("row").filter({ hasText: "@audited" }).getByRole("button", { name: "Remove" }).click();
    await gates.getByText("@audited").waitFor({ state: "detached" });

    // Documentation written by a person, then the model card.
    await owner.goto(ui(`${p}/models/${model}/versions/${version}`));
    const docs = owner.getByTestId("documentation");
    await docs.locator("summary").click();
    await docs.getByLabel("Intended uses (intended purpose)").fill("Ranks support tickets for triage");
    await docs.getByRole("button", { name: "Save documentation" }).click();
    await docs.getByText("Written by olivia").first().waitFor();
    await owner.getByRole("button", { name: "Generate model card" }).click();
    const listed = owner.getByTestId("compliance-reports");
    await listed.getByText("Model card").waitFor();
    await listed.getByRole("link", { name: /^#\d+$/ }).first().click();
    const doc = owner.getByTestId("report-document");
    await doc.getByText("Ranks support tickets for triage").waitFor();
    await doc.getByRole("heading", { name: "Governance: gates, approvals and alias history" }).waitFor();
    await owner.getByTestId("missing-fields").getByText("Overview").waitFor();
    const files = owner.getByTestId("report-files");
    for (const format of ["JSON", "HTML", "PDF"]) await files.getByRole("link", { name: format }).waitFor();
    await screenshot(owner, "26-model-card");

    // The printable page itself, as the browser shows it, with the JSON form's hash.
    const jsonSha = (await files.getByRole("row").filter({ hasText: "JSON" }).locator("code").textContent()).trim();
    const id = owner.url().split("/").pop();
    await owner.goto(`${server.base}/api/v1${p}/compliance-reports/${id}/html?inline=true`);
    await owner.getByRole("heading", { level: 1, name: `Model card: ${model} v${version}` }).waitFor();
    await owner.getByText("Ranks support tickets for triage").waitFor();
    await owner.getByTestId("json-sha256").filter({ hasText: jsonSha }).waitFor();
    await owner.getByText("Missing: to be written by a person.").first().waitFor();
    await screenshot(owner, "27-model-card-printable");

    // An audit export from the project's audit tab.
    await owner.goto(ui(`${p}?tab=audit`));
    const exportForm = owner.getByTestId("audit-export-form");
    await exportForm.getByLabel("Resource").fill(`project/${world.project}/model/${model}`);
    await exportForm.getByRole("button", { name: "Generate audit export" }).click();
    await owner.getByRole("heading", { name: `Audit trail: project/${world.project}/model/${model}` }).waitFor();
    await owner.getByTestId("report-document").getByText("model.alias").first().waitFor();
    assert.deepEqual(owner.problems, []);
    await owner.closeAll();
  });

  test("a viewer is offered no write action anywhere", async () => {
    const page = await newPage();
    await signIn(page, "vic", password("vic"));
    const p = `/projects/${world.project}`;
    const visits = [
      [`${p}?tab=experiments`, "15-viewer-project"],
      [`${p}?tab=datasets`, null],
      [`${p}?tab=models`, null],
      [`${p}?tab=monitoring`, null],
      [`${p}?tab=members`, null],
      [`${p}/experiments/${world.experimentId}`, "16-viewer-runs"],
      [`/runs/${world.spikeRunId}`, "17-viewer-run"],
      [`${p}/datasets/${world.dataset.name}`, null],
      [`${p}/datasets/${world.dataset.name}/versions/2`, null],
      [`${p}/models/${world.model.name}`, "18-viewer-model"],
      [`${p}/models/${world.model.name}/versions/1`, null],
      [`${p}/monitors/${world.monitor.name}`, null],
    ];
    for (const [path, shot] of visits) {
      await page.goto(ui(path));
      await page.getByRole("heading", { level: 1 }).waitFor();
      await page.waitForLoadState("networkidle");
      assert.deepEqual(await writeControls(page), [], `write actions offered at ${path}`);
      if (shot) await screenshot(page, shot);
    }
    assert.deepEqual(page.problems, []);
    await page.closeAll();
  });
});

/** Waits until the canvases matching `selector` hold ink (of `color`); returns the pixel count. */
async function waitForInk(page, selector, color) {
  let ink = 0;
  for (let i = 0; i < 50 && ink <= 500; i++) {
    ink = await canvasInk(page, selector, color);
    if (ink <= 500) await page.waitForTimeout(100);
  }
  return ink;
}
