// The stage graph: one node a stage, an edge a depends_on. Stages without a
// saved ui.position are laid out by batch (depth in the graph), so parallel
// branches stand side by side.
import { Background, Edge, Handle, MarkerType, Node, NodeProps, Position, ReactFlow } from "@xyflow/react";
import { DragEvent, memo, useMemo } from "react";
import type { StageView } from "./swdl";

export interface StageNodeData extends Record<string, unknown> {
  stage: StageView;
  errors: number;
  warnings: number;
  status?: string;
  onDropArtifact?: (stageId: string, ref: string) => void;
}

export const ARTIFACT_MIME = "application/x-skillmeat-artifact";
export const STAGE_MIME = "application/x-skillmeat-stage";

function StageNode({ data, selected }: NodeProps<Node<StageNodeData>>) {
  const { stage, errors, warnings, status } = data;
  const accept = (e: DragEvent) => {
    if (!data.onDropArtifact || !e.dataTransfer.types.includes(ARTIFACT_MIME)) return;
    e.preventDefault();
    e.stopPropagation();
    e.currentTarget.classList.add("drop-target");
  };
  return (
    <div className={`stage-node type-${stage.type}${stage.type === "fan_out" ? " stack" : ""}${selected ? " selected" : ""}${errors ? " invalid" : ""}${status ? ` status-${status}` : ""}`}
      style={stage.raw.ui && typeof (stage.raw.ui as { color?: unknown }).color === "string"
        ? { borderLeftColor: (stage.raw.ui as { color: string }).color } : undefined}
      data-stage={stage.id}
      onDragOver={accept} onDragEnter={accept}
      onDragLeave={(e) => e.currentTarget.classList.remove("drop-target")}
      onDrop={(e) => {
        e.currentTarget.classList.remove("drop-target");
        const ref = e.dataTransfer.getData(ARTIFACT_MIME);
        if (!ref || !data.onDropArtifact) return;
        e.preventDefault();
        e.stopPropagation();
        data.onDropArtifact(stage.id, ref);
      }}>
      <Handle type="target" position={Position.Left} title={`${stage.id}: drag an edge here to depend on another stage`} />
      <div className="stage-title">{stage.name || stage.id}</div>
      <div className="stage-meta"><code>{stage.id}</code> · {stage.type}</div>
      {stage.artifact && <div className="stage-artifact">{stage.artifact}</div>}
      {stage.type === "fan_out" && <div className="stage-items" title="runs once per item">× {stage.fanOutItems ?? "no items set"}</div>}
      {status && <div className="stage-status">{status.replace(/_/g, " ")}</div>}
      {(errors > 0 || warnings > 0) && <div className="stage-diags" aria-label={`${errors} errors, ${warnings} warnings`}>
        {errors > 0 && <span className="error">{errors} ✕</span>} {warnings > 0 && <span className="warning">{warnings} !</span>}</div>}
      <Handle type="source" position={Position.Right} title={`${stage.id}: drag from here to a stage that depends on it`} />
    </div>
  );
}

// Drawn again only when its node object changes (see reuseNodes).
export const nodeTypes = { stage: memo(StageNode) };

/** x by depth (longest path from a root), y by order within the depth. */
export function autoLayout(stages: StageView[]): Map<string, { x: number; y: number }> {
  const byId = new Map(stages.map((s) => [s.id, s]));
  const depth = new Map<string, number>();
  const visit = (id: string, seen: Set<string>): number => {
    if (depth.has(id)) return depth.get(id)!;
    const s = byId.get(id);
    if (!s || seen.has(id)) return 0;
    seen.add(id);
    const d = Math.max(-1, ...s.depends_on.map((p) => visit(p, seen))) + 1;
    depth.set(id, d);
    return d;
  };
  stages.forEach((s) => visit(s.id, new Set()));
  const rows = new Map<number, number>();
  const out = new Map<string, { x: number; y: number }>();
  for (const s of stages) {
    const d = depth.get(s.id) ?? 0, r = rows.get(d) ?? 0;
    rows.set(d, r + 1);
    out.set(s.id, { x: 40 + d * 260, y: 40 + r * 130 });
  }
  return out;
}

export function graphOf(stages: StageView[], extra: (s: StageView) => Partial<StageNodeData>) {
  const auto = autoLayout(stages);
  const nodes: Node<StageNodeData>[] = stages.map((s) => ({
    id: s.id,
    type: "stage",
    position: s.position ? { x: s.position[0], y: s.position[1] } : auto.get(s.id)!,
    data: { stage: s, errors: 0, warnings: 0, ...extra(s) },
    ariaLabel: `Stage ${s.name} (${s.id})`,
  }));
  const ids = new Set(stages.map((s) => s.id));
  const edges: Edge[] = stages.flatMap((s) => s.depends_on.filter((d) => ids.has(d)).map((d) => ({
    id: `${d}->${s.id}`, source: d, target: s.id, markerEnd: { type: MarkerType.ArrowClosed },
    ariaLabel: `${s.id} depends on ${d}`,
  })));
  return { nodes, edges };
}

// A stage's YAML as last compared, per StageView.raw (each doc.stages() makes new ones).
const rawText = new WeakMap<object, string>();
const textOf = (raw: object) => {
  let t = rawText.get(raw);
  if (t === undefined) { t = JSON.stringify(raw); rawText.set(raw, t); }
  return t;
};

function sameNode(a: Node<StageNodeData>, b: Node<StageNodeData>): boolean {
  const x = a.data, y = b.data;
  return a.position.x === b.position.x && a.position.y === b.position.y && !!a.selected === !!b.selected &&
    x.errors === y.errors && x.warnings === y.warnings && x.status === y.status && x.onDropArtifact === y.onDropArtifact &&
    x.stage.index === y.stage.index && (x.stage.raw === y.stage.raw || textOf(x.stage.raw) === textOf(y.stage.raw));
}

/** The next graph's nodes, keeping each previous node object whose stage, diagnostics,
 * place and selection are unchanged (and `prev` itself when all are). React Flow skips
 * a node whose object it has seen: no redraw, no measuring again. A keystroke in the
 * stage editor so redraws one node, not all of them (200 stages: 200 measured, twice). */
export function reuseNodes(prev: Node<StageNodeData>[], next: Node<StageNodeData>[]): Node<StageNodeData>[] {
  const old = new Map(prev.map((n) => [n.id, n]));
  let same = prev.length === next.length;
  const out = next.map((n, i) => {
    const p = old.get(n.id);
    if (p && sameNode(p, n)) { same &&= prev[i] === p; return p; }
    same = false;
    // A changed node keeps its measured size: React Flow's resize observer sees a new one.
    return p?.measured ? { ...n, measured: p.measured } : n;
  });
  return same ? prev : out;
}

/** The same for edges: an edge's id says all it draws. */
export function reuseEdges(prev: Edge[], next: Edge[]): Edge[] {
  const old = new Map(prev.map((e) => [e.id, e]));
  let same = prev.length === next.length;
  const out = next.map((e, i) => {
    const p = old.get(e.id);
    if (!p) { same = false; return e; }
    same &&= prev[i] === p;
    return p;
  });
  return same ? prev : out;
}

/** A read-only graph (the run page). */
export function StaticGraph({ stages, status }: { stages: StageView[]; status: (id: string) => string | undefined }) {
  const { nodes, edges } = useMemo(() => graphOf(stages, (s) => ({ status: status(s.id) })), [stages, status]);
  return (
    <div className="graph-static" aria-label="Stage graph">
      <ReactFlow nodes={nodes} edges={edges} nodeTypes={nodeTypes} fitView fitViewOptions={{ maxZoom: 1 }} nodesDraggable={false}
        nodesConnectable={false} elementsSelectable={false} proOptions={{ hideAttribution: true }}>
        <Background />
      </ReactFlow>
    </div>
  );
}
