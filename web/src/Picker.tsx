// The palette (new stages) and the artifact picker. Everything here can be
// dragged onto the canvas or a stage, or used with the keyboard: the buttons
// add a stage, or give the selected stage the artifact.
import { useState } from "react";
import type { Artifact } from "./api";
import { ARTIFACT_MIME, STAGE_MIME } from "./Canvas";
import type { StageType } from "./swdl";

const PALETTE: { type: StageType; label: string; hint: string }[] = [
  { type: "agent", label: "Agent stage", hint: "an agent or skill does the work" },
  { type: "command", label: "Command stage", hint: "a shell script" },
  { type: "gate", label: "Approval gate", hint: "waits for a person" },
  { type: "fan_out", label: "Fan-out", hint: "one agent per item" },
];

const GROUPS: { label: string; match: (a: Artifact) => boolean }[] = [
  { label: "Agents", match: (a) => a.type === "agent" },
  { label: "Skills", match: (a) => a.type === "skill" },
  { label: "Context modules", match: (a) => a.type === "context" || a.ref.startsWith("ctx:") },
  { label: "Other", match: (a) => !["agent", "skill", "context", "workflow"].includes(a.type) && !a.ref.startsWith("ctx:") },
];

export function Picker({ artifacts, modules, selected, addStage, assign }: {
  artifacts: Artifact[]; modules: Artifact[]; selected: string | null;
  addStage: (t: StageType) => void; assign: (ref: string) => void;
}) {
  const [filter, setFilter] = useState("");
  const all = [...artifacts, ...modules.filter((m) => !artifacts.some((a) => a.ref === m.ref))];
  const shown = all.filter((a) => a.ref.toLowerCase().includes(filter.toLowerCase()));
  return (
    <aside className="picker" aria-label="Palette and artifacts">
      <h2>Stages</h2>
      <ul className="palette">
        {PALETTE.map((p) => (
          <li key={p.type}>
            <button type="button" draggable className="palette-item" data-stage-type={p.type} title={`${p.hint}; drag onto the canvas or press to add`}
              onDragStart={(e) => { e.dataTransfer.setData(STAGE_MIME, p.type); e.dataTransfer.effectAllowed = "copy"; }}
              onClick={() => addStage(p.type)}>{p.label}</button>
          </li>))}
      </ul>
      <h2>Artifacts</h2>
      <input type="search" aria-label="Filter artifacts" placeholder="filter" value={filter} onChange={(e) => setFilter(e.target.value)} />
      {GROUPS.map((g) => {
        const items = shown.filter(g.match);
        if (!items.length) return null;
        return (
          <div key={g.label} className="artifact-group">
            <h3>{g.label}</h3>
            <ul>{items.map((a) => (
              <li key={a.ref} className="artifact" draggable data-ref={a.ref} title={a.path}
                onDragStart={(e) => { e.dataTransfer.setData(ARTIFACT_MIME, a.ref); e.dataTransfer.effectAllowed = "copy"; }}>
                <span className="artifact-name">{a.name}</span>
                <button type="button" className="small" disabled={!selected}
                  aria-label={selected ? `use ${a.ref} in stage ${selected}` : `select a stage to use ${a.ref}`}
                  onClick={() => assign(a.ref)}>use</button>
              </li>))}</ul>
          </div>);
      })}
      {all.length === 0 && <p className="muted">No artifacts in the collection yet: put agents in <code>agents/NAME.md</code>.</p>}
    </aside>
  );
}
