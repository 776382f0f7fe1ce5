// The seed builds what the dashboard's pages and browser tests rely on.
// Run: node --test tests/seed.test.mjs (needs the verity binary; see harness.mjs).

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { Client, startVerity } from "./harness.mjs";
import { seed } from "./seed.mjs";

const ADMIN_PASSWORD = "admin-password-123";
let server;
let admin;
let world;

before(async () => {
  server = await startVerity({ adminPassword: ADMIN_PASSWORD });
  admin = await Client.login(server.base, "admin", ADMIN_PASSWORD);
  world = await seed(server.base, admin);
});

after(async () => {
  await server?.stop();
});

const p = () => `/projects/${world.project}`;

test("every baseline run has 300 loss points, and one has the spike", async () => {
  assert.equal(world.runs.length, 3);
  for (const run of world.runs) {
    const series = await admin.get(
      `/runs/${run.id}/metric-history/downsampled?key=loss&buckets=50`,
    );
    assert.ok(series.buckets.length <= 50);
    const points = series.buckets.reduce((n, b) => n + b.count, 0);
    assert.equal(points, 300, `run ${run.name}`);
    const max = Math.max(...series.buckets.map((b) => b.max));
    if (run.id === world.spikeRunId) assert.equal(max, 25);
    else assert.ok(max < 5, `run ${run.name} has no spike (max ${max})`);
    const full = await admin.get(`/runs/${run.id}`);
    assert.equal(full.status, "FINISHED");
    assert.deepEqual(full.params.map((kv) => kv.key).sort(), ["depth", "lr", "optimizer"]);
  }
  const withInput = await admin.get(`/runs/${world.inputRunId}`);
  assert.deepEqual(
    withInput.inputs.map((i) => [i.dataset, i.version, i.context]),
    [[world.dataset.name, 1, "training"]],
  );
});

test("the dataset has a reference and a drifted version, and the checks judged them", async () => {
  assert.deepEqual(world.dataset.versions, [1, 2]);
  assert.ok(world.dataset.rows.every((n) => n >= 400), `${world.dataset.rows}`);
  const drift = await admin.get(`${p()}/reports/${world.reports.drift}`);
  assert.equal(drift.kind, "drift");
  assert.ok(["fail", "warn"].includes(drift.status), `drift status ${drift.status}`);
  const quality = await admin.get(`${p()}/reports/${world.reports.quality}`);
  assert.equal(quality.status, "fail");
  const profile = await admin.get(`${p()}/reports/${world.reports.profile}`);
  assert.equal(profile.kind, "profile");
  const fairness = await admin.get(`${p()}/reports/${world.reports.fairness}`);
  assert.equal(fairness.kind, "fairness");
});

test("the failing monitor opened an alert", async () => {
  const { items } = await admin.get(`${p()}/alerts?state=open`);
  const alert = items.find((a) => a.id === world.alert.id);
  assert.ok(alert, "the seeded alert is open");
  assert.equal(alert.monitor, world.monitor.name);
  const job = await admin.get(`${p()}/jobs/${world.monitor.jobId}`);
  assert.equal(job.state, "succeeded");
});

test("the staging alias moved twice", async () => {
  const { items } = await admin.get(`${p()}/models/${world.model.name}/alias-history`);
  assert.deepEqual(
    items.map((e) => [e.alias, e.old_version, e.new_version]),
    [
      ["staging", null, 1],
      ["staging", 1, 2],
    ],
  );
  const staging = await admin.get(`${p()}/models/${world.model.name}/aliases/staging`);
  assert.equal(staging.version, 2);
});

test("a viewer cannot create an experiment", async () => {
  const vic = await Client.login(server.base, "vic", world.users.vic.password);
  await assert.rejects(
    vic.post(`${p()}/experiments`, { name: "not-allowed" }),
    (err) => err.status === 403,
  );
  // …but reads the project.
  const { items } = await vic.get(`${p()}/experiments`);
  assert.equal(items.length, 2);
});
