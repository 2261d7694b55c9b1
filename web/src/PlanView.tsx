// The plan of a stored workflow before it runs (POST /workflows/{id}/plan):
// batches as the graph draws them, each stage's agent and where its binding
// came from, its context pack (modules and memory items with their tokens),
// the estimated tokens, cost and time, the budgets, and which stages a
// re-run of the last run would reuse. Used by the builder's Plan tab and the
// Run dialog's preview.
import { ReactNode, useEffect, useState } from "react";
import { api, ApiError, Diagnostic, Plan, PlanStage, RerunPlan } from "./api";
import { errorText, fmtDuration, fmtUsd } from "./util";

export interface PlanState { plan: Plan | null; diags: Diagnostic[]; error: string | null; loading: boolean }

/** The plan for these parameters and bindings, asked again (debounced) when they change. */
export function usePlan(id: string | null, params: Record<string, unknown>, bindings: Record<string, string>, version = 0): PlanState {
  const [state, setState] = useState<PlanState>({ plan: null, diags: [], error: null, loading: true });
  const key = JSON.stringify([params, bindings]);
  useEffect(() => {
    if (!id) return;
    let current = true;
    setState((s) => ({ ...s, loading: true }));
    const t = setTimeout(() => api.plan(id, params, bindings).then(
      (plan) => { if (current) setState({ plan, diags: [], error: null, loading: false }); },
      (e) => {
        if (!current) return;
        const body = e instanceof ApiError ? e.body as { errors?: Diagnostic[] } | null : null;
        if (body?.errors) setState({ plan: null, diags: body.errors, error: null, loading: false });
        else setState({ plan: null, diags: [], error: errorText(e), loading: false });
      }), 250);
    return () => { current = false; clearTimeout(t); };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id, key, version]);
  return state;
}

/** What a re-run of `runId` would reuse now (memoized: unchanged stages), or why it would not. */
export function useReuse(runId: string | null, version = 0): { plan: RerunPlan | null; note: string | null } {
  const [out, setOut] = useState<{ plan: RerunPlan | null; note: string | null }>({ plan: null, note: null });
  useEffect(() => {
    if (!runId) { setOut({ plan: null, note: null }); return; }
    let current = true;
    api.rerun(runId, { mode: "all", reuse_unchanged: true, dry_run: true }).then(
      (plan) => { if (current) setOut({ plan, note: null }); },
      (e) => { if (current) setOut({ plan: null, note: errorText(e) }); });
    return () => { current = false; };
  }, [runId, version]);
  return out;
}

export interface Budgets { workflow: Record<string, unknown> | null; stages: Record<string, Record<string, unknown> | null> }

const fmtTokens = (n: number | undefined) => (n == null ? "—" : n >= 10000 ? `${(n / 1000).toFixed(1)}k` : String(n));
const budgetText = (b: Record<string, unknown> | null | undefined) => !b ? "—"
  : Object.entries(b).map(([k, v]) => `${k.replace(/^max_/, "")} ${k.endsWith("usd") ? `$${v}` : String(v)}`).join(", ") || "—";

export function PlanView({ state, budgets, reuse, select, compact = false }: {
  state: PlanState; budgets?: Budgets; reuse?: { plan: RerunPlan | null; note: string | null };
  select?: (stage: string) => void; compact?: boolean;
}) {
  const { plan, diags, error, loading } = state;
  const stageLink = (sid: string) => select
    ? <button type="button" className="link" onClick={() => select(sid)}>{sid}</button> : <code>{sid}</code>;
  if (error) return <div className="plan" aria-label="Plan"><p className="error" role="alert">cannot plan: {error}</p></div>;
  if (diags.length) return (
    <div className="plan" aria-label="Plan">
      <p className="error" role="alert">The workflow cannot be planned: {diags.length} error{diags.length > 1 ? "s" : ""}.</p>
      <ul className="plain">{diags.map((d, i) => <li key={i} className={d.severity}>
        {d.stage_id ? stageLink(d.stage_id) : null}{d.field ? <code>.{d.field}</code> : null} {d.message}</li>)}</ul>
    </div>);
  if (!plan) return <div className="plan" aria-label="Plan"><p className="muted">{loading ? "planning…" : "no plan"}</p></div>;
  const total = plan.estimate?.total;
  const nrStages = plan.batches.reduce((n, b) => n + b.stages.length, 0);
  const reused = new Map((reuse?.plan?.stages ?? []).map((s) => [s.id, s]));
  return (
    <div className="plan" aria-label="Plan" aria-busy={loading}>
      <dl className="totals" aria-label="Plan totals">
        <div><dt>Stages</dt><dd>{nrStages} in {plan.batches.length} batch{plan.batches.length === 1 ? "" : "es"}</dd></div>
        <div><dt>Estimated tokens</dt><dd data-total="tokens">{fmtTokens(total?.input_tokens)} in · {fmtTokens(total?.output_tokens)} out</dd></div>
        <div><dt>Estimated cost</dt><dd data-total="usd">{total ? fmtUsd(total.usd) : "—"}{total?.unpriced_stages ? ` + ${total.unpriced_stages} unpriced` : ""}</dd></div>
        <div><dt>Time, at most</dt><dd data-total="time">{plan.estimated_time ?? fmtDuration(plan.estimated_timeout_seconds)}</dd></div>
        {budgets && <div><dt>Workflow budget</dt><dd>{budgetText(budgets.workflow)}</dd></div>}
        {loading && <div><dt>&nbsp;</dt><dd className="muted">updating…</dd></div>}
      </dl>
      {reuse && (reuse.plan || reuse.note) && <p className="muted" data-reuse>
        {reuse.plan ? <>A re-run of the last run (<a href={`#/runs/${encodeURIComponent(reuse.plan.rerun_of)}`}><code>{reuse.plan.rerun_of}</code></a>) with
          unchanged stages reused would reuse {reuse.plan.stages.filter((s) => s.action === "reuse").length} of {reuse.plan.stages.length} stages.</>
          : <>Re-run of the last run: {reuse.note}</>}</p>}
      <table className="grid compact">
        <thead><tr><th>Stage</th><th>Agent (binding)</th><th>Context</th><th>Est. tokens in/out</th><th>Est. cost</th><th>Time</th>
          {!compact && <th>Budget</th>}{reuse?.plan && <th>Re-run</th>}</tr></thead>
        {plan.batches.map((b) => {
          const be = plan.estimate?.batches.find((x) => x.index === b.index);
          return (
            <tbody key={b.index} data-batch={b.index}>
              <tr className="batch-head"><td colSpan={compact ? 6 : 7 + (reuse?.plan ? 1 : 0)}>
                Batch {b.index + 1}: {b.stages.map((s) => s.stage_id).join(", ")}
                {be ? <span className="muted"> · {fmtTokens(be.input_tokens + be.output_tokens)} tokens · {fmtUsd(be.usd)}</span> : null}</td></tr>
              {b.stages.map((s) => <StageRow key={s.stage_id} s={s} link={stageLink(s.stage_id)} compact={compact}
                budget={budgets?.stages[s.stage_id]} reuse={reuse?.plan ? reused.get(s.stage_id) ?? null : undefined} />)}
            </tbody>);
        })}
      </table>
    </div>
  );
}

function StageRow({ s, link, compact, budget, reuse }: {
  s: PlanStage; link: ReactNode; compact: boolean; budget?: Record<string, unknown> | null;
  reuse?: { action: string; reason: string } | null;
}) {
  const est = s.context?.estimate ?? null;
  const pack = s.context?.pack ?? null;
  const agent = s.stage_type === "gate" ? "gate" : s.stage_type === "command" || (!s.primary_artifact && s.stage_type !== "agent") ? "command" : s.primary_artifact ?? "—";
  return (
    <tr data-stage={s.stage_id}>
      <td>{link}<div className="muted">{s.stage_type}</div></td>
      <td><code>{agent}</code>{s.model ? <span className="muted"> · {s.model}</span> : null}
        {s.role && <div className="muted" data-binding={s.role.name}>role {s.role.name} ← {s.role.source}{s.role.file ? ` ${s.role.file}` : ""}</div>}</td>
      <td>{!pack ? <span className="muted">none</span> : <>
        <div>{pack.tokens} / {pack.budget} tokens</div>
        {!compact && <ul className="plain">
          {pack.modules.map((m) => <li key={m.ref}>{m.included ? "✓" : "✕"} <code>{m.ref}</code> {m.tokens}{m.reason ? ` (${m.reason})` : ""}</li>)}
          {pack.items.map((i) => <li key={i.id}>✓ {i.type} <code>{i.id.slice(0, 8)}</code> {i.tokens}</li>)}
        </ul>}
        {compact && <div className="muted">{pack.modules.filter((m) => m.included).length} modules, {pack.items.length} memory items</div>}</>}</td>
      <td>{est ? `${fmtTokens(est.input_tokens)} / ${fmtTokens(est.output_tokens)}` : "—"}</td>
      <td>{!est ? "—" : est.usd == null ? <span className="muted">unpriced</span> : fmtUsd(est.usd)}</td>
      <td>{s.timeout ? `≤ ${s.timeout}` : "—"}</td>
      {!compact && <td>{budgetText(budget)}</td>}
      {reuse !== undefined && <td data-reuse={reuse?.action ?? "run"}>{reuse ? <><strong>{reuse.action}</strong> <span className="muted">{reuse.reason}</span></> : "run"}</td>}
    </tr>
  );
}
