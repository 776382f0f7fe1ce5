// Layered left-to-right layout of a lineage graph: every edge points right (upstream on the
// left, downstream on the right), nodes are ordered within their layer by the barycentre of
// their neighbours to cut down edge crossings, and edges become cubic curves between the
// node sides.

/** The parts of a node the layout needs. */
export type LayoutNode = { id: string; kind: string; label: string; depth?: number };
/** The parts of an edge the layout needs (upstream `from`, downstream `to`). */
export type LayoutEdge = { from_id: string; from_kind: string; to_id: string; to_kind: string; relation: string };

/** A node with its place. */
export type PlacedNode<N extends LayoutNode = LayoutNode> = {
  key: string;
  node: N;
  /** Layer relative to the start node (negative: upstream). */
  layer: number;
  /** Position within the layer, from the top. */
  order: number;
  x: number;
  y: number;
};

/** An edge between placed nodes; parallel edges of one pair share a curve and list every edge. */
export type PlacedEdge<E extends LayoutEdge = LayoutEdge> = {
  key: string;
  from: string;
  to: string;
  edges: E[];
  /** SVG path data. */
  path: string;
  /** Where its label goes. */
  labelX: number;
  labelY: number;
};

export type Layout<N extends LayoutNode = LayoutNode, E extends LayoutEdge = LayoutEdge> = {
  nodes: Array<PlacedNode<N>>;
  edges: Array<PlacedEdge<E>>;
  width: number;
  height: number;
  /** The lowest and highest layer numbers. */
  minLayer: number;
  maxLayer: number;
};

/** Sizes of the drawing. */
export type LayoutOptions = {
  nodeWidth: number;
  nodeHeight: number;
  /** Horizontal room between layers (edge labels live there). */
  gapX: number;
  gapY: number;
  padding: number;
};

export const DEFAULT_LAYOUT: LayoutOptions = { nodeWidth: 190, nodeHeight: 58, gapX: 112, gapY: 28, padding: 20 };

/** The key of a node: kinds have separate id spaces. */
export const nodeKey = (kind: string, id: string) => `${kind}:${id}`;

/**
 * Layer of each node: edges go from a lower to a higher layer. Longest path from the sources,
 * then sources are pulled right next to their first successor (so an input does not sit far
 * left of the run that read it), then all layers are shifted so that `start` is layer 0.
 * Edges that would close a cycle are ignored.
 */
export function assignLayers(keys: string[], edges: Array<[string, string]>, start?: string): Map<string, number> {
  const known = new Set(keys);
  const succ = new Map<string, string[]>(keys.map((k) => [k, []]));
  const pred = new Map<string, string[]>(keys.map((k) => [k, []]));
  for (const [a, b] of acyclic(keys, edges.filter(([a, b]) => known.has(a) && known.has(b) && a !== b), start)) {
    succ.get(a)!.push(b);
    pred.get(b)!.push(a);
  }
  // Kahn's order.
  const indegree = new Map(keys.map((k) => [k, pred.get(k)!.length]));
  const queue = keys.filter((k) => indegree.get(k) === 0);
  const order: string[] = [];
  while (queue.length) {
    const k = queue.shift()!;
    order.push(k);
    for (const s of succ.get(k)!) {
      indegree.set(s, indegree.get(s)! - 1);
      if (indegree.get(s) === 0) queue.push(s);
    }
  }
  const layer = new Map<string, number>();
  for (const k of order) {
    const ps = pred.get(k)!;
    layer.set(k, ps.length ? Math.max(...ps.map((p) => layer.get(p)! + 1)) : 0);
  }
  // Pull sources right, next to their nearest successor.
  for (const k of order) {
    if (pred.get(k)!.length === 0 && succ.get(k)!.length > 0) {
      layer.set(k, Math.min(...succ.get(k)!.map((s) => layer.get(s)!)) - 1);
    }
  }
  const shift = start !== undefined && layer.has(start) ? layer.get(start)! : Math.min(0, ...layer.values());
  for (const [k, l] of layer) layer.set(k, l - shift);
  return layer;
}

/** The edges without those that close a cycle (depth-first from `start`, then the rest). */
function acyclic(keys: string[], edges: Array<[string, string]>, start?: string): Array<[string, string]> {
  const out = new Map<string, Array<[string, string]>>(keys.map((k) => [k, []]));
  for (const e of edges) out.get(e[0])!.push(e);
  const state = new Map<string, 1 | 2>(); // 1: on the stack, 2: done
  const kept: Array<[string, string]> = [];
  const roots = start !== undefined && out.has(start) ? [start, ...keys.filter((k) => k !== start)] : keys;
  for (const root of roots) {
    if (state.has(root)) continue;
    // Iterative DFS (graphs can be 1000 nodes deep in principle).
    const stack: Array<{ key: string; next: number }> = [{ key: root, next: 0 }];
    state.set(root, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const list = out.get(top.key)!;
      if (top.next >= list.length) {
        state.set(top.key, 2);
        stack.pop();
        continue;
      }
      const edge = list[top.next++];
      const seen = state.get(edge[1]);
      if (seen === 1) continue; // back edge: would close a cycle
      kept.push(edge);
      if (seen === undefined) {
        state.set(edge[1], 1);
        stack.push({ key: edge[1], next: 0 });
      }
    }
  }
  return kept;
}

/**
 * Orders the nodes of each layer: starting from `initial`, sweeps left to right (by the mean
 * position of predecessors) and right to left (of successors) a few times, keeping the order
 * with the fewest crossings.
 */
export function orderLayers(
  layers: Map<number, string[]>,
  edges: Array<[string, string]>,
  layerOf: Map<string, number>,
  sweeps = 6,
): Map<number, string[]> {
  const numbers = [...layers.keys()].sort((a, b) => a - b);
  const pred = new Map<string, string[]>();
  const succ = new Map<string, string[]>();
  for (const [a, b] of edges) {
    if (!layerOf.has(a) || !layerOf.has(b)) continue;
    (succ.get(a) ?? succ.set(a, []).get(a)!).push(b);
    (pred.get(b) ?? pred.set(b, []).get(b)!).push(a);
  }
  let current = new Map(numbers.map((n) => [n, [...layers.get(n)!]]));
  let best = current;
  let bestCrossings = countCrossings(current, edges, layerOf);
  const position = (order: Map<number, string[]>) => {
    const pos = new Map<string, number>();
    for (const list of order.values()) {
      // Centre each layer so that short and long layers line up around the middle.
      list.forEach((k, i) => pos.set(k, i - (list.length - 1) / 2));
    }
    return pos;
  };
  for (let sweep = 0; sweep < sweeps; sweep++) {
    const forward = sweep % 2 === 0;
    const next = new Map(current);
    const sequence = forward ? numbers : [...numbers].reverse();
    for (const n of sequence) {
      const pos = position(next);
      const neighbours = forward ? pred : succ;
      const list = next.get(n)!;
      const keyed = list.map((k, i) => {
        const ns = (neighbours.get(k) ?? []).filter((m) => pos.has(m));
        const bary = ns.length ? ns.reduce((s, m) => s + pos.get(m)!, 0) / ns.length : pos.get(k)!;
        return { k, i, bary };
      });
      keyed.sort((a, b) => a.bary - b.bary || a.i - b.i);
      next.set(n, keyed.map((x) => x.k));
    }
    current = next;
    const crossings = countCrossings(current, edges, layerOf);
    if (crossings < bestCrossings) {
      best = current;
      bestCrossings = crossings;
    }
  }
  return best;
}

/**
 * Crossings between edges that join adjacent layers (edges that skip layers are drawn as
 * curves and not counted).
 */
export function countCrossings(
  order: Map<number, string[]>,
  edges: Array<[string, string]>,
  layerOf: Map<string, number>,
): number {
  const index = new Map<string, number>();
  for (const list of order.values()) list.forEach((k, i) => index.set(k, i));
  const byLayer = new Map<number, Array<[number, number]>>();
  for (const [a, b] of edges) {
    const la = layerOf.get(a);
    const lb = layerOf.get(b);
    if (la === undefined || lb === undefined || lb !== la + 1) continue;
    (byLayer.get(la) ?? byLayer.set(la, []).get(la)!).push([index.get(a)!, index.get(b)!]);
  }
  let crossings = 0;
  for (const pairs of byLayer.values()) {
    for (let i = 0; i < pairs.length; i++) {
      for (let j = i + 1; j < pairs.length; j++) {
        const [a1, b1] = pairs[i];
        const [a2, b2] = pairs[j];
        if ((a1 - a2) * (b1 - b2) < 0) crossings++;
      }
    }
  }
  return crossings;
}

/** Height of the invisible waypoint a long edge takes through each layer it crosses. */
const WAYPOINT_HEIGHT = 12;

/**
 * Lays out the graph; `start` (a node key) sits in layer 0. An edge that spans several layers
 * passes through a waypoint in each layer between, which takes part in the ordering like a
 * small node, so long edges run between nodes instead of through them.
 */
export function layoutGraph<N extends LayoutNode, E extends LayoutEdge>(
  nodes: N[],
  edges: E[],
  start?: string,
  options: LayoutOptions = DEFAULT_LAYOUT,
): Layout<N, E> {
  const { nodeWidth, nodeHeight, gapX, gapY, padding } = options;
  const byKey = new Map<string, N>();
  for (const n of nodes) byKey.set(nodeKey(n.kind, n.id), n);
  const keys = [...byKey.keys()];
  // One curve per node pair, carrying every edge between them.
  const grouped = new Map<string, { from: string; to: string; edges: E[] }>();
  for (const e of edges) {
    const from = nodeKey(e.from_kind, e.from_id);
    const to = nodeKey(e.to_kind, e.to_id);
    if (!byKey.has(from) || !byKey.has(to) || from === to) continue;
    const key = `${from}->${to}`;
    (grouped.get(key) ?? grouped.set(key, { from, to, edges: [] }).get(key)!).edges.push(e);
  }
  const pairs: Array<[string, string]> = [...grouped.values()].map((g) => [g.from, g.to]);
  const layerOf = assignLayers(keys, pairs, start);
  // Waypoints of long edges, and the edges between neighbouring layers the ordering sees.
  const waypoints = new Map<string, string[]>();
  const segments: Array<[string, string]> = [];
  for (const [key, g] of grouped) {
    const from = layerOf.get(g.from)!;
    const to = layerOf.get(g.to)!;
    if (to - from <= 1) {
      if (to > from) segments.push([g.from, g.to]);
      continue;
    }
    const chain: string[] = [];
    for (let l = from + 1; l < to; l++) {
      const w = `${key}#${l}`;
      layerOf.set(w, l);
      chain.push(w);
    }
    waypoints.set(key, chain);
    [g.from, ...chain, g.to].forEach((k, i, all) => i > 0 && segments.push([all[i - 1], k]));
  }
  const isWaypoint = (k: string) => !byKey.has(k);
  const heightOf = (k: string) => (isWaypoint(k) ? WAYPOINT_HEIGHT : nodeHeight);
  // Initial order: by hops from the start, then kind and label, so the result is stable;
  // waypoints after the nodes.
  const rank = (k: string) => {
    const n = byKey.get(k);
    return n ? [n.depth ?? 0, n.kind, n.label, k] : [Infinity, "", "", k];
  };
  const layers = new Map<number, string[]>();
  const all = [...layerOf.keys()].sort((a, b) => {
    const [da, ka, la, a2] = rank(a);
    const [db, kb, lb, b2] = rank(b);
    return (
      (da as number) - (db as number) ||
      (ka as string).localeCompare(kb as string) ||
      (la as string).localeCompare(lb as string) ||
      (a2 as string).localeCompare(b2 as string)
    );
  });
  for (const k of all) {
    const l = layerOf.get(k)!;
    (layers.get(l) ?? layers.set(l, []).get(l)!).push(k);
  }
  const order = orderLayers(layers, segments, layerOf);
  const layerNumbers = [...order.keys()];
  const minLayer = layerNumbers.length ? Math.min(...layerNumbers) : 0;
  const maxLayer = layerNumbers.length ? Math.max(...layerNumbers) : 0;
  const columnHeight = (list: string[]) =>
    list.reduce((sum, k) => sum + heightOf(k), 0) + Math.max(0, list.length - 1) * gapY;
  const tallest = Math.max(nodeHeight, ...[...order.values()].map(columnHeight));
  const height = padding * 2 + tallest;
  const width = padding * 2 + (maxLayer - minLayer + 1) * nodeWidth + (maxLayer - minLayer) * gapX;
  const placed = new Map<string, PlacedNode<N>>();
  const waypointY = new Map<string, number>();
  const columnX = (l: number) => padding + (l - minLayer) * (nodeWidth + gapX);
  for (const [l, list] of order) {
    let y = padding + (tallest - columnHeight(list)) / 2;
    list.forEach((k, i) => {
      if (isWaypoint(k)) {
        waypointY.set(k, y + WAYPOINT_HEIGHT / 2);
      } else {
        placed.set(k, { key: k, node: byKey.get(k)!, layer: l, order: i, x: columnX(l), y });
      }
      y += heightOf(k) + gapY;
    });
  }
  const placedEdges: Array<PlacedEdge<E>> = [];
  for (const [key, g] of grouped) {
    const a = placed.get(g.from)!;
    const b = placed.get(g.to)!;
    const x1 = a.x + nodeWidth;
    const y1 = a.y + nodeHeight / 2;
    const x2 = b.x;
    const y2 = b.y + nodeHeight / 2;
    let path: string;
    let labelX: number;
    let labelY: number;
    if (x2 > x1) {
      // Through each waypoint's column on a straight line, curving in the gaps between.
      const points: Array<[number, number]> = [[x1, y1]];
      for (const w of waypoints.get(key) ?? []) {
        const x = columnX(layerOf.get(w)!);
        points.push([x, waypointY.get(w)!], [x + nodeWidth, waypointY.get(w)!]);
      }
      points.push([x2, y2]);
      path = `M${points[0][0]},${points[0][1]}`;
      for (let i = 1; i < points.length; i++) {
        const [px, py] = points[i - 1];
        const [qx, qy] = points[i];
        if (i % 2 === 1) {
          const bend = (qx - px) / 2;
          path += ` C${px + bend},${py} ${qx - bend},${qy} ${qx},${qy}`;
        } else {
          path += ` L${qx},${qy}`;
        }
      }
      // The label sits in the last gap, before the target.
      const [px, py] = points[points.length - 2];
      labelX = (px + x2) / 2;
      labelY = (py + y2) / 2;
    } else {
      // A back edge (a cycle the layering ignored): loop below the nodes.
      const drop = Math.max(a.y, b.y) + nodeHeight + gapY / 2;
      path = `M${x1},${y1} C${x1 + 60},${drop} ${x2 - 60},${drop} ${x2},${y2}`;
      labelX = (x1 + x2) / 2;
      labelY = drop;
    }
    placedEdges.push({ key, from: g.from, to: g.to, edges: g.edges, path, labelX, labelY });
  }
  return { nodes: [...placed.values()], edges: placedEdges, width, height, minLayer, maxLayer };
}

/**
 * The node that an arrow key moves keyboard focus to: the nearest placed node on that side of
 * `from` (left/right across layers, up/down within one), or null at the edge.
 */
export function neighbour(
  nodes: Array<{ key: string; x: number; y: number }>,
  from: string,
  direction: "ArrowLeft" | "ArrowRight" | "ArrowUp" | "ArrowDown",
): string | null {
  const here = nodes.find((n) => n.key === from);
  if (!here) return null;
  const horizontal = direction === "ArrowLeft" || direction === "ArrowRight";
  const sign = direction === "ArrowRight" || direction === "ArrowDown" ? 1 : -1;
  let best: { key: string; cost: number } | null = null;
  for (const n of nodes) {
    const along = (horizontal ? n.x - here.x : n.y - here.y) * sign;
    const across = Math.abs(horizontal ? n.y - here.y : n.x - here.x);
    if (along <= 0) continue;
    // Mostly along the arrow: sideways distance counts double.
    const cost = along + 2 * across;
    if (!best || cost < best.cost) best = { key: n.key, cost };
  }
  return best?.key ?? null;
}
