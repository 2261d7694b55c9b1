// Every SWDL stage field, bound to the document (docs/swdl.md §3).
import type { Artifact, Diagnostic } from "./api";
import { Bound, BoolField, ChecksField, Diags, ListField, MapTable, PairsField, SelectField, TextField } from "./fields";
import type { StageView, WorkflowDoc } from "./swdl";

const TYPES = ["string", "integer", "number", "boolean", "array", "object", "any"];
const MEMORY_TYPES = ["decision", "constraint", "gotcha", "style_rule", "learning", "preference", "fact"];

export function StageEditor({ doc, stage, stages, diags, modules, changed, remove, renamed }: {
  doc: WorkflowDoc; stage: StageView; stages: StageView[]; diags: Diagnostic[]; modules: Artifact[];
  changed: () => void; remove: () => void; renamed: (id: string) => void;
}) {
  const b: Bound = { doc, base: ["stages", stage.index], diags, changed };
  const t = stage.type;
  const general = diags.filter((d) => !d.field);
  return (
    <form className="editor" aria-label={`Stage ${stage.id}`} onSubmit={(e) => e.preventDefault()}>
      <div className="editor-head">
        <h2>Stage <code>{stage.id}</code></h2>
        <button type="button" className="danger small" onClick={remove}>Delete stage</button>
      </div>
      <Diags list={general} />
      <details open><summary>General</summary>
        <div className="field" data-field="id">
          <label htmlFor="stage-id">Id</label>
          <input id="stage-id" value={stage.id} onChange={(e) => { doc.renameStage(stage.id, e.target.value); renamed(e.target.value); }} />
          <Diags list={diags.filter((d) => d.field === "id")} />
        </div>
        <TextField b={b} k="name" label="Name" />
        <TextField b={b} k="description" label="Description" multiline />
        <SelectField b={b} k="type" label="Type" options={["agent", "gate", "fan_out", "command"]} />
        <ChecksField b={b} k="depends_on" label="Depends on" empty="no other stages"
          options={stages.filter((s) => s.id !== stage.id).map((s) => s.id)} />
        <TextField b={b} k="condition" label="Condition" placeholder="${{ parameters.deploy }}"
          hint="an expression; the stage is skipped when it is false" />
      </details>
      {(t === "agent" || t === "fan_out") && <details open><summary>Roles</summary>
        <TextField b={b} k="roles.primary.artifact" label="Primary agent or skill" list="artifact-refs"
          hint="drop an agent from the picker on the stage, type agent:NAME, or ${{ roles.NAME }} for a role bound at run time" />
        <TextField b={b} k="roles.primary.model" label="Model" placeholder="the runner's default" />
        <TextField b={b} k="roles.primary.instructions" label="Instructions" multiline />
        <ListField b={b} k="roles.tools" label="Tools" list="artifact-refs" />
      </details>}
      {t === "fan_out" && <details open><summary>Fan-out</summary>
        <TextField b={b} k="fan_out.items" label="Items" placeholder="${{ parameters.files }}"
          hint="an expression yielding a list; the stage runs once per item (${{ fan_out.item }}, ${{ fan_out.index }})" />
        <TextField b={b} k="fan_out.max_parallel" label="Items at once" numeric placeholder="the run's limit" />
        <SelectField b={b} k="fan_out.on_item_failure" label="On item failure" options={["fail_fast", "continue"]} />
        <TextField b={b} k="fan_out.max_items" label="Max items" numeric placeholder="1000" />
        <TextField b={b} k="run" label="Script (instead of an agent)" multiline
          hint="$SKILLMEAT_ITEM is the item as JSON, $SKILLMEAT_ITEM_INDEX its index" />
      </details>}
      {t === "command" && <details open><summary>Command</summary>
        <TextField b={b} k="run" label="Script" multiline hint="outputs: lines NAME=value appended to $SKILLMEAT_OUTPUT" />
        <TextField b={b} k="shell" label="Shell" placeholder="/bin/sh -e -c" />
        <TextField b={b} k="working_directory" label="Working directory" />
        <PairsField b={b} k="env" label="Environment" />
      </details>}
      {t === "gate" && <details open><summary>Gate</summary>
        <SelectField b={b} k="gate.kind" label="Kind" options={["manual_approval"]} />
        <ListField b={b} k="gate.approvers" label="Approvers" />
        <TextField b={b} k="gate.timeout" label="Timeout" placeholder="24h" />
        <SelectField b={b} k="gate.on_timeout" label="On timeout" options={["halt", "auto_approve", "reject"]} />
        <TextField b={b} k="gate.message" label="Message" multiline />
      </details>}
      <details open={Object.keys(stage.raw.inputs ?? {}).length > 0}><summary>Inputs</summary>
        <MapTable b={b} k="inputs" label="Inputs" addLabel="Add input" columns={[
          { key: "type", label: "type", options: TYPES }, { key: "source", label: "source" },
          { key: "required", label: "required", kind: "bool" }, { key: "description", label: "description" }]} />
      </details>
      <details open={Object.keys(stage.raw.outputs ?? {}).length > 0}><summary>Outputs</summary>
        <MapTable b={b} k="outputs" label="Outputs" addLabel="Add output" columns={[
          { key: "type", label: "type", options: TYPES }, { key: "required", label: "required", kind: "bool" },
          { key: "description", label: "description" }, { key: "default", label: "default" }]} />
      </details>
      <details><summary>Context</summary>
        <ChecksField b={b} k="context.modules" label="Context modules" empty="no context modules in the collection"
          options={modules.map((m) => m.ref)} />
        <TextField b={b} k="context.memory.project_scope" label="Memory: project scope" placeholder="current" />
        <TextField b={b} k="context.memory.min_confidence" label="Memory: min confidence" numeric placeholder="0.7" />
        <ListField b={b} k="context.memory.categories" label="Memory: categories" hint={`comma-separated; any of ${MEMORY_TYPES.join(", ")}`} />
        <TextField b={b} k="context.memory.max_tokens" label="Memory: max tokens" numeric placeholder="2000" />
      </details>
      <details><summary>Error policy</summary>
        <SelectField b={b} k="error_policy.on_failure" label="On failure" options={["halt", "continue", "skip_dependents"]} />
        <TextField b={b} k="error_policy.timeout" label="Timeout" placeholder={t === "gate" ? "24h" : "30m"} />
        <TextField b={b} k="error_policy.retry.max_attempts" label="Retry: max attempts" numeric placeholder="2" />
        <TextField b={b} k="error_policy.retry.initial_interval" label="Retry: initial interval" placeholder="30s" />
        <TextField b={b} k="error_policy.retry.backoff_multiplier" label="Retry: backoff multiplier" numeric placeholder="2.0" />
        <TextField b={b} k="error_policy.retry.max_interval" label="Retry: max interval" placeholder="5m" />
        <ListField b={b} k="error_policy.retry.non_retryable_errors" label="Retry: non-retryable errors" />
      </details>
      <details><summary>Handoff and budget</summary>
        <SelectField b={b} k="handoff.format" label="Handoff format" options={["structured", "markdown", "raw"]} />
        <BoolField b={b} k="handoff.include_run_log" label="Include the run log" />
        <TextField b={b} k="handoff.summary_prompt" label="Summary prompt" multiline />
        <TextField b={b} k="budget.max_usd" label="Budget: max USD" numeric />
        <TextField b={b} k="budget.max_tokens" label="Budget: max tokens" numeric />
        <TextField b={b} k="budget.max_turns" label="Budget: max turns" numeric />
      </details>
      <details><summary>Appearance</summary>
        <TextField b={b} k="ui.color" label="Colour" placeholder="#1f6feb" />
        <TextField b={b} k="ui.icon" label="Icon" />
      </details>
    </form>
  );
}

export function WorkflowEditor({ doc, diags, modules, changed }: {
  doc: WorkflowDoc; diags: Diagnostic[]; modules: Artifact[]; changed: () => void;
}) {
  const b: Bound = { doc, base: [], diags, changed };
  return (
    <form className="editor" aria-label="Workflow settings" onSubmit={(e) => e.preventDefault()}>
      <h2>Workflow</h2>
      <p className="muted">Select a stage on the canvas to edit it.</p>
      <TextField b={b} k="workflow.id" label="Id" />
      <TextField b={b} k="workflow.name" label="Name" />
      <TextField b={b} k="workflow.version" label="Version" />
      <TextField b={b} k="workflow.description" label="Description" multiline />
      <TextField b={b} k="workflow.author" label="Author" />
      <ListField b={b} k="workflow.tags" label="Tags" />
      <MapTable b={b} k="config.parameters" label="Parameters" addLabel="Add parameter" columns={[
        { key: "type", label: "type", options: TYPES }, { key: "default", label: "default" },
        { key: "required", label: "required", options: ["true", "false"] }, { key: "description", label: "description" }]} />
      <MapTable b={b} k="roles" label="Roles (bound at run time)" addLabel="Add role" newRow={{ accepts: ["agent"] }}
        columns={[{ key: "description", label: "description" }, { key: "default", label: "default" },
          { key: "accepts", label: "accepts", kind: "list" }]} />
      <TextField b={b} k="config.timeout" label="Run timeout" placeholder="2h" />
      <PairsField b={b} k="config.env" label="Environment" />
      <ChecksField b={b} k="context.global_modules" label="Context modules (every stage)"
        empty="no context modules in the collection" options={modules.map((m) => m.ref)} />
      <SelectField b={b} k="error_policy.on_stage_failure" label="On stage failure" options={["halt", "continue", "rollback"]} />
      <TextField b={b} k="error_policy.default_retry.max_attempts" label="Default retry: max attempts" numeric placeholder="2" />
      <TextField b={b} k="config.budget.max_usd" label="Run budget: max USD" numeric />
      <TextField b={b} k="config.budget.max_tokens" label="Run budget: max tokens" numeric />
    </form>
  );
}
