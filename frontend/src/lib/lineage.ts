// Reading lineage nodes: which dashboard page shows a node, from what its label says
// (`project/dataset@v2`, `project/model@v3`, `project/experiment/run`, `kind report #7`).
import { to } from "./router";

export const KINDS = ["dataset_version", "run", "model_version", "report"] as const;
export type LineageKind = (typeof KINDS)[number];

export const KIND_NAMES: Record<LineageKind, string> = {
  dataset_version: "Dataset version",
  run: "Run",
  model_version: "Model version",
  report: "Report",
};

export const isKind = (value: string): value is LineageKind => (KINDS as readonly string[]).includes(value);

/** `project/name@vN` as its parts, or null when the label has another shape. */
export function parseVersionLabel(label: string): { project: string; name: string; version: number } | null {
  const slash = label.indexOf("/");
  const at = label.lastIndexOf("@v");
  if (slash <= 0 || at <= slash + 1) return null;
  const version = Number(label.slice(at + 2));
  if (!Number.isInteger(version) || version < 1) return null;
  return { project: label.slice(0, slash), name: label.slice(slash + 1, at), version };
}

/** The project a label names first (runs, dataset and model versions), or null (reports). */
export function labelProject(kind: string, label: string): string | null {
  if (kind === "report") return null;
  const slash = label.indexOf("/");
  return slash > 0 ? label.slice(0, slash) : null;
}

type NodeLike = { id: string; kind: string; label: string };
type EdgeLike = { from_id: string; from_kind: string; to_id: string; to_kind: string; relation: string };

/**
 * A report's project, from the nodes it is joined to: the version it checked or evaluated
 * first (a report lives in its dataset's project), then any neighbour with a project.
 */
export function reportProject(id: string, nodes: NodeLike[], edges: EdgeLike[]): string | null {
  const byKey = new Map(nodes.map((n) => [`${n.kind}:${n.id}`, n]));
  const touching = edges.filter(
    (e) => (e.to_kind === "report" && e.to_id === id) || (e.from_kind === "report" && e.from_id === id),
  );
  const rank = (relation: string) => (relation === "checked" ? 0 : relation === "evaluated" ? 1 : 2);
  touching.sort((a, b) => rank(a.relation) - rank(b.relation));
  for (const e of touching) {
    const other = e.to_kind === "report" && e.to_id === id ? `${e.from_kind}:${e.from_id}` : `${e.to_kind}:${e.to_id}`;
    const node = byKey.get(other);
    const project = node ? labelProject(node.kind, node.label) : null;
    if (project) return project;
  }
  return null;
}

/** The dashboard page of a node, or null when the label does not say enough. */
export function nodePage(node: NodeLike, nodes: NodeLike[] = [], edges: EdgeLike[] = []): string | null {
  switch (node.kind) {
    case "run":
      return to("runs", node.id);
    case "dataset_version": {
      const p = parseVersionLabel(node.label);
      return p ? to("projects", p.project, "datasets", p.name, "versions", p.version) : null;
    }
    case "model_version": {
      const p = parseVersionLabel(node.label);
      return p ? to("projects", p.project, "models", p.name, "versions", p.version) : null;
    }
    case "report": {
      const project = reportProject(node.id, nodes, edges);
      return project ? to("projects", project, "reports", node.id) : null;
    }
    default:
      return null;
  }
}

/** The lineage page of a node. */
export function lineagePath(kind: string, id: string, direction?: string, depth?: number): string {
  const search = new URLSearchParams({ kind, id });
  if (direction && direction !== "both") search.set("direction", direction);
  if (depth && depth !== 3) search.set("depth", String(depth));
  return `/lineage?${search.toString()}`;
}
