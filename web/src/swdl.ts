// A workflow text being edited. YAML is edited through the `yaml` package's
// Document (a concrete syntax tree), so an edit changes only the nodes it
// touches: the user's comments, key order and quoting stay as written.
// An unedited document saves back to its exact original text.
import { mergeFormatting } from "./merge";
import { Document, isMap, isScalar, isSeq, parseDocument, YAMLMap, YAMLSeq } from "yaml";

const FORMAT = { lineWidth: 0 } as const;

export type Path = (string | number)[];
export type StageType = "agent" | "gate" | "fan_out" | "command";

export interface StageView {
  index: number;
  id: string;
  name: string;
  type: StageType;
  depends_on: string[];
  artifact?: string;
  fanOutItems?: string;  // type: fan_out: the item expression
  position?: [number, number];
  raw: Record<string, unknown>;
}

export const NEW_WORKFLOW = `# A workflow made in the SkillMeat builder.
workflow:
  id: new-workflow
  name: New workflow
  version: "1.0.0"
stages: []
`;

export class WorkflowDoc {
  private doc: Document;
  private edited = false;
  private base?: string | null;  // the original as the yaml package writes it (see merge.ts)
  readonly format: "yaml" | "json";

  /** edited: the text is new to the server (typed in the YAML view), so it counts as a change. */
  constructor(readonly original: string, edited = false) {
    this.edited = edited;
    this.format = /^\s*\{/.test(original) ? "json" : "yaml";
    this.doc = parseDocument(original);
  }

  get dirty(): boolean { return this.edited; }
  get parseErrors(): string[] { return this.doc.errors.map((e) => e.message); }

  /** The text to save: the original when nothing was edited. */
  text(): string {
    if (!this.edited) return this.original;
    if (this.format === "json") return JSON.stringify(this.doc.toJS(), null, 2) + "\n";
    const edited = this.doc.toString(FORMAT);
    if (this.base === undefined) {
      const fresh = parseDocument(this.original);
      this.base = fresh.errors.length ? null : fresh.toString(FORMAT);
    }
    return this.base === null ? edited : mergeFormatting(this.original, this.base, edited);
  }

  get(path: Path): unknown {
    const v = this.doc.getIn(path, false);
    return v && typeof v === "object" && "toJSON" in v ? (v as { toJSON(): unknown }).toJSON() : v;
  }

  /** Set a value; undefined, "" and empty lists or maps remove the key. */
  set(path: Path, value: unknown): void {
    const empty = value === undefined || value === "" ||
      (Array.isArray(value) && value.length === 0 && path[path.length - 1] !== "stages") ||
      (value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 0);
    if (empty) {
      if (this.doc.hasIn(path)) this.doc.deleteIn(path);
      this.pruneEmpty(path.slice(0, -1));
    } else if (JSON.stringify(this.get(path)) !== JSON.stringify(value)) {
      const node = this.doc.getIn(path, true);
      if (isScalar(node) && (value === null || typeof value !== "object")) {
        node.value = value;  // in place: the node keeps its comment and quoting
        this.edited = true;
        return;
      }
      this.doc.setIn(path, this.doc.createNode(value, { flow: Array.isArray(value) && isShortList(value) }));
    } else {
      return;
    }
    this.edited = true;
  }

  // Removing a stage's last retry key should not leave `retry: {}` behind.
  private pruneEmpty(path: Path): void {
    while (path.length > 2 && path[0] === "stages") {
      const node = this.doc.getIn(path, true);
      if (!(isMap(node) && node.items.length === 0)) return;
      this.doc.deleteIn(path);
      path = path.slice(0, -1);
    }
  }

  stages(): StageView[] {
    const seq = this.doc.get("stages", true);
    if (!isSeq(seq)) return [];
    return seq.items.map((node, index) => {
      const raw = (isMap(node) ? node.toJSON() : {}) as Record<string, unknown>;
      const roles = raw.roles as { primary?: { artifact?: string } } | undefined;
      const pos = (raw.ui as { position?: unknown } | undefined)?.position;
      return {
        index,
        id: String(raw.id ?? ""),
        name: String(raw.name ?? raw.id ?? ""),
        type: (raw.type as StageType) ?? "agent",
        depends_on: Array.isArray(raw.depends_on) ? raw.depends_on.map(String) : [],
        artifact: roles?.primary?.artifact,
        fanOutItems: (raw.fan_out as { items?: unknown } | undefined)?.items as string | undefined,
        position: Array.isArray(pos) && pos.length === 2 ? [Number(pos[0]), Number(pos[1])] : undefined,
        raw,
      };
    });
  }

  stageIndex(id: string): number {
    return this.stages().findIndex((s) => s.id === id);
  }

  /** A fresh stage id: base, base-2, base-3… */
  freeId(base: string): string {
    const ids = new Set(this.stages().map((s) => s.id));
    if (!ids.has(base)) return base;
    for (let i = 2; ; i++) if (!ids.has(`${base}-${i}`)) return `${base}-${i}`;
  }

  addStage(stage: Record<string, unknown>): void {
    const seq = this.doc.get("stages", true);
    const node = this.doc.createNode(stage) as YAMLMap;
    const pos = node.get("ui", true);
    if (isMap(pos)) { pos.flow = true; const p = pos.get("position", true); if (isSeq(p)) p.flow = true; }
    if (isSeq(seq)) {
      if (seq.flow && seq.items.length === 0) seq.flow = false;  // `stages: []` grows into a block list
      seq.items.push(node);
    } else {
      this.doc.set("stages", new YAMLSeq());
      (this.doc.get("stages", true) as YAMLSeq).items.push(node);
    }
    this.edited = true;
  }

  /** Remove a stage and every dependency on it. */
  removeStage(id: string): void {
    const i = this.stageIndex(id);
    if (i < 0) return;
    this.doc.deleteIn(["stages", i]);
    for (const s of this.stages())
      if (s.depends_on.includes(id)) this.set(["stages", s.index, "depends_on"], s.depends_on.filter((d) => d !== id));
    this.edited = true;
  }

  /** Rename a stage, and the dependencies that name it. */
  renameStage(oldId: string, newId: string): void {
    const i = this.stageIndex(oldId);
    if (i < 0 || oldId === newId) return;
    this.set(["stages", i, "id"], newId);
    for (const s of this.stages())
      if (s.depends_on.includes(oldId))
        this.set(["stages", s.index, "depends_on"], s.depends_on.map((d) => (d === oldId ? newId : d)));
  }

  addDependency(target: string, source: string): boolean {
    const t = this.stages().find((s) => s.id === target);
    if (!t || target === source || t.depends_on.includes(source)) return false;
    this.set(["stages", t.index, "depends_on"], [...t.depends_on, source]);
    return true;
  }

  removeDependency(target: string, source: string): void {
    const t = this.stages().find((s) => s.id === target);
    if (t) this.set(["stages", t.index, "depends_on"], t.depends_on.filter((d) => d !== source));
  }
}

const isShortList = (v: unknown[]) =>
  v.every((x) => typeof x !== "object" || x === null) && JSON.stringify(v).length < 60;

export interface RoleDecl { name: string; description?: string; default?: string; accepts: string[] }

/** The workflow's declared roles (a bare string is the default). */
export function rolesOf(doc: WorkflowDoc): RoleDecl[] {
  const m = doc.get(["roles"]);
  if (!m || typeof m !== "object" || Array.isArray(m)) return [];
  return Object.entries(m as Record<string, unknown>).map(([name, v]) => {
    if (typeof v === "string") return { name, default: v, accepts: [] };
    const o = (v ?? {}) as { description?: unknown; default?: unknown; accepts?: unknown };
    return {
      name,
      description: typeof o.description === "string" ? o.description : undefined,
      default: typeof o.default === "string" ? o.default : undefined,
      accepts: Array.isArray(o.accepts) ? o.accepts.map(String) : [],
    };
  });
}

/** The stage type of an artifact reference dropped on the canvas, and where it goes. */
function artifactRole(ref: string): "primary" | "tool" | "context" {
  if (ref.startsWith("ctx:")) return "context";
  if (ref.startsWith("agent:") || ref.startsWith("skill:")) return "primary";
  return "tool";
}

/** Drop an artifact on a stage: an agent becomes its primary role (a skill too when it has none),
 * a context module joins its modules, anything else its tools. */
export function assignArtifact(doc: WorkflowDoc, stageId: string, ref: string): string {
  const s = doc.stages().find((x) => x.id === stageId);
  if (!s) return "no such stage";
  const base: Path = ["stages", s.index];
  let role = artifactRole(ref);
  if (role === "primary" && ref.startsWith("skill:") && s.artifact) role = "tool";
  if (role === "primary") {
    if (s.type === "gate" || s.type === "command") return `a ${s.type} stage has no agent`;
    doc.set([...base, "roles", "primary", "artifact"], ref);
    return `${ref} is the primary role of ${stageId}`;
  }
  const path: Path = role === "context" ? [...base, "context", "modules"] : [...base, "roles", "tools"];
  const list = (doc.get(path) as string[] | undefined) ?? [];
  if (!list.includes(ref)) doc.set(path, [...list, ref]);
  return `${ref} added to ${stageId}'s ${role === "context" ? "context modules" : "tools"}`;
}
