/** Seconds since the epoch of an API time (RFC 3339 UTC, "2026-12-03T11:19:33.368Z"), or null. */
export const secs = (t: string | null | undefined): number | null => {
  const ms = t ? Date.parse(t) : NaN;
  return isFinite(ms) ? ms / 1000 : null;
};

export const fmtTime = (t: string | null | undefined) => {
  const s = secs(t);
  return s ? new Date(s * 1000).toLocaleString(undefined, { hour12: false }) : "—";
};

export function fmtDuration(seconds: number | null | undefined): string {
  if (seconds == null || !isFinite(seconds)) return "—";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60), s = Math.round(seconds % 60);
  if (m < 60) return `${m}m ${s}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

export const fmtUsd = (usd: number | undefined) => `$${(usd ?? 0).toFixed(4)}`;

export function StatusBadge({ status }: { status: string | undefined }) {
  const s = status ?? "none";
  return <span className={`badge status-${s}`}>{s.replace(/_/g, " ")}</span>;
}

export const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));
