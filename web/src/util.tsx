import { ReactNode, useEffect, useRef } from "react";
import { createPortal } from "react-dom";

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

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/**
 * A modal dialog: it takes the focus (its first field), keeps Tab and
 * Shift+Tab inside, closes on Escape, makes the page behind it inert, and
 * gives the focus back to what had it when it closes.
 */
export function Modal({ label, close, children, className = "run-dialog" }: {
  label: string; close: () => void; children: ReactNode; className?: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const closeRef = useRef(close);
  closeRef.current = close;
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    const box = ref.current!;
    const behind = [...document.body.children].filter((el) => !el.contains(box)) as HTMLElement[];
    const inert = behind.filter((el) => !el.hasAttribute("inert"));
    inert.forEach((el) => el.setAttribute("inert", ""));
    (box.querySelector<HTMLElement>(FOCUSABLE) ?? box).focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") { e.preventDefault(); closeRef.current(); return; }
      if (e.key !== "Tab") return;
      const items = [...box.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => el.offsetParent !== null);
      if (!items.length) { e.preventDefault(); return; }
      const first = items[0], last = items[items.length - 1];
      if (e.shiftKey && (document.activeElement === first || !box.contains(document.activeElement))) { e.preventDefault(); last.focus(); }
      else if (!e.shiftKey && (document.activeElement === last || !box.contains(document.activeElement))) { e.preventDefault(); first.focus(); }
    };
    document.addEventListener("keydown", onKey, true);
    return () => {
      document.removeEventListener("keydown", onKey, true);
      inert.forEach((el) => el.removeAttribute("inert"));
      if (before && document.contains(before)) before.focus();
    };
  }, []);
  // In a portal: the page behind it (the app's root) can then be made inert as a whole.
  return createPortal(
    <div className={className} role="dialog" aria-modal="true" aria-label={label} ref={ref} tabIndex={-1}
      onMouseDown={(e) => { if (e.target === e.currentTarget) close(); }}>
      {children}
    </div>, document.body);
}
