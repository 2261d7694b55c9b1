// The workflow builder: palette and artifact picker, the stage graph, the
// stage editor, live validation and the YAML view. Every edit goes through
// WorkflowDoc, so saving writes back the user's own file with only the
// edited nodes changed.
import {
  applyNodeChanges, Background, Connection, Controls, Edge, Node, NodeChange, ReactFlow, ReactFlowProvider,
  useReactFlow,
} from "@xyflow/react";
import { DragEvent, useCallback, useDeferredValue, useEffect, useMemo, useRef, useState } from "react";
import { api, ApiError, Artifact, Diagnostic, Validation } from "./api";
import { ARTIFACT_MIME, graphOf, nodeTypes, reuseEdges, reuseNodes, STAGE_MIME, StageNodeData } from "./Canvas";
import { collectionDiags } from "./collection";
import { Diags } from "./fields";
import { Picker } from "./Picker";
import { PlanView, usePlan, useReuse } from "./PlanView";
import { go, setLeaveGuard } from "./route";
import { StageEditor, WorkflowEditor } from "./StageEditor";
import { assignArtifact, NEW_WORKFLOW, RoleDecl, rolesOf, StageType, WorkflowDoc } from "./swdl";
import { errorText, Modal } from "./util";

export function Builder({ id }: { id: string | null }) {
  const [doc, setDoc] = useState<WorkflowDoc | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [converted, setConverted] = useState(false);
  useEffect(() => {
    if (!id) { setDoc(new WorkflowDoc(NEW_WORKFLOW)); return; }
    // The seed's short form is edited in its canonical form (saving stores that).
    api.workflow(id).then((w) => { setConverted(!!w.canonical); setDoc(new WorkflowDoc(w.canonical ?? w.definition)); },
      (e) => setLoadError(errorText(e)));
  }, [id]);
  if (loadError) return <section className="page"><p className="error" role="alert">{loadError}</p></section>;
  if (!doc) return <section className="page"><p>Loading…</p></section>;
  return <ReactFlowProvider><Editor id={id} initial={doc} converted={converted} /></ReactFlowProvider>;
}

function Editor({ id, initial, converted }: { id: string | null; initial: WorkflowDoc; converted: boolean }) {
  const docRef = useRef(initial);
  const doc = docRef.current;
  const [version, setVersion] = useState(0);
  const changed = useCallback(() => setVersion((v) => v + 1), []);
  const [selected, setSelected] = useState<string | null>(null);
  const [validation, setValidation] = useState<Validation | null>(null);
  const [status, setStatus] = useState<{ text: string; kind: "info" | "error" } | null>(converted
    ? { text: "written in the seed's short form: shown in the canonical form (as `skillmeat workflow convert` writes it), which saving stores", kind: "info" }
    : null);
  const [view, setView] = useState<"graph" | "yaml" | "plan">("graph");
  const [artifacts, setArtifacts] = useState<Artifact[]>([]);
  const [modules, setModules] = useState<Artifact[]>([]);
  const [collectionKnown, setCollectionKnown] = useState(false);
  const [saving, setSaving] = useState(false);
  const { screenToFlowPosition } = useReactFlow();
  // The YAML view's text while it differs from the document (null: none): Save and
  // leaving the view apply it, or refuse with the reason; it is never dropped silently.
  const [draft, setDraft] = useState<string | null>(null);
  const draftRef = useRef(draft);
  draftRef.current = draft;

  useEffect(() => {
    Promise.all([api.artifacts().then((r) => setArtifacts(r.items)), api.contextModules().then((r) => setModules(r.items))])
      .then(() => setCollectionKnown(true), () => undefined);
  }, []);

  // Unsaved work: leaving the page (another route, closing the tab) asks first.
  useEffect(() => {
    setLeaveGuard(() => docRef.current.dirty || (draftRef.current !== null && draftRef.current !== docRef.current.text())
      ? "This workflow has unsaved changes." : null);
    return () => setLeaveGuard(null);
  }, []);

  // The costly views of the document (its text through the formatting merge, the stage
  // list, the graph) follow the edits a render behind: a keystroke in a form is handled
  // at once, and React redraws them when the typing leaves it time (200 stages: 250 ms).
  const settled = useDeferredValue(version);
  // The text (the costliest, 30 ms and more at 200 stages) once the typing pauses: it
  // feeds the validation, which waits for a pause anyway; the text view has it at once.
  const [paused, setPaused] = useState(version);
  useEffect(() => { const t = setTimeout(() => setPaused(version), 120); return () => clearTimeout(t); }, [version]);
  // Live validation of the text as it would be saved.
  const text = useMemo(() => doc.text(), [doc, view === "yaml" ? version : paused]);
  const [checking, setChecking] = useState(true);
  useEffect(() => {
    let current = true;
    setChecking(true);
    const t = setTimeout(() => api.validate(text).then((v) => { if (current) { setValidation(v); setChecking(false); } },
      (e) => setStatus({ text: errorText(e), kind: "error" })), 250);
    return () => { current = false; clearTimeout(t); };
  }, [text]);

  const stages = useMemo(() => doc.stages(), [doc, settled]);
  // As plan and a run's start check them: the artifacts must be in the collection.
  const missing = useMemo(() => collectionKnown ? collectionDiags(stages, artifacts, modules) : [], [collectionKnown, stages, artifacts, modules]);
  const diags: Diagnostic[] = useMemo(() => [...(validation?.errors ?? []), ...missing, ...(validation?.warnings ?? [])], [validation, missing]);
  const stageDiags = (sid: string) => diags.filter((d) => d.stage_id === sid);

  const dropArtifact = useCallback((stageId: string, ref: string) => {
    setStatus({ text: assignArtifact(doc, stageId, ref), kind: "info" });
    setSelected(stageId);
    changed();
  }, [doc, changed]);

  // Nodes live in state while dragged; the document is the truth for the rest.
  const [nodes, setNodes] = useState<Node<StageNodeData>[]>([]);
  const graph = useMemo(() => {
    const count = new Map<string, { errors: number; warnings: number }>();
    for (const d of diags) {
      if (!d.stage_id) continue;
      const c = count.get(d.stage_id) ?? { errors: 0, warnings: 0 };
      if (d.severity === "error") c.errors++; else if (d.severity === "warning") c.warnings++;
      count.set(d.stage_id, c);
    }
    return graphOf(stages, (s) => ({ ...(count.get(s.id) ?? { errors: 0, warnings: 0 }), onDropArtifact: dropArtifact }));
  }, [stages, diags, dropArtifact]);
  // Only the nodes and edges that changed are new objects, so React Flow redraws just those.
  useEffect(() => setNodes((prev) => reuseNodes(prev, graph.nodes.map((n) => ({ ...n, selected: n.id === selected })))), [graph, selected]);
  const edgesRef = useRef<Edge[]>([]);
  const edges = useMemo(() => (edgesRef.current = reuseEdges(edgesRef.current, graph.edges)), [graph.edges]);

  const onNodesChange = useCallback((changes: NodeChange<Node<StageNodeData>>[]) => {
    setNodes((ns) => applyNodeChanges(changes.filter((c) => c.type !== "remove"), ns));
  }, []);
  const onNodeDragStop = (_: unknown, node: Node) => {
    const i = doc.stageIndex(node.id);
    if (i >= 0) { doc.set(["stages", i, "ui", "position"], [Math.round(node.position.x), Math.round(node.position.y)]); changed(); }
  };
  const onConnect = (c: Connection) => {
    if (c.source && c.target && doc.addDependency(c.target, c.source)) {
      setStatus({ text: `${c.target} now depends on ${c.source}`, kind: "info" });
      changed();
    }
  };
  const onEdgesDelete = (edges: Edge[]) => { edges.forEach((e) => doc.removeDependency(e.target, e.source)); changed(); };
  const removeStage = (sid: string) => { doc.removeStage(sid); setSelected(null); changed(); };

  const addStage = (type: StageType, at?: { x: number; y: number }, artifact?: string) => {
    const base = type === "gate" ? "approval" : type === "command" ? "command" : artifact ? artifact.split(":")[1] ?? "stage" : "stage";
    const sid = doc.freeId(base.replace(/[^A-Za-z0-9_-]/g, "-").replace(/^[^A-Za-z]+/, "") || "stage");
    const stage: Record<string, unknown> = { id: sid, name: sid.replace(/[-_]/g, " ").replace(/^./, (c) => c.toUpperCase()) };
    if (type !== "agent") stage.type = type;
    if (type === "agent" || type === "fan_out") stage.roles = { primary: { artifact: artifact ?? "agent:" } };
    if (type === "command") stage.run = "echo hello";
    if (type === "gate") stage.gate = { kind: "manual_approval", timeout: "24h", on_timeout: "halt" };
    const last = stages[stages.length - 1];
    const pos = at ?? { x: 40 + stages.length * 260, y: 40 };
    stage.ui = { position: [Math.round(pos.x), Math.round(pos.y)] };
    doc.addStage(stage);
    if (!at && last && type !== "agent") doc.addDependency(sid, last.id);
    setSelected(sid);
    setStatus({ text: `added stage ${sid}`, kind: "info" });
    changed();
  };

  const onDrop = (e: DragEvent) => {
    const type = e.dataTransfer.getData(STAGE_MIME) as StageType;
    const ref = e.dataTransfer.getData(ARTIFACT_MIME);
    if (!type && !ref) return;
    e.preventDefault();
    const at = screenToFlowPosition({ x: e.clientX, y: e.clientY });
    if (type) addStage(type, at);
    else if (ref.startsWith("agent:") || ref.startsWith("skill:")) addStage("agent", at, ref);
    else setStatus({ text: `drop ${ref} on a stage to use it there`, kind: "error" });
  };

  /** Apply the YAML view's text; the reason it cannot be, or null. */
  const applyDraft = (): string | null => {
    if (draft === null || draft === docRef.current.text()) { setDraft(null); return null; }
    const errs = new WorkflowDoc(draft).parseErrors;
    if (errs.length) return `the ${doc.format.toUpperCase()} text does not parse (${errs[0]}): fix it, or Revert`;
    docRef.current = new WorkflowDoc(draft, true);
    setDraft(null);
    setSelected(null);
    changed();
    return null;
  };
  const switchView = (v: "graph" | "yaml" | "plan") => {
    const why = view === "yaml" ? applyDraft() : null;
    if (why) { setStatus({ text: `cannot leave the text view: ${why}`, kind: "error" }); return; }
    setView(v);
  };

  const [planVersion, setPlanVersion] = useState(0);
  const save = async () => {
    const why = applyDraft();
    if (why) { setStatus({ text: `not saved: ${why}`, kind: "error" }); return; }
    setSaving(true);
    try {
      const out = docRef.current.text();
      const w = id ? await api.updateWorkflow(id, out) : await api.createWorkflow(out);
      docRef.current = new WorkflowDoc(w.definition ?? out);
      setStatus({ text: `saved ${w.path ?? w.id}`, kind: "info" });
      if (!id) go(`#/workflows/${encodeURIComponent(w.id)}`);
      setPlanVersion((v) => v + 1);
      changed();
    } catch (e) {
      if (e instanceof ApiError && e.body && typeof e.body === "object" && "errors" in (e.body as object))
        setValidation(e.body as Validation);
      setStatus({ text: `not saved: ${errorText(e)}`, kind: "error" });
    } finally {
      setSaving(false);
    }
  };

  const [runOpen, setRunOpen] = useState(false);
  const run = async (params: Record<string, unknown>, bindings: Record<string, string>) => {
    if (!id) return;
    try {
      const r = await api.startRun(id, params, bindings);
      go(`#/runs/${encodeURIComponent(r.id)}`);
    } catch (e) { setStatus({ text: `cannot start: ${errorText(e)}`, kind: "error" }); setRunOpen(false); }
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key === "s") { e.preventDefault(); void save(); }
    };
    addEventListener("keydown", onKey);
    return () => removeEventListener("keydown", onKey);
  });

  // The Plan tab: the saved workflow's plan, and what a re-run of its last run would reuse.
  const wfId = String(doc.get(["workflow", "id"]) ?? id ?? "");
  const planState = usePlan(view === "plan" ? id : null, {}, {}, planVersion);
  const [lastRun, setLastRun] = useState<string | null>(null);
  useEffect(() => {
    if (view === "plan" && id) api.runs(wfId).then((r) => setLastRun(r.items[0]?.id ?? null), () => setLastRun(null));
  }, [view, id, wfId, planVersion]);
  const reuse = useReuse(view === "plan" ? lastRun : null, planVersion);
  const budgets = useMemo(() => ({
    workflow: (doc.get(["config", "budget"]) ?? null) as Record<string, unknown> | null,
    stages: Object.fromEntries(stages.map((s) => [s.id, (s.raw.budget ?? null) as Record<string, unknown> | null])),
  }), [doc, stages]);

  // Enter or Space on a focused stage node opens its editor, focus in its first field.
  const onCanvasKey = (e: React.KeyboardEvent) => {
    const node = (e.target as HTMLElement).closest?.(".react-flow__node");
    if (!node || (e.key !== "Enter" && e.key !== " ")) return;
    e.preventDefault();
    setSelected(node.getAttribute("data-id"));
    requestAnimationFrame(() => document.querySelector<HTMLElement>(".side form input, .side form select, .side form textarea")?.focus());
  };

  // The graph is drawn again only when it changed, not on every keystroke in a form.
  const flow = useMemo(() => (
      <ReactFlow nodes={nodes} edges={edges} nodeTypes={nodeTypes}
                onNodesChange={onNodesChange} onNodeDragStop={onNodeDragStop} onConnect={onConnect}
                onEdgesDelete={onEdgesDelete} onNodesDelete={(ns) => ns.forEach((n) => removeStage(n.id))}
                onNodeClick={(_, n) => setSelected(n.id)} onPaneClick={() => setSelected(null)}
                deleteKeyCode={["Delete"]} minZoom={0.1} fitView fitViewOptions={{ maxZoom: 1 }} proOptions={{ hideAttribution: true }}>
                <Background />
                <Controls />
              </ReactFlow>
  // eslint-disable-next-line react-hooks/exhaustive-deps
  ), [nodes, edges, doc]);

  const sel = stages.find((s) => s.id === selected) ?? null;
  const errors = (validation?.errors.length ?? 0) + missing.length, warnings = validation?.warnings.length ?? 0;
  const title = String(doc.get(["workflow", "name"]) ?? doc.get(["workflow", "id"]) ?? "Untitled");
  return (
    <section className="builder">
      <div className="toolbar" role="toolbar" aria-label="Workflow">
        <h1>{title}</h1>
        <span className={`validity ${errors ? "bad" : "good"}`} role="status" aria-live="polite">
          {validation ? errors ? `${errors} error${errors > 1 ? "s" : ""}` : "valid" : ""}
          {warnings ? `, ${warnings} warning${warnings > 1 ? "s" : ""}` : ""}
          {checking ? `${validation ? " · " : ""}checking…` : ""}
        </span>
        {(doc.dirty || (draft !== null && draft !== text)) && <span className="muted">unsaved changes</span>}
        <span className="spacer" />
        <div className="segmented" role="group" aria-label="View">
          <button type="button" aria-pressed={view === "graph"} onClick={() => switchView("graph")}>Graph</button>
          <button type="button" aria-pressed={view === "yaml"} onClick={() => switchView("yaml")}>{doc.format.toUpperCase()}</button>
          <button type="button" aria-pressed={view === "plan"} onClick={() => switchView("plan")} disabled={!id}
            title={id ? "batches, agents, context and estimates" : "save the workflow first"}>Plan</button>
        </div>
        <button type="button" className="primary" onClick={save} disabled={saving} title="Ctrl+S">{id ? "Save" : "Create"}</button>
        <button type="button" onClick={() => setRunOpen(true)} disabled={!id || doc.dirty || errors > 0}
          title={!id ? "save the workflow first" : doc.dirty ? "save your changes first" : "start a run"}>Run</button>
        {id && <a className="button" href={`#/runs?workflow=${encodeURIComponent(String(doc.get(["workflow", "id"]) ?? id))}`}>Runs</a>}
      </div>
      {status && <div className={`statusline ${status.kind}`} role={status.kind === "error" ? "alert" : "status"}>{status.text}</div>}
      <div className="builder-body">
        <Picker artifacts={artifacts} modules={modules} selected={sel?.id ?? null}
          addStage={(t) => addStage(t)} assign={(ref) => sel && dropArtifact(sel.id, ref)} />
        <div className="canvas-wrap">
          {view === "graph" ? (
            <div className="canvas" onKeyDown={onCanvasKey} onDragOver={(e) => { if (e.dataTransfer.types.some((t) => t === STAGE_MIME || t === ARTIFACT_MIME)) e.preventDefault(); }}
              onDrop={onDrop} aria-label="Stage graph: drop stages and artifacts here">
              {flow}
              {stages.length === 0 && <div className="canvas-empty">Drag a stage from the palette, or an agent from the picker, onto the canvas.</div>}
            </div>
          ) : view === "yaml" ? <YamlView doc={doc} text={text} draft={draft ?? text} setDraft={setDraft} apply={() => {
            const why = applyDraft();
            setStatus(why ? { text: why, kind: "error" } : { text: "text applied", kind: "info" });
          }} />
            : <div className="plan-tab">
              {doc.dirty && <p className="statusline">This is the plan of the saved workflow: save to plan your changes.</p>}
              <PlanView state={planState} budgets={budgets} reuse={reuse} select={(sid) => { setSelected(sid); setView("graph"); }} />
            </div>}
          <DiagnosticsPanel diags={diags} select={(sid) => { if (!applyDraft()) { setSelected(sid); setView("graph"); } }} />
        </div>
        <aside className="side">
          {sel ? <StageEditor key={sel.index} doc={doc} stage={sel} stages={stages} diags={stageDiags(sel.id)}
              modules={modules} changed={changed} remove={() => removeStage(sel.id)} renamed={setSelected} />
            : <WorkflowEditor doc={doc} diags={diags.filter((d) => !d.stage_id)} modules={modules} changed={changed} />}
        </aside>
      </div>
      {runOpen && id && <RunDialog id={id} roles={rolesOf(doc)} params={paramsOf(doc)} artifacts={artifacts}
        start={run} close={() => setRunOpen(false)} />}
      <datalist id="artifact-refs">{artifacts.filter((a) => a.type !== "workflow").map((a) => <option key={a.ref} value={a.ref} />)}</datalist>
    </section>
  );
}

interface ParamDecl { name: string; type: string; default?: unknown; required: boolean }

function paramsOf(doc: WorkflowDoc): ParamDecl[] {
  const m = doc.get(["config", "parameters"]);
  if (!m || typeof m !== "object") return [];
  return Object.entries(m as Record<string, { type?: string; default?: unknown; required?: unknown } | null>).map(([name, p]) => ({
    name, type: String(p?.type ?? "string"), default: p?.default, required: p?.required === true || p?.required === "true",
  }));
}

/** Start a run: values for its parameters, an artifact for each role (filtered by what it accepts). */
function RunDialog({ id, roles, params, artifacts, start, close }: {
  id: string; roles: RoleDecl[]; params: ParamDecl[]; artifacts: Artifact[];
  start: (params: Record<string, unknown>, bindings: Record<string, string>) => Promise<void>; close: () => void;
}) {
  const [values, setValues] = useState<Record<string, string>>({});
  const [binds, setBinds] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const missing = roles.filter((r) => !r.default && !binds[r.name]).map((r) => r.name);
  const p: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) if (v !== "") p[k] = v;
  const b: Record<string, string> = {};
  for (const [k, v] of Object.entries(binds)) if (v) b[k] = v;
  // The preview follows the choices: a role rebound or a parameter typed plans again.
  const preview = usePlan(missing.length ? null : id, p, b);
  const submit = async () => {
    setBusy(true);
    await start(p, b);
    setBusy(false);
  };
  return (
    <Modal label="Run workflow" close={close}>
      <form onSubmit={(e) => { e.preventDefault(); void submit(); }}>
        <h2>Run</h2>
        {roles.length > 0 && <fieldset><legend>Roles</legend>
          {roles.map((r) => {
            const options = artifacts.filter((a) => !r.accepts.length || r.accepts.includes(a.type));
            return (
              <div className="field" key={r.name} data-role={r.name}>
                <label htmlFor={`bind-${r.name}`}>{r.name}{r.description ? ` — ${r.description}` : ""}</label>
                <select id={`bind-${r.name}`} value={binds[r.name] ?? ""} onChange={(e) => setBinds({ ...binds, [r.name]: e.target.value })}>
                  <option value="">{r.default ? `default: ${r.default}` : "— choose —"}</option>
                  {options.map((a) => <option key={a.ref} value={a.ref}>{a.ref}</option>)}
                </select>
                {options.length === 0 && <p className="muted">no {r.accepts.join(" or ") || ""} artifacts in the collection</p>}
              </div>);
          })}
        </fieldset>}
        {params.length > 0 && <fieldset><legend>Parameters</legend>
          {params.map((p) => (
            <div className="field" key={p.name}>
              <label htmlFor={`param-${p.name}`}>{p.name} <span className="muted">({p.type}{p.required ? ", required" : ""})</span></label>
              <input id={`param-${p.name}`} value={values[p.name] ?? ""} placeholder={p.default === undefined ? "" : JSON.stringify(p.default)}
                onChange={(e) => setValues({ ...values, [p.name]: e.target.value })} />
            </div>))}
        </fieldset>}
        {missing.length > 0 && <p className="error" role="alert">bind {missing.join(", ")}: {missing.length > 1 ? "these roles have" : "this role has"} no default</p>}
        <section className="plan-preview" aria-label="Plan preview">
          <h3>Plan</h3>
          {missing.length ? <p className="muted">bind every role to see the plan</p> : <PlanView state={preview} compact />}
        </section>
        <div className="actions">
          <button type="button" onClick={close}>Cancel</button>
          <button type="submit" className="primary" disabled={busy || missing.length > 0}>Start run</button>
        </div>
      </form>
    </Modal>
  );
}

function DiagnosticsPanel({ diags, select }: { diags: Diagnostic[]; select: (stage: string) => void }) {
  if (!diags.length) return null;
  return (
    <div className="diagnostics" aria-label="Diagnostics">
      <ul>{diags.map((d, i) => (
        <li key={i} className={d.severity}>
          {d.line > 0 && <span className="loc">{d.line}:{d.column}</span>}{" "}
          {d.stage_id ? <button type="button" className="link" onClick={() => select(d.stage_id!)}>{d.stage_id}{d.field ? `.${d.field}` : ""}</button>
            : d.field ? <code>{d.field}</code> : null} {d.message}
        </li>))}</ul>
    </div>
  );
}

function YamlView({ doc, text, draft, setDraft, apply }: {
  doc: WorkflowDoc; text: string; draft: string; setDraft: (t: string | null) => void; apply: () => void;
}) {
  const errs = useMemo(() => draft !== text ? new WorkflowDoc(draft).parseErrors : [], [draft, text]);
  return (
    <div className="yaml-view">
      <textarea aria-label={`Workflow as ${doc.format.toUpperCase()}`} spellCheck={false} value={draft}
        onChange={(e) => setDraft(e.target.value)} />
      <div className="yaml-actions">
        <button type="button" disabled={draft === text || errs.length > 0} onClick={apply}>Apply text</button>
        <button type="button" disabled={draft === text} onClick={() => setDraft(null)}>Revert</button>
        {errs.length > 0 && <Diags list={errs.map((m) => ({ severity: "error", line: 0, column: 0, category: "syntax", stage_id: null, field: null, message: m }))} />}
      </div>
    </div>
  );
}
