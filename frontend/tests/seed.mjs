// A small, realistic Verity world built over the API only: users and roles, a project with
// experiments and runs (300-step metric curves, one with a loss spike), a dataset with a
// reference version and a drifted one, checks of every kind, a registered model with a moving
// alias, a failing monitor with its alert, and a webhook whose deliveries fail.
// Deterministic: every generated value comes from a seeded PRNG.

import { Client } from "./harness.mjs";

const PROJECT = "demo";
const DATASET = "customers";
const MODEL = "churn-model";
const MONITOR = "customers-drift";
const WEBHOOK_URL = "http://127.0.0.1:9/hook";

/** Seeded users: name → { password, role in the project, clearance }. */
const USERS = {
  olivia: { password: "olivia-password-123", role: "owner" },
  alice: { password: "alice-password-123", role: "contributor", clearance: "confidential" },
  bob: { password: "bob-password-1234", role: "approver" },
  carol: { password: "carol-password-123", role: "approver" },
  vic: { password: "vic-password-12345", role: "viewer" },
  audrey: { password: "audrey-password-123", role: "auditor" },
};

/** mulberry32: a tiny seeded PRNG giving floats in [0, 1). */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw (Box–Muller). */
function normal(rand) {
  const u = 1 - rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

const sigmoid = (x) => 1 / (1 + Math.exp(-x));
const clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Customers CSV: age (int), income (float), region (a/b/c), gender (M/F), label (0/1: churned)
 * and score (the churn model's probability). Version 2 shifts age and income upwards, which
 * moves the scores too.
 */
function customersCsv(rand, { rows, ageMean, ageSd, incomeMean, incomeSd }) {
  const lines = ["age,income,region,gender,label,score"];
  for (let i = 0; i < rows; i++) {
    const age = Math.round(clamp(ageMean + ageSd * normal(rand), 18, 90));
    const income = clamp(incomeMean + incomeSd * normal(rand), 8000, 250000);
    const r = rand();
    const region = r < 0.5 ? "a" : r < 0.8 ? "b" : "c";
    const gender = rand() < 0.5 ? "M" : "F";
    const logit =
      -0.4 +
      0.04 * (age - 40) +
      0.00003 * (income - 50000) +
      { a: 0, b: 0.3, c: -0.3 }[region] +
      (gender === "M" ? 0.5 : -0.1) +
      0.5 * normal(rand);
    const score = sigmoid(logit);
    const label = rand() < score ? 1 : 0;
    lines.push(`${age},${income.toFixed(2)},${region},${gender},${label},${score.toFixed(4)}`);
  }
  return lines.join("\n") + "\n";
}

/** A safetensors file of F32 tensors, laid out as safetensors' own writer does. */
function safetensors(tensors) {
  const header = {};
  const chunks = [];
  let offset = 0;
  for (const [name, shape, values] of tensors) {
    const bytes = Buffer.from(new Float32Array(values).buffer);
    header[name] = { dtype: "F32", shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  while (json.length % 8 !== 0) json += " ";
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, Buffer.from(json), ...chunks]);
}

/** The churn model as a Verity model (docs/models.md): a logistic regression over customers. */
const MODEL_SPEC = {
  format: "verity-model/1",
  architecture: { type: "logistic_regression" },
  features: [
    { column: "age", standardize: { mean: 40, std: 10 } },
    { column: "income", standardize: { mean: 50000, std: 15000 } },
    { column: "region", one_hot: ["a", "b", "c"] },
    { column: "gender", one_hot: ["F", "M"] },
  ],
  output: { type: "binary", threshold: 0.5 },
};

/** The three baseline runs: hyper-parameters and the shape of their curves. */
const BASELINE_RUNS = [
  { name: "baseline-adam-d4", lr: "0.01", depth: "4", optimizer: "adam", floor: 0.38, tau: 40, acc: 0.84 },
  { name: "baseline-sgd-d6", lr: "0.03", depth: "6", optimizer: "sgd", floor: 0.42, tau: 70, acc: 0.81, spikeAt: 150 },
  { name: "baseline-adamw-d8", lr: "0.003", depth: "8", optimizer: "adamw", floor: 0.31, tau: 55, acc: 0.88 },
];

/** Loss and accuracy points for `steps` steps: exponential decay with noise (and a spike). */
function curves(rand, spec, steps, start) {
  const metrics = [];
  for (let step = 0; step < steps; step++) {
    const progress = 1 - Math.exp(-step / spec.tau);
    let loss = spec.floor + (2.3 - spec.floor) * (1 - progress) + 0.03 * normal(rand);
    if (step === spec.spikeAt) loss = 25;
    const accuracy = clamp(0.5 + (spec.acc - 0.5) * progress + 0.01 * normal(rand), 0, 1);
    const timestamp = start + step * 2000;
    metrics.push({ key: "loss", value: Math.max(0.01, loss), step, timestamp });
    metrics.push({ key: "accuracy", value: accuracy, step, timestamp });
  }
  return metrics;
}

/** `grad_norm` over GRAD_NORM_STEPS steps, near 1 but for one spike to GRAD_NORM_SPIKE.value. */
export const GRAD_NORM_STEPS = 20_000;
export const GRAD_NORM_SPIKE = { step: 12_345, value: 80 };
function gradNorms(rand, start) {
  const metrics = [];
  for (let step = 0; step < GRAD_NORM_STEPS; step++) {
    const value = step === GRAD_NORM_SPIKE.step ? GRAD_NORM_SPIKE.value : 1 + 0.1 * normal(rand);
    metrics.push({ key: "grad_norm", value, step, timestamp: start + step * 30 });
  }
  return metrics;
}

/**
 * Builds the world. `admin` is a Client logged in as the administrator; other users log in
 * themselves. Returns what it made (see the end of the function).
 */
export async function seed(base, admin) {
  const rand = mulberry32(20261204);
  const p = `/projects/${PROJECT}`;

  // Users, the project and its members.
  for (const [name, user] of Object.entries(USERS)) {
    await admin.post("/users", { name, password: user.password, clearance: user.clearance ?? null });
  }
  await admin.post("/projects", {
    name: PROJECT,
    description: "Customer churn: models, data and monitoring for the retention team",
  });
  for (const [name, user] of Object.entries(USERS)) {
    await admin.put(`${p}/members/${name}`, { role: user.role });
  }
  const alice = await Client.login(base, "alice", USERS.alice.password);
  const olivia = await Client.login(base, "olivia", USERS.olivia.password);

  // The dataset: a reference version and a drifted one (alice, a contributor).
  await alice.post(`${p}/datasets`, {
    name: DATASET,
    description: "Monthly customer sample with churn labels and model scores",
    sensitivity: "internal",
  });
  const csv1 = customersCsv(rand, { rows: 500, ageMean: 40, ageSd: 10, incomeMean: 50000, incomeSd: 15000 });
  const csv2 = customersCsv(rand, { rows: 500, ageMean: 52, ageSd: 12, incomeMean: 68000, incomeSd: 20000 });
  const v1 = await alice.upload(
    `${p}/datasets/${DATASET}/versions?description=${encodeURIComponent("Reference sample (January)")}`,
    csv1,
    "text/csv",
  );
  const v2 = await alice.upload(
    `${p}/datasets/${DATASET}/versions?description=${encodeURIComponent("March sample")}`,
    csv2,
    "text/csv",
  );

  // Experiments and runs (alice).
  const experiment = await alice.post(`${p}/experiments`, {
    name: "churn-baseline",
    description: "Gradient-boosted baselines for churn, one per optimiser",
  });
  const now = Date.now();
  const runs = [];
  for (const [i, spec] of BASELINE_RUNS.entries()) {
    const start = now - (BASELINE_RUNS.length - i) * 3_600_000;
    const run = await alice.post(`${p}/experiments/${experiment.id}/runs`, {
      name: spec.name,
      start_time: start,
      tags: [{ key: "team", value: "retention" }],
    });
    await alice.post(`/runs/${run.run_id}/batch`, {
      params: [
        { key: "lr", value: spec.lr },
        { key: "depth", value: spec.depth },
        { key: "optimizer", value: spec.optimizer },
      ],
      tags: [
        { key: "model_family", value: "gbm" },
        { key: "stage", value: spec.spikeAt ? "unstable" : "candidate" },
      ],
      metrics: curves(rand, spec, 300, start),
    });
    if (spec.spikeAt) {
      // A long series (more points than a chart has pixels) with one spike: the chart must
      // still draw it, through its bucket's min–max band.
      await alice.post(`/runs/${run.run_id}/batch`, { metrics: gradNorms(rand, start) });
    }
    runs.push({ id: run.run_id, name: spec.name, start, spikeAt: spec.spikeAt ?? null });
  }
  // The first run trained on the reference version.
  await alice.post(`/runs/${runs[0].id}/inputs`, { dataset_version_id: v1.id, context: "training" });

  // The first and last runs log the model they trained (two artifacts each: spec and weights).
  const modelWeights = [
    [0.42, 0.46, 0.0, 0.31, -0.28, -0.12, 0.48, -0.41],
    [0.47, 0.5, 0.02, 0.29, -0.33, -0.05, 0.41, -0.45],
  ];
  const artifactRuns = [runs[0], runs[2]];
  for (const [i, run] of artifactRuns.entries()) {
    const [wAge, wIncome, wA, wB, wC, wF, wM, bias] = modelWeights[i];
    await alice.upload(
      `/runs/${run.id}/artifacts/model/verity-model.json`,
      JSON.stringify(MODEL_SPEC, null, 2),
    );
    await alice.upload(
      `/runs/${run.id}/artifacts/model/model.safetensors`,
      safetensors([
        ["weight", [1, 7], [wAge, wIncome, wA, wB, wC, wF, wM]],
        ["bias", [1], [bias]],
      ]),
    );
  }
  for (const run of runs) {
    await alice.patch(`/runs/${run.id}`, { status: "FINISHED", end_time: run.start + 300 * 2000 });
  }

  // A second experiment with one shorter run.
  const experiment2 = await alice.post(`${p}/experiments`, {
    name: "churn-features",
    description: "Feature selection trials",
  });
  const start2 = now - 20 * 60_000;
  const run2 = await alice.post(`${p}/experiments/${experiment2.id}/runs`, {
    name: "drop-region",
    start_time: start2,
    tags: [{ key: "team", value: "retention" }],
  });
  await alice.post(`/runs/${run2.run_id}/batch`, {
    params: [
      { key: "lr", value: "0.01" },
      { key: "depth", value: "4" },
      { key: "optimizer", value: "adam" },
      { key: "features", value: "age,income,gender" },
    ],
    metrics: curves(rand, { floor: 0.45, tau: 30, acc: 0.79 }, 100, start2),
  });
  await alice.patch(`/runs/${run2.run_id}`, { status: "FINISHED", end_time: start2 + 100 * 2000 });

  // Checks of version 2 (alice): a profile, a quality suite, drift from version 1, fairness.
  const check = (body) => alice.post(`${p}/checks`, { dataset: DATASET, version: 2, ...body });
  const profile = await check({ check: { kind: "profile" } });
  const quality = await check({
    check: {
      kind: "quality",
      expectations: [
        { type: "expect_table_row_count_to_be_between", min_value: 100, max_value: 10000 },
        { type: "expect_column_values_to_not_be_null", column: "age" },
        { type: "expect_column_values_to_be_between", column: "age", min_value: 18, max_value: 100 },
        { type: "expect_column_values_to_be_in_set", column: "region", value_set: ["a", "b", "c"] },
        { type: "expect_column_values_to_be_between", column: "score", min_value: 0, max_value: 1 },
        // Fails on version 2: incomes moved up.
        { type: "expect_column_mean_to_be_between", column: "income", min_value: 40000, max_value: 60000 },
      ],
    },
  });
  const drift = await check({ check: { kind: "drift" }, reference: { version: 1 } });
  const fairness = await check({
    check: { kind: "fairness", label: "label", score: "score", threshold: 0.5, sensitive: ["gender"] },
  });

  // The model: version 1 from the first run, alias staging; then version 2 and staging moves.
  await alice.post(`${p}/models`, { name: MODEL, description: "Churn probability per customer" });
  const mv1 = await alice.post(`${p}/models/${MODEL}/versions`, {
    run_id: runs[0].id,
    artifact_path: "model",
    description: "Baseline, adam",
    tags: [{ key: "framework", value: "verity-logreg" }],
  });
  await olivia.put(`${p}/models/${MODEL}/aliases/staging`, { version: mv1.version });
  const mv2 = await alice.post(`${p}/models/${MODEL}/versions`, {
    run_id: runs[2].id,
    artifact_path: "model",
    description: "Baseline, adamw: lower loss",
    tags: [{ key: "framework", value: "verity-logreg" }],
  });
  await olivia.put(`${p}/models/${MODEL}/aliases/staging`, { version: mv2.version });

  // A webhook nobody listens at (olivia, the owner): its deliveries fail and log attempts.
  const webhook = await olivia.post(`${p}/webhooks`, {
    url: WEBHOOK_URL,
    events: ["alert.opened", "alert.resolved"],
  });

  // A drift monitor against version 1 (olivia), run once on version 2: it fails, opening an alert.
  await olivia.post(`${p}/monitors`, {
    name: MONITOR,
    dataset: DATASET,
    reference: { version: 1 },
    checks: [{ kind: "drift" }],
  });
  const queued = await olivia.post(`${p}/monitors/${MONITOR}/runs`, { version: 2 });
  const { job, alert } = await waitForAlert(olivia, p, queued.id);

  return {
    project: PROJECT,
    users: Object.fromEntries(
      Object.entries(USERS).map(([name, u]) => [
        name,
        { password: u.password, role: u.role, clearance: u.clearance ?? "internal" },
      ]),
    ),
    experiments: [
      { id: experiment.id, name: experiment.name, runIds: runs.map((r) => r.id) },
      { id: experiment2.id, name: experiment2.name, runIds: [run2.run_id] },
    ],
    experimentId: experiment.id,
    runs,
    spikeRunId: runs[1].id,
    artifactRunId: runs[0].id,
    inputRunId: runs[0].id,
    dataset: {
      name: DATASET,
      versions: [v1.version, v2.version],
      versionIds: [v1.id, v2.id],
      rows: [v1.row_count, v2.row_count],
    },
    reports: { profile: profile.id, quality: quality.id, drift: drift.id, fairness: fairness.id },
    reportStatuses: {
      profile: profile.status,
      quality: quality.status,
      drift: drift.status,
      fairness: fairness.status,
    },
    model: { name: MODEL, versions: [mv1.version, mv2.version], alias: "staging", aliasVersion: mv2.version },
    monitor: { name: MONITOR, jobId: job.id, jobState: job.state, reportId: job.report_id },
    alert: { id: alert.id, state: alert.state, severity: alert.severity },
    webhook: { id: webhook.id, url: WEBHOOK_URL },
  };
}

/** Waits (at most 30 s) for the monitor job to finish and for its alert to be open. */
async function waitForAlert(client, p, jobId) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const job = await client.get(`${p}/jobs/${jobId}`);
    if (job.state === "succeeded" || job.state === "failed") {
      const { items } = await client.get(`${p}/alerts?state=open`);
      const alert = items.find((a) => a.monitor === MONITOR);
      if (alert) return { job, alert };
      if (job.state === "failed") throw new Error(`monitor job ${jobId} failed: ${job.error}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`monitor job ${jobId} gave no open alert within 30 s (state ${job.state})`);
    }
    await sleep(200);
  }
}
