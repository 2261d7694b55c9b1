// One run: header with controls, waiting gates, the timeline of attempts,
// the graph coloured by status, and per stage its live log, the context it
// consumed, its outputs and its attempts. The event stream replays from
// the start, so the log is complete whenever the page is opened.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { api, ApiError, RerunRequest, RunDetail, runStreamUrl, RunStage } from "./api";
import { go } from "./route";
import { StaticGraph } from "./Canvas";
import type { StageView } from "./swdl";
import { errorText, fmtDuration, fmtTime, fmtUsd, secs, StatusBadge } from "./util";

interface LogLine { seq: number; stage: string; stream: string; text: string; ts: number; raw: boolean }
interface StreamEvent { seq: number; type: string; stage_id?: string | null; message?: string; text?: string; stream?: string; ts: number; [k: string]: unknown }

const ENDED = new Set(["completed", "failed", "cancelled"]);
const MAX_LINES = 20000;

export function RunPage({ id }: { id: string }) {
  const [run, setRun] = useState<RunDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [logs, setLogs] = useState<LogLine[]>([]);
  const [events, setEvents] = useState<StreamEvent[]>([]);
  const [live, setLive] = useState(false);
  const [stage, setStage] = useState<string | null>(null);
  const [now, setNow] = useState(Date.now() / 1000);
  const refresh = useRef<() => void>(() => undefined);

  const load = useCallback(() => api.run(id).then((r) => { setRun(r); setError(null); }, (e) => setError(errorText(e))), [id]);
  useEffect(() => {
    let t: ReturnType<typeof setTimeout> | undefined;
    refresh.current = () => { clearTimeout(t); t = setTimeout(load, 150); };
    void load();
    return () => clearTimeout(t);
  }, [load]);

  // The stream; when it closes for good (the server restarted, or its token changed), a new
  // one resumes after the last event seen, once the API answers again.
  const [authLost, setAuthLost] = useState(false);
  useEffect(() => {
    const batch: LogLine[] = [];
    let flush: ReturnType<typeof setTimeout> | undefined, retry: ReturnType<typeof setTimeout> | undefined;
    let es: EventSource | null = null, lastSeq = -1, delay = 1000, done = false;
    const seen = (e: StreamEvent) => { if (e.seq > lastSeq) { lastSeq = e.seq; return true; } return false; };
    const onLog = (m: Event) => {
      const e = JSON.parse((m as MessageEvent).data) as StreamEvent;
      if (!seen(e)) return;
      batch.push({ seq: e.seq, stage: e.stage_id ?? "", stream: e.stream ?? "", text: e.message ?? e.text ?? "", ts: e.ts, raw: e.type !== "log" });
      if (!flush) flush = setTimeout(() => {
        flush = undefined;
        const add = batch.splice(0);
        setLogs((l) => (l.length + add.length > MAX_LINES ? [...l, ...add].slice(-MAX_LINES) : [...l, ...add]));
      }, 100);
    };
    const other = (m: Event) => {
      const e = JSON.parse((m as MessageEvent).data) as StreamEvent;
      if (!seen(e)) return;
      setEvents((list) => [...list, e]);
      refresh.current();
    };
    const reconnect = () => {
      es?.close();
      es = null;
      setLive(false);
      if (done) return;
      retry = setTimeout(() => {
        api.run(id).then(() => { setAuthLost(false); delay = 1000; connect(); }, (e) => {
          if (e instanceof ApiError && e.status === 401) setAuthLost(true);
          delay = Math.min(delay * 2, 10000);
          reconnect();
        });
      }, delay);
    };
    const connect = () => {
      es = new EventSource(runStreamUrl(id, lastSeq));
      es.onopen = () => { setLive(true); refresh.current(); };
      es.addEventListener("log_line", onLog);
      for (const type of ["run_started", "stage_started", "stage_completed", "stage_failed", "stage_skipped",
        "stage_retrying", "stage_waiting_for_approval", "gate_approved", "gate_rejected", "gate_timed_out",
        "context_consumed", "budget_exceeded", "hook_ran", "run_paused", "run_resumed", "run_completed",
        "run_failed", "run_cancelled", "run_unpaused", "run_cancel_requested", "stage_killing", "gate_timeout",
        "item_started", "item_completed", "item_failed", "stage_adopted", "condition_error", "stage_reused"])
        es.addEventListener(type, other);
      es.addEventListener("execution_completed", () => { done = true; es?.close(); setLive(false); refresh.current(); });
      // EventSource retries by itself after a dropped connection; a refusal closes it for good.
      es.onerror = () => { setLive(false); if (es?.readyState === EventSource.CLOSED) reconnect(); };
    };
    connect();
    return () => { done = true; clearTimeout(flush); clearTimeout(retry); es?.close(); };
  }, [id]);

  const ended = run ? ENDED.has(run.status) : false;
  useEffect(() => {
    if (ended) return;
    const t = setInterval(() => setNow(Date.now() / 1000), 1000);
    return () => clearInterval(t);
  }, [ended]);

  const views: StageView[] = useMemo(() => (run?.stages ?? []).map((s, index) => ({
    index, id: s.stage_id, name: s.name, type: s.type as StageView["type"], depends_on: s.depends_on, raw: {},
    fanOutItems: s.type !== "fan_out" ? undefined : s.items ? `${s.items.length} item${s.items.length === 1 ? "" : "s"}` : "items known when it starts",
  })), [run]);
  const statusOf = useCallback((sid: string) => run?.stages.find((s) => s.stage_id === sid)?.status, [run]);

  if (error && !run) return <section className="page"><p className="error" role="alert">{error}</p></section>;
  if (!run) return <section className="page"><p>Loading…</p></section>;
  const waiting = run.stages.filter((s) => s.status === "waiting_for_approval");
  const current = run.stages.find((s) => s.stage_id === stage) ?? null;
  return (
    <section className="page run-page">
      <div className="page-head">
        <h1>{run.workflow_name} <StatusBadge status={run.status} /></h1>
        <span className={`live ${live ? "on" : ""}`} aria-live="polite">{live ? "● live" : ended ? "ended" : "reconnecting…"}</span>
        <Controls run={run} after={refresh.current} />
        <Rerun run={run} />
      </div>
      {authLost && <p className="error" role="alert">The server no longer accepts this page's access token (it was
        restarted?): open the address <code>skillmeat web</code> printed, with its <code>?token=</code>; this page
        reconnects by itself once it is accepted.</p>}
      <Headline run={run} now={now} select={setStage} />
      <dl className="facts">
        <div><dt>Run</dt><dd><code>{run.id}</code></dd></div>
        <div><dt>Started</dt><dd>{fmtTime(run.started_at ?? run.created_at)}</dd></div>
        <div><dt>Duration</dt><dd>{fmtDuration(run.started_at ? (secs(run.finished_at) ?? now) - secs(run.started_at)! : null)}</dd></div>
        <div><dt>Cost</dt><dd>{fmtUsd(run.usd)}</dd></div>
        <div><dt>Tokens</dt><dd>{run.tokens}</dd></div>
        <div><dt>Runner</dt><dd>{run.runner ?? "default"}</dd></div>
        {run.rerun_of && <div data-lineage="rerun-of"><dt>Re-run of</dt><dd><a href={`#/runs/${encodeURIComponent(run.rerun_of)}`}><code>{run.rerun_of}</code></a></dd></div>}
        {(run.reruns ?? []).length > 0 && <div data-lineage="reruns"><dt>Re-run by</dt><dd>{run.reruns!.map((r, i) =>
          <span key={r}>{i ? ", " : ""}<a href={`#/runs/${encodeURIComponent(r)}`}><code>{r}</code></a></span>)}</dd></div>}
        {Object.entries(run.manifest?.bindings ?? {}).map(([role, b]) => (
          <div key={role} data-role={role}><dt>Role {role}</dt><dd><code>{b.artifact}</code> <span className="muted">({b.source}{b.file ? ` ${b.file}` : ""})</span></dd></div>))}
      </dl>
      {waiting.map((s) => <GateBanner key={s.stage_id} run={run} stage={s} events={events} after={refresh.current} />)}
      <h2>Timeline</h2>
      <Timeline run={run} now={now} select={setStage} selected={stage} />
      <h2>Stages</h2>
      <StaticGraph stages={views} status={statusOf} />
      <div className="stage-tabs" role="tablist" aria-label="Stage">
        <button type="button" role="tab" aria-selected={stage === null} onClick={() => setStage(null)}>all logs</button>
        {run.stages.map((s) => <button type="button" role="tab" key={s.stage_id} aria-selected={stage === s.stage_id}
          onClick={() => setStage(s.stage_id)}>{s.stage_id} <StatusBadge status={s.status} /></button>)}
      </div>
      {current && <StageDetail run={run} stage={current} />}
      <h3>Log{current ? ` of ${current.stage_id}` : ""}</h3>
      <LogView lines={stage ? logs.filter((l) => l.stage === stage) : logs} showStage={!stage} />
    </section>
  );
}

function Controls({ run, after }: { run: RunDetail; after: () => void }) {
  const [err, setErr] = useState<string | null>(null);
  const act = (a: "pause" | "resume" | "cancel") => api.control(run.id, a).then(() => { setErr(null); after(); }, (e) => setErr(errorText(e)));
  if (ENDED.has(run.status)) return null;
  return (
    <div className="controls">
      {run.status === "paused"
        ? <button type="button" onClick={() => act("resume")}>Resume</button>
        : <button type="button" onClick={() => act("pause")}>Pause</button>}
      <button type="button" className="danger" onClick={() => { if (confirm("Cancel this run?")) void act("cancel"); }}>Cancel</button>
      {err && <span className="error" role="alert">{err}</span>}
    </div>
  );
}

/** "Re-run failed" and "Re-run all" once the run has ended; the new run opens. */
function Rerun({ run }: { run: RunDetail }) {
  const [err, setErr] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (!ENDED.has(run.status)) return null;
  const failed = run.stages.some((s) => s.status !== "completed" && s.status !== "reused");
  const go_ = (body: RerunRequest) => {
    setBusy(true);
    void rerun(run.id, body).then((e) => { setErr(e); setBusy(false); });
  };
  return (
    <div className="controls">
      {failed && <button type="button" className="primary" disabled={busy} onClick={() => go_({ mode: "failed" })}>Re-run failed</button>}
      <button type="button" disabled={busy} onClick={() => go_({ mode: "all" })}>Re-run all</button>
      {err && <span className="error" role="alert">{err}</span>}
    </div>
  );
}

/** Start a re-run and open it; the reason of a refusal otherwise. */
const rerun = (id: string, body: RerunRequest) => api.rerun(id, body).then((r) => {
  go(`#/runs/${encodeURIComponent(r.id!)}`);
  return null;
}, (e) => `cannot re-run: ${errorText(e)}`);

/** What went wrong, where, and when the next try is due: the first thing on the page. */
function Headline({ run, now, select }: { run: RunDetail; now: number; select: (s: string) => void }) {
  const link = (s: RunStage) => <button type="button" className="link" onClick={() => select(s.stage_id)}>{s.stage_id}</button>;
  const retrying = run.stages.filter((s) => s.status === "retry_wait");
  if (run.status === "failed" || run.status === "cancelled") {
    const s = run.stages.find((x) => x.stage_id === run.error && x.error_class)
      ?? run.stages.find((x) => x.status === "failed");
    if (!s) return run.error ? <p className="headline error" role="alert">{run.status === "failed" ? "Failed" : "Cancelled"}: {run.error === "workflow_timeout" ? "the run went past its workflow timeout (config.timeout)" : run.error}</p> : null;
    return <p className="headline error" role="alert">{run.status === "failed" ? "Failed" : "Cancelled"} at stage {link(s)}
      {s.error_class ? <> (<code>{s.error_class}</code>{s.attempt > 1 ? `, after ${s.attempt} attempts` : ""})</> : null}{s.error ? <>: {s.error}</> : null}</p>;
  }
  if (!retrying.length) return null;
  return <>{retrying.map((s) => (
    <p key={s.stage_id} className="headline warn" role="status" data-retry={s.stage_id}>Stage {link(s)} failed
      {s.error_class ? <> (<code>{s.error_class}</code>)</> : null}{s.error ? <>: {s.error}</> : null}; attempt {s.attempt + 1} in{" "}
      <span className="countdown">{fmtDuration(Math.max(0, (secs(s.ready_at) ?? now) - now))}</span></p>))}</>;
}

function GateBanner({ run, stage, events, after }: { run: RunDetail; stage: RunStage; events: StreamEvent[]; after: () => void }) {
  const [reason, setReason] = useState("");
  const [err, setErr] = useState<string | null>(null);
  const ev = [...events].reverse().find((e) => e.type === "stage_waiting_for_approval" && e.stage_id === stage.stage_id);
  const decide = (d: "approve" | "reject") => api.gate(run.id, stage.stage_id, d, reason || undefined)
    .then(() => { setErr(null); after(); }, (e) => setErr(errorText(e)));
  return (
    <div className="gate-banner" role="region" aria-label={`Gate ${stage.stage_id}`}>
      <strong>{stage.name}</strong> waits for approval{ev?.message ? <>: <q>{String(ev.message)}</q></> : "."}
      {Array.isArray(ev?.approvers) && (ev!.approvers as string[]).length > 0 && <span className="muted"> (approvers: {(ev!.approvers as string[]).join(", ")})</span>}
      <div className="gate-actions">
        <input aria-label="Reason" placeholder="reason (optional)" value={reason} onChange={(e) => setReason(e.target.value)} />
        <button type="button" className="primary" onClick={() => decide("approve")}>Approve</button>
        <button type="button" className="danger" onClick={() => decide("reject")}>Reject</button>
        {err && <span className="error" role="alert">{err}</span>}
      </div>
    </div>
  );
}

/** A Gantt chart: a row a stage, a bar an attempt, from the run's start. */
function Timeline({ run, now, select, selected }: { run: RunDetail; now: number; select: (s: string) => void; selected: string | null }) {
  const t0 = secs(run.started_at) ?? secs(run.created_at) ?? now;
  const end = Math.max(secs(run.finished_at) ?? now, ...run.attempts.map((a) => secs(a.finished_at) ?? now), t0 + 1);
  const span = end - t0;
  const pct = (t: number) => `${(100 * (t - t0)) / span}%`;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => ({ f, label: fmtDuration(f * span) }));
  return (
    <div className="timeline" role="table" aria-label="Timeline of stage attempts">
      <div className="tl-row tl-axis" role="row"><div className="tl-label" role="rowheader" />
        <div className="tl-track">{ticks.map((t) => <span key={t.f} style={{ left: `${t.f * 100}%` }}>{t.label}</span>)}</div></div>
      {run.stages.flatMap((s) => rowsOf(s).map((row) => {
        const attempts = run.attempts.filter((a) => a.stage_id === s.stage_id && (row.item === null || a.item === row.item));
        const gate = s.type === "gate" && s.started_at == null && s.status !== "pending";
        return (
          <div key={row.key} className={`tl-row${selected === s.stage_id ? " selected" : ""}${row.item !== null ? " tl-item" : ""}`}
            role="row" data-stage={s.stage_id} data-item={row.item ?? undefined}>
            <div className="tl-label" role="rowheader">
              <button type="button" className="link" onClick={() => select(s.stage_id)}>{row.label}</button> <StatusBadge status={row.status} />
            </div>
            <div className="tl-track" role="cell">
              {attempts.map((a) => {
                const st = secs(a.started_at) ?? t0, fin = secs(a.finished_at) ?? now;
                return <div key={a.attempt} className={`tl-bar status-${a.status}`} data-attempt={a.attempt}
                  style={{ left: pct(st), width: `max(3px, ${(100 * (fin - st)) / span}%)` }}
                  title={`${row.label} #${a.attempt} ${a.status} ${fmtDuration(fin - st)}${a.model ? ` ${a.model}` : ""}`} />;
              })}
              {gate && <div className={`tl-gate status-${s.status}`} style={{ left: pct(secs(s.finished_at) ?? now) }} title={`gate ${s.status}`} />}
            </div>
          </div>);
      }))}
    </div>
  );
}

/** A stage's timeline rows: itself, or one row per item of a fan-out that has started. */
function rowsOf(s: RunStage): { key: string; label: string; status: string; item: number | null }[] {
  if (!s.item_states?.length) return [{ key: s.stage_id, label: s.stage_id, status: s.status, item: null }];
  return s.item_states.map((it) => ({ key: `${s.stage_id}[${it.item}]`, label: `${s.stage_id}[${it.item}]`, status: it.status, item: it.item }));
}

function StageDetail({ run, stage }: { run: RunDetail; stage: RunStage }) {
  const attempts = run.attempts.filter((a) => a.stage_id === stage.stage_id);
  const ctx = stage.context;
  const [err, setErr] = useState<string | null>(null);
  return (<>
    <div className="stage-actions">
      {stage.reused_from && <p data-reused-from={stage.reused_from}>Reused from run <a href={`#/runs/${encodeURIComponent(stage.reused_from)}`}><code>{stage.reused_from}</code></a>: not run again, no cost.</p>}
      {ENDED.has(run.status) && <button type="button" onClick={() => void rerun(run.id, { mode: "from", from: [stage.stage_id] }).then(setErr)}>Re-run from here</button>}
      {err && <span className="error" role="alert">{err}</span>}
    </div>
    <div className="stage-detail">
      <section aria-label="Attempts">
        <h3>Attempts</h3>
        {attempts.length === 0 ? <p className="muted">none</p> : (
          <table className="grid compact"><thead><tr><th>#</th><th>status</th><th>runner</th><th>model</th><th>duration</th><th>exit</th><th>tokens in/out</th><th>cost</th></tr></thead>
            <tbody>{attempts.map((a) => (
              <tr key={a.attempt}><td>{a.attempt}</td><td><StatusBadge status={a.status} /></td><td>{a.runner}</td><td>{a.model ?? "—"}</td>
                <td>{fmtDuration(a.started_at && a.finished_at ? secs(a.finished_at)! - secs(a.started_at)! : null)}</td>
                <td>{a.exit_code ?? "—"}</td><td>{a.input_tokens}/{a.output_tokens}</td><td>{fmtUsd(a.usd)}</td></tr>))}</tbody></table>)}
        {stage.error && <p className="error">{stage.error_class}: {stage.error}</p>}
      </section>
      <section aria-label="Context consumed">
        <h3>Context consumed</h3>
        {!ctx ? <p className="muted">no context pack</p> : (<>
          <p>{ctx.tokens} of {ctx.budget} tokens</p>
          <ul className="plain">
            {ctx.modules.map((m) => <li key={m.ref}>{m.included ? "✓" : "✕"} <code>{m.ref}</code> {m.tokens} tokens{m.reason ? ` (${m.reason})` : ""}</li>)}
            {ctx.items.map((i) => <li key={i.id}>✓ {i.type} <code>{i.id.slice(0, 8)}</code> conf {i.confidence} · {i.tokens} tokens{i.via ? ` via ${i.via}` : ""}</li>)}
          </ul></>)}
      </section>
      <section aria-label="Outputs">
        <h3>Outputs</h3>
        {stage.outputs && Object.keys(stage.outputs).length ? <pre className="outputs">{JSON.stringify(stage.outputs, null, 2)}</pre> : <p className="muted">none</p>}
      </section>
      {stage.item_states && <section aria-label="Items">
        <h3>Items</h3>
        <table className="grid compact"><thead><tr><th>#</th><th>item</th><th>status</th><th>tries</th><th>error</th></tr></thead>
          <tbody>{stage.item_states.map((it) => (
            <tr key={it.item}><td>{it.item}</td><td><code>{JSON.stringify(stage.items?.[it.item] ?? null)}</code></td>
              <td><StatusBadge status={it.status} /></td><td>{it.tries}</td><td>{it.error_class ?? ""}</td></tr>))}</tbody></table>
      </section>}
      <section aria-label="Handoff" className="handoff">
        <h3>Handoff</h3>
        {!stage.handoff ? <p className="muted">none yet: a stage hands off when it ends</p> : (<>
          <p>{stage.handoff.summary ?? <span className="muted">no summary</span>}</p>
          <p className="muted">format {stage.handoff.format} · {stage.handoff.usage.input_tokens}/{stage.handoff.usage.output_tokens} tokens · {fmtUsd(stage.handoff.usage.usd)}</p>
          <h4>Files changed ({stage.handoff.files_source})</h4>
          {stage.handoff.files_changed.length ? <ul className="plain">{stage.handoff.files_changed.map((f) =>
            <li key={f.path}><code>{f.path}</code> {f.status}</li>)}</ul> : <p className="muted">none</p>}
          <details><summary>The record the next stages receive</summary><pre>{JSON.stringify(stage.handoff, null, 2)}</pre></details>
        </>)}
      </section>
    </div>
  </>);
}

function LogView({ lines: all, showStage }: { lines: LogLine[]; showStage: boolean }) {
  const ref = useRef<HTMLPreElement>(null);
  const stick = useRef(true);
  const [raw, setRaw] = useState(false);
  const lines = raw ? all : all.filter((l) => !l.raw);
  useEffect(() => { const el = ref.current; if (el && stick.current) el.scrollTop = el.scrollHeight; }, [lines]);
  return (<>
    <label className="check"><input type="checkbox" checked={raw} onChange={(e) => setRaw(e.target.checked)} /> show the agents' raw protocol lines</label>
    <pre className="log" ref={ref} tabIndex={0} aria-label="Log" aria-live="off"
      onScroll={(e) => { const el = e.currentTarget; stick.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 8; }}>
      {lines.length === 0 ? <span className="muted">no output yet</span> : lines.map((l) => (
        <div key={l.seq} className={`log-line ${l.stream}${l.raw ? " raw" : ""}`}>{showStage && <span className="log-stage">{l.stage}</span>}{l.text}</div>))}
    </pre>
  </>);
}
