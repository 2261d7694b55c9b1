import { describe, expect, it } from "vitest";
import { graphOf, reuseEdges, reuseNodes } from "./Canvas";
import { WorkflowDoc } from "./swdl";

const TEXT = `workflow: {id: w, name: W}
stages:
  - {id: a, name: A, type: command, run: "echo a"}
  - {id: b, name: B, type: command, run: "echo b", depends_on: [a]}
  - {id: c, name: C, type: command, run: "echo c", depends_on: [a]}
`;
const graph = (doc: WorkflowDoc, errors: Record<string, number> = {}) =>
  graphOf(doc.stages(), (s) => ({ errors: errors[s.id] ?? 0 }));

// React Flow redraws and measures again every node whose object is new, so a
// keystroke in one stage's form must leave the other nodes' objects as they were.
describe("reuseNodes", () => {
  it("keeps the nodes of unchanged stages and makes a new one for the edited stage", () => {
    const doc = new WorkflowDoc(TEXT);
    const first = graph(doc).nodes.map((n) => ({ ...n, measured: { width: 200, height: 80 } }));
    doc.set(["stages", 1, "name"], "B edited");
    const next = reuseNodes(first, graph(doc).nodes);
    expect(next).not.toBe(first);
    expect(next[0]).toBe(first[0]);
    expect(next[2]).toBe(first[2]);
    expect(next[1]).not.toBe(first[1]);
    expect(next[1].data.stage.name).toBe("B edited");
    expect(next[1].measured).toEqual({ width: 200, height: 80 });
  });
  it("returns the previous list itself when nothing changed", () => {
    const doc = new WorkflowDoc(TEXT);
    const first = graph(doc).nodes;
    expect(reuseNodes(first, graph(doc).nodes)).toBe(first);
  });
  it("makes new nodes for a changed error count, selection, place or order", () => {
    const doc = new WorkflowDoc(TEXT);
    const first = graph(doc).nodes;
    expect(reuseNodes(first, graph(doc, { c: 1 }).nodes)[2]).not.toBe(first[2]);
    expect(reuseNodes(first, graph(doc).nodes.map((n) => ({ ...n, selected: n.id === "a" })))[0]).not.toBe(first[0]);
    doc.set(["stages", 2, "ui", "position"], [500, 500]);
    expect(reuseNodes(first, graph(doc).nodes)[2].position).toEqual({ x: 500, y: 500 });
    doc.removeStage("a");
    const after = reuseNodes(first, graph(doc).nodes);
    expect(after.map((n) => n.id)).toEqual(["b", "c"]);
    expect(after[0]).not.toBe(first[1]);  // its index and depends_on changed
  });
});

describe("reuseEdges", () => {
  it("keeps edges by id and drops removed ones", () => {
    const doc = new WorkflowDoc(TEXT);
    const first = graph(doc).edges;
    expect(reuseEdges(first, graph(doc).edges)).toBe(first);
    doc.removeDependency("c", "a");
    const next = reuseEdges(first, graph(doc).edges);
    expect(next).toEqual([first[0]]);
    expect(next[0]).toBe(first[0]);
  });
});
