// Helpers of the compliance and gate pages: which documentation fields a form changed, the
// names of report kinds, and the requirements a gate form describes.

/** The draft texts that differ from the stored ones (an emptied field is sent to clear it). */
export function changedFields(
  fields: Array<{ key: string; value?: string | null }>,
  draft: Record<string, string>,
): Record<string, string> {
  const changed: Record<string, string> = {};
  for (const f of fields) {
    const text = draft[f.key];
    if (text !== undefined && text !== (f.value ?? "")) changed[f.key] = text;
  }
  return changed;
}

const KIND_LABELS: Record<string, string> = {
  model_card: "Model card",
  datasheet: "Datasheet",
  annex_iv: "Annex IV documentation",
  audit_export: "Audit-trail export",
};

/** A report kind for people. */
export function reportKindLabel(kind: string): string {
  return KIND_LABELS[kind] ?? kind;
}

/** One metric bound of a gate form. */
export type MetricRow = { dataset: string; metric: string; min: string; max: string };

/** What the gate form holds. */
export type GateForm = {
  approvals: number;
  metrics: MetricRow[];
  noOpenDriftAlert: boolean;
  trainingDataQuality: boolean;
};

/** The requirements of a gate form, as `PUT .../gates` takes them (empty rows left out). */
export function gateRequirements(form: GateForm): Record<string, unknown> {
  const metrics = form.metrics
    .filter((m) => m.dataset.trim() && m.metric.trim())
    .map((m) => {
      const bound: Record<string, unknown> = { dataset: m.dataset.trim(), metric: m.metric.trim() };
      if (m.min.trim() !== "") bound.min = Number(m.min);
      if (m.max.trim() !== "") bound.max = Number(m.max);
      return bound;
    });
  const requirements: Record<string, unknown> = {};
  if (metrics.length) requirements.metrics = metrics;
  if (form.approvals > 0) requirements.approvals = form.approvals;
  if (form.noOpenDriftAlert) requirements.no_open_drift_alert = true;
  if (form.trainingDataQuality) requirements.training_data_quality = true;
  return requirements;
}
