// The lineage of a dataset version, run, model version or report: an interactive layered graph
// (upstream left, downstream right). Clicking a node re-centres the graph on it; Enter on a
// focused node opens its page.
import { useEffect, useMemo, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { get, query } from "../api/client";
import type { EdgeResponse, GraphResponse, NodeResponse } from "../api/schema.gen";
import { Table } from "../components/Table";
import { Field, LoadState, PageHeader, Section } from "../components/ui";
import { formatTime } from "../lib/format";
import { DEFAULT_LAYOUT, layoutGraph, neighbour, nodeKey, type Layout } from "../lib/graph";
import { useLoad } from "../lib/hooks";
import { isKind, KIND_NAMES, KINDS, lineagePath, nodePage, type LineageKind } from "../lib/lineage";
import { Link, navigate, useLocation } from "../lib/router";

const DIRECTIONS = ["both", "upstream", "downstream"] as const;

/** How each kind is drawn. */
const STYLE: Record<LineageKind, { fill: string; stroke: string }> = {
  dataset_version: { fill: "#dcfce7", stroke: "#166534" },
  run: { fill: "#dbeafe", stroke: "#1d4ed8" },
  model_version: { fill: "#f3e8ff", stroke: "#7e22ce" },
  report: { fill: "#fef3c7", stroke: "#92400e" },
};

export function Lineage({ kind, id }: { kind: string; id: string }) {
  const { search } = useLocation();
  const direction = DIRECTIONS.find((d) => d === search.get("direction")) ?? "both";
  const depth = clampDepth(Number(search.get("depth") ?? 3));
  if (!kind || !id || !isKind(kind)) return <PickNode unknown={kind && !isKind(kind) ? kind : undefined} />;
  const go = (next: { kind?: string; id?: string; direction?: string; depth?: number }) =>
    navigate(lineagePath(next.kind ?? kind, next.id ?? id, next.direction ?? direction, next.depth ?? depth));
  return (
    <>
      <PageHeader title="Lineage" sub={`${KIND_NAMES[kind as LineageKind] ?? kind} ${id}: where it came from and what came of it.`}>
        <form className="inline-form" onSubmit={(e) => e.preventDefault()} aria-label="Graph settings">
          <Field label="Direction">
            <select value={direction} onChange={(e) => go({ direction: e.target.value })} data-testid="lineage-direction">
              {DIRECTIONS.map((d) => (
                <option key={d} value={d}>
                  {d}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Depth (hops)">
            <input
              type="number"
              min={1}
              max={20}
              value={depth}
              onChange={(e) => e.target.value && go({ depth: clampDepth(Number(e.target.value)) })}
              style={{ width: "5rem" }}
              data-testid="lineage-depth"
            />
          </Field>
        </form>
      </PageHeader>
      <Graph kind={kind} id={id} direction={direction} depth={depth} recentre={(k, i) => go({ kind: k, id: i })} />
    </>
  );
}

const clampDepth = (n: number) => (Number.isFinite(n) ? Math.min(20, Math.max(1, Math.round(n))) : 3);

/** Asks for a node when the URL names none. */
function PickNode({ unknown }: { unknown?: string }) {
  const [kind, setKind] = useState<LineageKind>("model_version");
  const [id, setId] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (id.trim()) navigate(lineagePath(kind, id.trim()));
  };
  return (
    <>
      <PageHeader title="Lineage" sub="Pick a node to see its upstream and downstream." />
      {unknown ? <p className="notice">“{unknown}” is not a lineage kind: pick one below.</p> : null}
      <form className="panel inline-form" onSubmit={submit}>
        <Field label="Kind">
          <select value={kind} onChange={(e) => setKind(e.target.value as LineageKind)}>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {KIND_NAMES[k]}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Id" hint="A run id (32 hex characters) or a version's or report's numeric id.">
          <input value={id} onChange={(e) => setId(e.target.value)} required />
        </Field>
        <button type="submit" className="primary">
          Show lineage
        </button>
      </form>
    </>
  );
}

function Graph({
  kind,
  id,
  direction,
  depth,
  recentre,
}: {
  kind: string;
  id: string;
  direction: string;
  depth: number;
  recentre: (kind: string, id: string) => void;
}) {
  const loaded = useLoad(() => get<GraphResponse>(`/lineage${query({ kind, id, direction, depth })}`), [kind, id, direction, depth]);
  const graph = loaded.data;
  const start = nodeKey(kind, id);
  const layout = useMemo(() => (graph ? layoutGraph(graph.nodes, graph.edges, start) : undefined), [graph, start]);
  const open = (node: NodeResponse) => {
    const page = graph && nodePage(node, graph.nodes, graph.edges);
    if (page) navigate(page);
  };
  return (
    <>
      <LoadState loading={loaded.loading && !graph} error={loaded.error} />
      {graph && layout ? (
        <>
          <Section
            title={`Graph: ${graph.nodes.length} node${graph.nodes.length === 1 ? "" : "s"}, ${graph.edges.length} edge${graph.edges.length === 1 ? "" : "s"}`}
            actions={<Legend />}
          >
            {graph.truncated ? (
              <p className="notice">The graph reached the server's limit of 1000 nodes: some nodes are left out.</p>
            ) : null}
            <p className="legend-note">
              Upstream on the left, downstream on the right. Click a node (or press Space on it) to centre the graph on it;
              press Enter or use ↗ to open its page.
            </p>
            <GraphSvg layout={layout} start={start} graph={graph} loading={loaded.loading} recentre={recentre} open={open} />
          </Section>
          <Section title="Nodes">
            <Table
              caption="Nodes of the lineage graph"
              rows={graph.nodes}
              rowKey={(n) => nodeKey(n.kind, n.id)}
              selected={(n) => nodeKey(n.kind, n.id) === start}
              columns={[
                { key: "kind", header: "Kind", cell: (n) => KIND_NAMES[n.kind], sort: (n) => n.kind },
                {
                  key: "label",
                  header: "Label",
                  cell: (n) => {
                    const page = nodePage(n, graph.nodes, graph.edges);
                    return page ? <Link to={page}>{n.label}</Link> : n.label;
                  },
                  sort: (n) => n.label,
                },
                { key: "id", header: "Id", cell: (n) => <code>{n.id}</code> },
                { key: "depth", header: "Hops", cell: (n) => n.depth, sort: (n) => n.depth, className: "num" },
                {
                  key: "centre",
                  header: "",
                  cell: (n) =>
                    nodeKey(n.kind, n.id) === start ? (
                      <span className="muted">centre</span>
                    ) : (
                      <Link to={lineagePath(n.kind, n.id, direction, depth)}>Centre here</Link>
                    ),
                },
              ]}
            />
          </Section>
          <details className="panel">
            <summary>Edges ({graph.edges.length})</summary>
            <EdgeTable graph={graph} />
          </details>
        </>
      ) : null}
    </>
  );
}

function EdgeTable({ graph }: { graph: GraphResponse }) {
  const labels = new Map(graph.nodes.map((n) => [nodeKey(n.kind, n.id), n.label]));
  const name = (kind: string, id: string) => labels.get(nodeKey(kind, id)) ?? `${kind} ${id}`;
  return (
    <Table
      caption="Edges of the lineage graph"
      rows={graph.edges}
      rowKey={(e) => `${e.from_kind}:${e.from_id}->${e.to_kind}:${e.to_id}:${e.relation}:${e.context}:${e.created_at}`}
      columns={[
        { key: "from", header: "From (upstream)", cell: (e: EdgeResponse) => name(e.from_kind, e.from_id), sort: (e) => name(e.from_kind, e.from_id) },
        { key: "relation", header: "Relation", cell: (e) => e.relation, sort: (e) => e.relation },
        { key: "context", header: "Context", cell: (e) => e.context || "—" },
        { key: "to", header: "To (downstream)", cell: (e) => name(e.to_kind, e.to_id), sort: (e) => name(e.to_kind, e.to_id) },
        { key: "by", header: "Recorded by", cell: (e) => e.created_by, sort: (e) => e.created_by },
        { key: "at", header: "When", cell: (e) => formatTime(e.created_at), sort: (e) => e.created_at },
      ]}
    />
  );
}

function GraphSvg({
  layout,
  start,
  graph,
  loading,
  recentre,
  open,
}: {
  layout: Layout<NodeResponse, EdgeResponse>;
  start: string;
  graph: GraphResponse;
  loading: boolean;
  recentre: (kind: string, id: string) => void;
  open: (node: NodeResponse) => void;
}) {
  const { nodeWidth: w, nodeHeight: h } = DEFAULT_LAYOUT;
  const [hover, setHover] = useState<string | null>(null);
  // Wide graphs shrink to the box's width (not below 70%, to stay legible), unless the user
  // asks for the actual size; the box scrolls beyond that.
  const box = useRef<HTMLDivElement>(null);
  const [room, setRoom] = useState(0);
  const [fit, setFit] = useState(true);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const observer = new ResizeObserver(() => setRoom(element.clientWidth - 2));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  const scale = fit && room > 0 ? Math.min(1, Math.max(0.7, room / layout.width)) : 1;
  const lit = (from: string, to: string) => hover !== null && (hover === from || hover === to);
  // One tab stop for the whole graph (the last focused node, first the centre); arrows move
  // between nodes.
  const [focused, setFocused] = useState<string | null>(null);
  const tabStop = focused && layout.nodes.some((p) => p.key === focused) ? focused : start;
  const onKey = (event: KeyboardEvent, node: NodeResponse) => {
    if (event.key === "ArrowLeft" || event.key === "ArrowRight" || event.key === "ArrowUp" || event.key === "ArrowDown") {
      const next = neighbour(layout.nodes, nodeKey(node.kind, node.id), event.key);
      if (!next) return;
      event.preventDefault();
      setFocused(next);
      box.current?.querySelector<SVGGElement>(`[data-key="${CSS.escape(next)}"]`)?.focus();
    } else if (event.key === "Enter") {
      event.preventDefault();
      open(node);
    } else if (event.key === " ") {
      event.preventDefault();
      recentre(node.kind, node.id);
    }
  };
  return (
    <>
      {room > 0 && layout.width > room ? (
        <p className="actions lineage-zoom">
          <span className="muted">
            {scale < 1 ? `Shown at ${Math.round(scale * 100)}% to fit.` : "Wider than the page: scroll sideways."}
          </span>
          <button type="button" onClick={() => setFit(!fit)}>
            {fit ? "Actual size" : "Fit to width"}
          </button>
        </p>
      ) : null}
      <div className="lineage-box" data-testid="lineage-graph" aria-busy={loading} ref={box}>
        <svg
          width={layout.width * scale}
          height={layout.height * scale}
          viewBox={`0 0 ${layout.width} ${layout.height}`}
          role="group"
          aria-label={`Lineage graph with ${layout.nodes.length} nodes`}
          className="lineage-svg"
        >
          <defs>
            <marker id="lineage-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
              <path d="M0,0 L10,5 L0,10 z" fill="#6b7280" />
            </marker>
            <marker id="lineage-arrow-lit" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
              <path d="M0,0 L10,5 L0,10 z" fill="#1d4ed8" />
            </marker>
          </defs>
          <g aria-hidden="true">
            {layout.edges.map((e) => (
              <path
                key={e.key}
                d={e.path}
                fill="none"
                stroke={lit(e.from, e.to) ? "#1d4ed8" : "#9ca3af"}
                strokeWidth={lit(e.from, e.to) ? 2.5 : 1.5}
                markerEnd={`url(#${lit(e.from, e.to) ? "lineage-arrow-lit" : "lineage-arrow"})`}
              />
            ))}
            {layout.edges.map((e) => {
              const text = edgeLabel(e.edges);
              return (
                <g key={`label-${e.key}`} className="lineage-edge-label">
                  <rect
                    x={e.labelX - text.length * 3.3 - 4}
                    y={e.labelY - 9}
                    width={text.length * 6.6 + 8}
                    height={17}
                    rx={4}
                    fill="#ffffff"
                    stroke={lit(e.from, e.to) ? "#1d4ed8" : "#e5e7eb"}
                  />
                  <text x={e.labelX} y={e.labelY + 4} textAnchor="middle">
                    {text}
                  </text>
                </g>
              );
            })}
          </g>
          {layout.nodes.map((p) => {
            const node = p.node;
            const style = STYLE[node.kind] ?? STYLE.run;
            const isStart = p.key === start;
            const page = nodePage(node, graph.nodes, graph.edges);
            return (
              <g
                key={p.key}
                transform={`translate(${p.x},${p.y})`}
                className={`lineage-node${isStart ? " start" : ""}`}
                tabIndex={p.key === tabStop ? 0 : -1}
                role="button"
                aria-label={`${KIND_NAMES[node.kind]} ${node.label}${isStart ? " (centre)" : ""}. Enter opens its page, Space centres the graph on it.`}
                data-key={p.key}
                onClick={() => recentre(node.kind, node.id)}
                onKeyDown={(e) => onKey(e, node)}
                onMouseEnter={() => setHover(p.key)}
                onMouseLeave={() => setHover(null)}
                onFocus={() => {
                  setHover(p.key);
                  setFocused(p.key);
                }}
                onBlur={() => setHover(null)}
              >
                <title>{`${KIND_NAMES[node.kind]}: ${node.label} (id ${node.id}, ${node.depth} hop${node.depth === 1 ? "" : "s"} away)`}</title>
                <Shape kind={node.kind} width={w} height={h} fill={style.fill} stroke={style.stroke} strokeWidth={isStart ? 3.5 : 1.5} />
                <text x={16} y={22} className="lineage-kind" fill={style.stroke}>
                  {KIND_NAMES[node.kind]}
                </text>
                <text x={16} y={41} className="lineage-label">
                  {clip(shortLabel(node), 23)}
                </text>
                {page ? (
                  <a
                    href={`/ui${page}`}
                    onClick={(e) => {
                      e.stopPropagation();
                      if (e.button === 0 && !e.metaKey && !e.ctrlKey && !e.shiftKey) {
                        e.preventDefault();
                        navigate(page);
                      }
                    }}
                    tabIndex={-1}
                    aria-label={`Open ${node.label}`}
                  >
                    <rect x={w - 34} y={6} width={26} height={22} rx={5} fill="#ffffff" stroke={style.stroke} />
                    <text x={w - 21} y={22} textAnchor="middle" className="lineage-open" fill={style.stroke}>
                      ↗
                    </text>
                  </a>
                ) : null}
              </g>
            );
          })}
        </svg>
      </div>
    </>
  );
}

/**
 * What fits on a node: a version without its project (`customers@v2`), a run by its name alone
 * (the full label is in the node's tooltip and the node table).
 */
function shortLabel(node: NodeResponse): string {
  if (node.kind === "report") return node.label;
  const cut = node.kind === "run" ? node.label.lastIndexOf("/") : node.label.indexOf("/");
  return cut > 0 ? node.label.slice(cut + 1) : node.label;
}

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** An edge's label: its relation (and an input's context), merged for parallel edges. */
function edgeLabel(edges: EdgeResponse[]): string {
  const parts = [...new Set(edges.map((e) => (e.context ? `${e.relation} (${e.context})` : e.relation)))];
  return clip(parts.join(", "), 22);
}

/** The outline of a node: a cylinder for data, a pill for runs, a hexagon for models, a page for reports. */
function Shape({
  kind,
  width: w,
  height: h,
  ...paint
}: {
  kind: string;
  width: number;
  height: number;
  fill: string;
  stroke: string;
  strokeWidth: number;
}) {
  switch (kind) {
    case "dataset_version":
      return (
        <>
          <path d={`M0,8 A${w / 2},8 0 0 1 ${w},8 L${w},${h - 8} A${w / 2},8 0 0 1 0,${h - 8} Z`} {...paint} />
          <path d={`M0,8 A${w / 2},8 0 0 0 ${w},8`} fill="none" stroke={paint.stroke} strokeWidth={1} />
        </>
      );
    case "model_version":
      return <path d={`M12,0 L${w - 12},0 L${w},${h / 2} L${w - 12},${h} L12,${h} L0,${h / 2} Z`} {...paint} />;
    case "report":
      return <path d={`M0,0 L${w - 14},0 L${w},14 L${w},${h} L0,${h} Z M${w - 14},0 L${w - 14},14 L${w},14`} {...paint} />;
    default:
      return <rect width={w} height={h} rx={h / 2 - 4} {...paint} />;
  }
}

function Legend() {
  return (
    <ul className="lineage-legend" aria-label="Legend">
      {KINDS.map((k) => (
        <li key={k}>
          <svg width={34} height={20} viewBox="0 0 190 58" aria-hidden="true">
            <Shape kind={k} width={190} height={58} fill={STYLE[k].fill} stroke={STYLE[k].stroke} strokeWidth={8} />
          </svg>
          {KIND_NAMES[k]}
        </li>
      ))}
    </ul>
  );
}
