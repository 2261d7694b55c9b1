// The builder's check of a workflow's artifacts against the collection, as
// `workflow plan` and a run's start do: a stage's primary agent or skill,
// its tools and its context modules must be there. Role expressions are bound
// at run time and are not checked here.
import type { Artifact, Diagnostic } from "./api";
import type { StageView } from "./swdl";

const bare = (ref: string) => ref.trim().replace(/@.*$/, "");

function missing(ref: unknown, known: Set<string>): ref is string {
  return typeof ref === "string" && ref.includes(":") && !ref.includes("${{") && !known.has(bare(ref));
}

function message(ref: string, artifacts: Artifact[]): string {
  const type = ref.split(":")[0];
  const same = artifacts.filter((a) => a.ref.startsWith(`${type === "context" ? "ctx" : type}:`)).map((a) => a.ref);
  const name = bare(ref).split(":")[1] ?? "";
  const near = same.find((r) => r.split(":")[1]?.startsWith(name.slice(0, 3)));
  return `${ref} is not in the active collection` +
    (near ? `; did you mean ${near}?` : same.length ? ` (it has ${same.slice(0, 5).join(", ")}${same.length > 5 ? ", …" : ""})` : `, which has no ${type} artifacts`);
}

/** Errors for the artifacts the collection lacks, pinned to their stage and field. */
export function collectionDiags(stages: StageView[], artifacts: Artifact[], modules: Artifact[] = []): Diagnostic[] {
  const all = [...artifacts, ...modules];
  const known = new Set(all.map((a) => a.ref));
  const out: Diagnostic[] = [];
  const add = (stage: string, field: string, ref: string) => out.push({
    severity: "error", line: 0, column: 0, category: "collection", stage_id: stage, field, message: message(ref, all),
  });
  for (const s of stages) {
    const roles = s.raw.roles as { primary?: { artifact?: unknown }; tools?: unknown } | undefined;
    if (missing(roles?.primary?.artifact, known)) add(s.id, "roles.primary.artifact", roles!.primary!.artifact as string);
    if (Array.isArray(roles?.tools))
      roles!.tools.forEach((t, i) => { if (missing(t, known)) add(s.id, `roles.tools[${i}]`, t as string); });
    const ctx = (s.raw.context as { modules?: unknown } | undefined)?.modules;
    if (Array.isArray(ctx))
      ctx.forEach((m, i) => { if (missing(m, known)) add(s.id, `context.modules[${i}]`, m as string); });
  }
  return out;
}
