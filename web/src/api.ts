// The /api/v1 client. The token travels in the HttpOnly cookie that the
// server set when the page was opened with ?token=, so nothing here sees it.

export interface Diagnostic {
  severity: "error" | "warning";
  file?: string;
  line: number;
  column: number;
  category: string;
  stage_id: string | null;
  field: string | null;
  message: string;
}
export interface Validation { valid: boolean; errors: Diagnostic[]; warnings: Diagnostic[] }
/** Times are RFC 3339 UTC strings (docs/cli.md "JSON output"). */
export type Time = string;
export interface RunSummary { id: string; status: string; created_at: Time }
export interface WorkflowSummary {
  id: string; workflow_id?: string; name?: string; version?: string; description?: string;
  tags?: string[]; stage_count?: number; path: string; last_run: RunSummary | null;
}
export interface WorkflowDetail {
  id: string; path: string; definition: string; workflow: unknown; validation: Validation;
  /** The canonical SWDL text of a definition in the seed's short form (what the builder edits). */
  canonical?: string | null;
}
export interface Artifact { ref: string; type: string; name: string; path?: string; description?: string }
export interface PackManifest {
  budget: number; tokens: number;
  modules: { ref: string; tokens: number; included: boolean; reason: string | null }[];
  items: { id: string; type: string; confidence: number; status: string; tokens: number; via: string | null }[];
  excluded: { id?: string; ref?: string; reason: string }[];
}
export interface RunStage {
  stage_id: string; name: string; type: string; depends_on: string[]; status: string;
  attempt: number; started_at: Time | null; finished_at: Time | null;
  error_class: string | null; error: string | null; outputs: Record<string, unknown> | null;
  context: PackManifest | null;
  handoff: Handoff | null;
  items: unknown[] | null;          // a fan-out's item list, once it started
  item_states?: ItemState[];
  ready_at?: Time | null;           // retry_wait: when the next attempt is due
  reused_from?: string | null;      // a re-run's stage that took its record from that run
}
export interface ItemState {
  item: number; status: string; tries: number; attempt: number;
  error_class: string | null; error: string | null; outputs: Record<string, unknown> | null;
}
export interface Handoff {
  stage_id: string; status: string; attempt: number; format: string; summary: string | null;
  outputs: Record<string, unknown>; files_changed: { path: string; status: string }[]; files_source: string;
  usage: { input_tokens: number; output_tokens: number; usd: number };
  memory: { consumed: string[]; candidates: unknown[] };
  final_text?: string; run_log?: string; error?: { class: string; message: string | null };
}
export interface Binding { artifact: string; source: string; file?: string | null }
export interface Attempt {
  stage_id: string; attempt: number; item: number | null; status: string; runner: string; pid: number | null;
  started_at: Time | null; finished_at: Time | null; exit_code: number | null;
  error_class: string | null; error: string | null; model: string | null; usd: number;
  input_tokens: number; output_tokens: number;
}
export interface RunDetail {
  id: string; workflow_id: string; workflow_name: string; status: string; error: string | null;
  failed_stage_id?: string | null;
  created_at: Time; started_at: Time | null; finished_at: Time | null; usd: number;
  tokens: number; parameters: Record<string, unknown>; runner: string | null;
  manifest?: { bindings?: Record<string, Binding> };
  stages: RunStage[]; attempts: Attempt[];
  rerun_of?: string | null; reruns?: string[];
}
export interface RerunRequest {
  mode: "all" | "failed" | "from"; from?: string[]; reuse_unchanged?: boolean; dry_run?: boolean;
  parameters?: Record<string, unknown>; bindings?: Record<string, string>;
}
export interface RerunPlan {
  id?: string; status?: string; rerun_of: string;
  stages: { id: string; action: "reuse" | "run"; reason: string }[];
}
export interface PlanEstimate { input_tokens: number; output_tokens: number; model: string | null; price: string | null; usd: number | null }
export interface PlanStage {
  stage_id: string; name: string; stage_type: string; batch: number; depends_on: string[];
  primary_artifact: string | null; model: string | null; timeout: string | null; timeout_seconds?: number;
  role?: { name: string; artifact: string | null; source: string; file: string | null };
  context?: { pack: PackManifest | null; estimate: PlanEstimate | null };
  [k: string]: unknown;
}
export interface PlanBatchEstimate { index: number; input_tokens: number; output_tokens: number; usd: number; unpriced_stages: number }
export interface Plan {
  workflow_id: string; workflow_name: string; parameters: Record<string, unknown>;
  estimated_timeout_seconds: number; estimated_time: string;
  batches: { index: number; stages: PlanStage[] }[];
  roles?: { name: string; artifact: string | null; source: string; file: string | null }[];
  estimate?: { currency: string; batches: PlanBatchEstimate[]; total: Omit<PlanBatchEstimate, "index"> };
  budget?: { max_usd?: number; max_tokens?: number } | null;
  [k: string]: unknown;
}
/** A plan that did not validate: 422 with {valid: false, errors}. */
export interface PlanInvalid { valid: false; errors: Diagnostic[] }

export interface RunListItem {
  id: string; workflow_id: string; workflow_name?: string; status: string; created_at: Time;
  started_at: Time | null; finished_at: Time | null; usd?: number; tokens?: number; rerun_of?: string | null;
}

export class ApiError extends Error {
  constructor(public status: number, public code: string, message: string, public body: unknown) {
    super(message);
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`/api/v1${path}`, {
    method,
    credentials: "same-origin",
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let data: unknown = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!res.ok) {
    const err = (data as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(res.status, err?.code ?? "http", err?.message ?? `HTTP ${res.status}`, data);
  }
  return data as T;
}

const q = (o: Record<string, string | undefined>) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(o)) if (v) p.set(k, v);
  const s = p.toString();
  return s ? `?${s}` : "";
};
const enc = encodeURIComponent;

export const api = {
  workflows: (search?: string, tag?: string) =>
    call<{ items: WorkflowSummary[] }>("GET", `/workflows${q({ search, tag })}`),
  workflow: (id: string) => call<WorkflowDetail>("GET", `/workflows/${enc(id)}`),
  createWorkflow: (definition: string, name?: string) =>
    call<WorkflowDetail>("POST", "/workflows", { definition, name }),
  updateWorkflow: (id: string, definition: string) =>
    call<WorkflowDetail>("PUT", `/workflows/${enc(id)}`, { definition }),
  validate: (definition: string) => call<Validation>("POST", "/workflows/validate", { definition }),
  artifacts: () => call<{ items: Artifact[] }>("GET", "/artifacts"),
  contextModules: () => call<{ items: Artifact[] }>("GET", "/context-modules"),
  runs: (workflow?: string, status?: string) =>
    call<{ items: RunListItem[] }>("GET", `/workflow-executions${q({ workflow, status, limit: "200" })}`),
  run: (id: string) => call<RunDetail>("GET", `/workflow-executions/${enc(id)}`),
  startRun: (workflow_id: string, parameters: Record<string, unknown>, bindings: Record<string, string> = {}) =>
    call<{ id: string; status: string }>("POST", "/workflow-executions", { workflow_id, parameters, bindings }),
  plan: (id: string, parameters: Record<string, unknown> = {}, bindings: Record<string, string> = {}) =>
    call<Plan>("POST", `/workflows/${enc(id)}/plan`, { parameters, bindings }),
  rerun: (id: string, body: RerunRequest) =>
    call<RerunPlan>("POST", `/workflow-executions/${enc(id)}/rerun`, body),
  control: (id: string, action: "pause" | "resume" | "cancel") =>
    call<unknown>("POST", `/workflow-executions/${enc(id)}/${action}`),
  gate: (id: string, stage: string, decision: "approve" | "reject", reason?: string) =>
    call<unknown>("POST", `/workflow-executions/${enc(id)}/gates/${enc(stage)}/${decision}`, { reason }),
};

export const runStreamUrl = (id: string, after?: number) =>
  `/api/v1/workflow-executions/${enc(id)}/stream${after != null && after >= 0 ? `?after=${after}` : ""}`;
export const feedUrl = "/api/v1/workflow-executions/stream?runs_only=1";
