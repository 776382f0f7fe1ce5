import { describe, expect, test } from "vitest";
import { assignLayers, countCrossings, DEFAULT_LAYOUT, layoutGraph, neighbour, nodeKey, orderLayers, type LayoutEdge, type LayoutNode } from "./graph";

const node = (kind: string, id: string, depth = 0): LayoutNode => ({ kind, id, label: `${kind} ${id}`, depth });
const edge = (from: LayoutNode, to: LayoutNode, relation = "input"): LayoutEdge => ({
  from_kind: from.kind,
  from_id: from.id,
  to_kind: to.kind,
  to_id: to.id,
  relation,
});

describe("assignLayers", () => {
  test("upstream goes left of the start, downstream right", () => {
    const layers = assignLayers(["d", "r", "m", "e"], [["d", "r"], ["r", "m"], ["m", "e"]], "r");
    expect(Object.fromEntries(layers)).toEqual({ d: -1, r: 0, m: 1, e: 2 });
  });

  test("every edge points right, sources sit next to their first successor", () => {
    // a → b → c → d, and x → d: x is pulled next to d, not left at a's layer.
    const edges: Array<[string, string]> = [["a", "b"], ["b", "c"], ["c", "d"], ["x", "d"]];
    const layers = assignLayers(["a", "b", "c", "d", "x"], edges, "a");
    for (const [from, to] of edges) expect(layers.get(to)!).toBeGreaterThan(layers.get(from)!);
    expect(layers.get("x")).toBe(2);
    expect(layers.get("a")).toBe(0);
  });

  test("a cycle does not hang and leaves a layering", () => {
    const layers = assignLayers(["a", "b", "c"], [["a", "b"], ["b", "c"], ["c", "a"]], "a");
    expect(Object.fromEntries(layers)).toEqual({ a: 0, b: 1, c: 2 });
  });

  test("unknown nodes and self loops are ignored", () => {
    const layers = assignLayers(["a", "b"], [["a", "a"], ["a", "zzz"], ["a", "b"]], "b");
    expect(Object.fromEntries(layers)).toEqual({ a: -1, b: 0 });
  });
});

describe("orderLayers", () => {
  test("untangles a crossing", () => {
    // Layer 0: a, b; layer 1: y, x with a → x and b → y: crossing in the given order.
    const layerOf = new Map([["a", 0], ["b", 0], ["x", 1], ["y", 1]]);
    const edges: Array<[string, string]> = [["a", "x"], ["b", "y"]];
    const start = new Map([[0, ["a", "b"]], [1, ["y", "x"]]]);
    expect(countCrossings(start, edges, layerOf)).toBe(1);
    const ordered = orderLayers(start, edges, layerOf);
    expect(countCrossings(ordered, edges, layerOf)).toBe(0);
  });

  test("never makes it worse", () => {
    const layerOf = new Map([["a", 0], ["b", 0], ["c", 0], ["x", 1], ["y", 1], ["z", 1]]);
    const edges: Array<[string, string]> = [["a", "z"], ["b", "x"], ["c", "y"], ["a", "x"], ["c", "z"]];
    const start = new Map([[0, ["a", "b", "c"]], [1, ["x", "y", "z"]]]);
    const before = countCrossings(start, edges, layerOf);
    expect(countCrossings(orderLayers(start, edges, layerOf), edges, layerOf)).toBeLessThanOrEqual(before);
  });
});

describe("layoutGraph", () => {
  const d1 = node("dataset_version", "1", 1);
  const d2 = node("dataset_version", "2", 1);
  const run = node("run", "abc", 0);
  const mv = node("model_version", "5", 1);
  const report = node("report", "9", 2);

  test("places the start in the middle column with inputs left and outputs right", () => {
    const layout = layoutGraph(
      [run, d1, d2, mv, report],
      [edge(d1, run), edge(d2, run), edge(run, mv, "produced"), edge(mv, report, "evaluated")],
      nodeKey("run", "abc"),
    );
    const at = (n: LayoutNode) => layout.nodes.find((p) => p.key === nodeKey(n.kind, n.id))!;
    expect(at(run).layer).toBe(0);
    expect(at(d1).layer).toBe(-1);
    expect(at(d2).layer).toBe(-1);
    expect(at(mv).layer).toBe(1);
    expect(at(report).layer).toBe(2);
    expect(at(d1).x).toBeLessThan(at(run).x);
    expect(at(run).x).toBeLessThan(at(mv).x);
    expect(layout.minLayer).toBe(-1);
    expect(layout.maxLayer).toBe(2);
    // Two inputs stacked; nodes stay inside the drawing.
    expect(at(d1).y).not.toBe(at(d2).y);
    for (const p of layout.nodes) {
      expect(p.x).toBeGreaterThanOrEqual(0);
      expect(p.y).toBeGreaterThanOrEqual(0);
      expect(p.x).toBeLessThanOrEqual(layout.width);
      expect(p.y).toBeLessThanOrEqual(layout.height);
    }
    expect(layout.edges).toHaveLength(4);
    expect(layout.edges[0].path).toMatch(/^M[\d.]+,[\d.]+ C/);
  });

  test("merges parallel edges of one pair into one curve", () => {
    const layout = layoutGraph([d1, run], [edge(d1, run, "input"), edge(d1, run, "input")], nodeKey("run", "abc"));
    expect(layout.edges).toHaveLength(1);
    expect(layout.edges[0].edges).toHaveLength(2);
  });

  test("drops edges to nodes that are not in the graph (hidden projects)", () => {
    const layout = layoutGraph([run], [edge(d1, run)], nodeKey("run", "abc"));
    expect(layout.edges).toHaveLength(0);
    expect(layout.nodes).toHaveLength(1);
  });

  test("an empty graph has a size", () => {
    const layout = layoutGraph([], []);
    expect(layout.nodes).toEqual([]);
    expect(layout.width).toBeGreaterThan(0);
  });
});

describe("long edges", () => {
  test("pass through waypoints between the nodes of the layers they cross", () => {
    const a = node("dataset_version", "a");
    const b = node("report", "b", 1);
    const c = node("dataset_version", "c", 2);
    // a → b → c and a → c (derived): the long edge gets a waypoint in b's layer.
    const layout = layoutGraph([a, b, c], [edge(a, b, "checked"), edge(b, c, "predicted"), edge(a, c, "derived")], nodeKey("dataset_version", "a"));
    expect(layout.nodes.map((n) => n.layer).sort()).toEqual([0, 1, 2]);
    const long = layout.edges.find((e) => e.edges[0].relation === "derived")!;
    // Curve, straight run through the middle column, curve.
    expect(long.path.match(/C/g)).toHaveLength(2);
    expect(long.path).toContain(" L");
    // The waypoint does not sit on b: the straight run's height is outside b's box.
    const bBox = layout.nodes.find((n) => n.key === nodeKey("report", "b"))!;
    const y = Number(/ L[\d.]+,([\d.]+)/.exec(long.path)![1]);
    expect(y < bBox.y || y > bBox.y + DEFAULT_LAYOUT.nodeHeight).toBe(true);
    // Only real nodes are placed.
    expect(layout.nodes).toHaveLength(3);
  });
});

describe("keyboard moves between nodes", () => {
  const nodes = [
    { key: "a", x: 0, y: 0 },
    { key: "b", x: 300, y: 0 },
    { key: "c", x: 300, y: 90 },
    { key: "d", x: 600, y: 90 },
  ];
  test("arrows go to the nearest node on that side", () => {
    expect(neighbour(nodes, "a", "ArrowRight")).toBe("b");
    expect(neighbour(nodes, "b", "ArrowDown")).toBe("c");
    expect(neighbour(nodes, "c", "ArrowUp")).toBe("b");
    expect(neighbour(nodes, "c", "ArrowRight")).toBe("d");
    expect(neighbour(nodes, "d", "ArrowLeft")).toBe("c");
  });
  test("nothing beyond the edge or from an unknown node", () => {
    expect(neighbour(nodes, "a", "ArrowLeft")).toBeNull();
    expect(neighbour(nodes, "a", "ArrowUp")).toBeNull();
    expect(neighbour(nodes, "zz", "ArrowRight")).toBeNull();
  });
});
