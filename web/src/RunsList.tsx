// Runs, newest first, kept current by the feed of run-level events.
import { useEffect, useState } from "react";
import { api, feedUrl, RunListItem } from "./api";
import { errorText, fmtDuration, fmtTime, fmtUsd, secs, StatusBadge } from "./util";

const STATUSES = ["pending", "running", "paused", "waiting_for_approval", "completed", "failed", "cancelled"];

export function RunsList({ workflow }: { workflow?: string }) {
  const [items, setItems] = useState<RunListItem[] | null>(null);
  const [wf, setWf] = useState(workflow ?? "");
  const [status, setStatus] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    api.runs(wf || undefined, status || undefined).then((r) => { setItems(r.items); setError(null); }, (e) => setError(errorText(e)));
  }, [wf, status, tick]);

  useEffect(() => {
    const es = new EventSource(feedUrl);
    let t: ReturnType<typeof setTimeout> | undefined;
    const bump = () => { clearTimeout(t); t = setTimeout(() => setTick((n) => n + 1), 200); };
    for (const type of ["run_started", "run_completed", "run_failed", "run_cancelled", "run_paused", "run_resumed", "stage_waiting_for_approval"])
      es.addEventListener(type, bump);
    return () => { clearTimeout(t); es.close(); };
  }, []);

  return (
    <section className="page">
      <div className="page-head"><h1>Runs</h1></div>
      <div className="filters" role="search">
        <label>Workflow <input value={wf} onChange={(e) => setWf(e.target.value)} placeholder="workflow id" /></label>
        <label>Status <select value={status} onChange={(e) => setStatus(e.target.value)}>
          <option value="">any</option>{STATUSES.map((s) => <option key={s} value={s}>{s.replace(/_/g, " ")}</option>)}
        </select></label>
      </div>
      {error && <p className="error" role="alert">{error}</p>}
      {items === null ? <p>Loading…</p> : items.length === 0 ? <p className="empty">No runs{wf || status ? " match" : " yet"}.</p> : (
        <table className="grid">
          <thead><tr><th>Run</th><th>Workflow</th><th>Status</th><th>Started</th><th>Duration</th><th>Cost</th><th>Tokens</th></tr></thead>
          <tbody>{items.map((r) => (
            <tr key={r.id}>
              <td><a href={`#/runs/${encodeURIComponent(r.id)}`}><code>{r.id}</code></a></td>
              <td>{r.workflow_name ?? r.workflow_id}</td>
              <td><StatusBadge status={r.status} /></td>
              <td>{fmtTime(r.started_at ?? r.created_at)}</td>
              <td>{fmtDuration(r.started_at ? (secs(r.finished_at) ?? Date.now() / 1000) - secs(r.started_at)! : null)}</td>
              <td>{fmtUsd(r.usd)}</td>
              <td>{r.tokens ?? 0}</td>
            </tr>))}</tbody>
        </table>)}
    </section>
  );
}
