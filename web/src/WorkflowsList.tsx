import { useEffect, useState } from "react";
import { api, WorkflowSummary } from "./api";
import { errorText, fmtTime, StatusBadge } from "./util";

export function WorkflowsList() {
  const [items, setItems] = useState<WorkflowSummary[] | null>(null);
  const [search, setSearch] = useState("");
  const [tag, setTag] = useState("");
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const t = setTimeout(() => {
      api.workflows(search || undefined, tag || undefined)
        .then((r) => { setItems(r.items); setError(null); }, (e) => setError(errorText(e)));
    }, 150);
    return () => clearTimeout(t);
  }, [search, tag]);

  const tags = [...new Set((items ?? []).flatMap((w) => w.tags ?? []))].sort();
  return (
    <section className="page">
      <div className="page-head">
        <h1>Workflows</h1>
        <a className="button primary" href="#/new">New workflow</a>
      </div>
      <div className="filters" role="search">
        <label>Search <input type="search" value={search} onChange={(e) => setSearch(e.target.value)}
          placeholder="name or id" /></label>
        <label>Tag <select value={tag} onChange={(e) => setTag(e.target.value)}>
          <option value="">any</option>
          {tags.map((t) => <option key={t}>{t}</option>)}
        </select></label>
      </div>
      {error && <p className="error" role="alert">{error}</p>}
      {items === null ? <p>Loading…</p> : items.length === 0 ? (
        <p className="empty">No workflows{search || tag ? " match" : " yet: make one with “New workflow”"}.</p>
      ) : (
        <table className="grid">
          <thead><tr><th>Workflow</th><th>Version</th><th>Stages</th><th>Tags</th><th>Last run</th><th /></tr></thead>
          <tbody>
            {items.map((w) => (
              <tr key={w.id}>
                <td><a href={`#/workflows/${encodeURIComponent(w.id)}`}><strong>{w.name ?? w.id}</strong></a>
                  <div className="muted">{w.id}{w.description ? ` — ${w.description}` : ""}</div></td>
                <td>{w.version ?? <span className="error">invalid</span>}</td>
                <td>{w.stage_count ?? "—"}</td>
                <td>{(w.tags ?? []).map((t) => <span key={t} className="tag">{t}</span>)}</td>
                <td>{w.last_run ? <a href={`#/runs/${w.last_run.id}`}><StatusBadge status={w.last_run.status} />
                  <span className="muted"> {fmtTime(w.last_run.created_at)}</span></a> : <span className="muted">never run</span>}</td>
                <td><a href={`#/runs?workflow=${encodeURIComponent(w.workflow_id ?? w.id)}`}>runs</a></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
