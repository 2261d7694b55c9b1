// Form fields bound to a path of the workflow document. Each shows the
// diagnostics whose field is this one, so an error is pinned where it is fixed.
import { memo, ReactNode, RefObject, useId, useRef } from "react";
import type { Diagnostic } from "./api";
import type { Path, WorkflowDoc } from "./swdl";

export interface Bound { doc: WorkflowDoc; base: Path; diags: Diagnostic[]; changed: () => void }

// "depends_on[0]" and "roles.primary.artifact" against a field path.
export const fieldKey = (f: string | null) => (f ?? "").replace(/\[\d+\]/g, "");
const diagsFor = (diags: Diagnostic[], key: string) =>
  diags.filter((d) => { const k = fieldKey(d.field); return k === key || k.startsWith(key + "."); });

export function Diags({ list }: { list: Diagnostic[] }) {
  if (!list.length) return null;
  return <ul className="field-diags">{list.map((d, i) => (
    <li key={i} className={d.severity}>{d.severity}: {d.message}{d.line > 0 && <span className="muted"> (line {d.line})</span>}</li>))}</ul>;
}

function Row({ label, k, b, children, hint }: { label: string; k: string; b: Bound; children: (id: string) => ReactNode; hint?: string }) {
  const id = useId();
  const list = diagsFor(b.diags, k);
  return (
    <div className={`field${list.some((d) => d.severity === "error") ? " has-error" : ""}`} data-field={k}>
      <label htmlFor={id}>{label}</label>
      {children(id)}
      {hint && <div className="hint">{hint}</div>}
      <Diags list={list} />
    </div>
  );
}

const pathOf = (b: Bound, k: string): Path => [...b.base, ...k.split(".")];
const str = (v: unknown) => (v === undefined || v === null ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));

// A number when it reads as one, so `max_attempts: 3` is not written as "3".
const typed = (s: string): unknown => (s.trim() !== "" && !isNaN(Number(s)) ? Number(s) : s);

export function TextField({ b, k, label, multiline, numeric, hint, placeholder, list }: {
  b: Bound; k: string; label: string; multiline?: boolean; numeric?: boolean; hint?: string;
  placeholder?: string; list?: string;
}) {
  const value = str(b.doc.get(pathOf(b, k)));
  const set = (v: string) => { b.doc.set(pathOf(b, k), numeric ? typed(v) : v); b.changed(); };
  return <Row label={label} k={k} b={b} hint={hint}>{(id) => multiline
    ? <textarea id={id} rows={4} value={value} placeholder={placeholder} onChange={(e) => set(e.target.value)} />
    : <input id={id} value={value} placeholder={placeholder} list={list} inputMode={numeric ? "decimal" : undefined}
        onChange={(e) => set(e.target.value)} />}</Row>;
}

export function SelectField({ b, k, label, options, hint }: { b: Bound; k: string; label: string; options: string[]; hint?: string }) {
  const value = str(b.doc.get(pathOf(b, k)));
  return <Row label={label} k={k} b={b} hint={hint}>{(id) => (
    <select id={id} value={value} onChange={(e) => { b.doc.set(pathOf(b, k), e.target.value); b.changed(); }}>
      <option value="">(default)</option>
      {options.map((o) => <option key={o}>{o}</option>)}
    </select>)}</Row>;
}

export function BoolField({ b, k, label }: { b: Bound; k: string; label: string }) {
  const v = b.doc.get(pathOf(b, k));
  return <Row label={label} k={k} b={b}>{(id) => (
    <select id={id} value={v === undefined ? "" : String(v)}
      onChange={(e) => { b.doc.set(pathOf(b, k), e.target.value === "" ? undefined : e.target.value === "true"); b.changed(); }}>
      <option value="">(default)</option><option value="true">yes</option><option value="false">no</option>
    </select>)}</Row>;
}

/** A list of strings edited as comma-separated text. */
export function ListField({ b, k, label, hint, list }: { b: Bound; k: string; label: string; hint?: string; list?: string }) {
  const v = b.doc.get(pathOf(b, k));
  const value = Array.isArray(v) ? v.join(", ") : str(v);
  return <Row label={label} k={k} b={b} hint={hint ?? "comma-separated"}>{(id) => (
    <input id={id} value={value} list={list} onChange={(e) => {
      const items = e.target.value.split(",").map((x) => x.trim());
      b.doc.set(pathOf(b, k), items.filter((x, i) => x || i === items.length - 1).filter(Boolean));
      b.changed();
    }} />)}</Row>;
}

const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

// The boxes of a ChecksField: depends_on has one for every other stage (199 at 200 stages),
// so they are drawn again only when the options or the choice change, not on each key
// typed elsewhere in the editor (React updated every box a keystroke).
const Boxes = memo(function Boxes({ all, chosen, toggle }: {
  all: string[]; chosen: string[]; toggle: RefObject<(o: string, on: boolean) => void>;
}) {
  const on = new Set(chosen);
  return <>{all.map((o) => <label key={o} className="check"><input type="checkbox" checked={on.has(o)}
    onChange={(e) => toggle.current(o, e.target.checked)} /> {o}</label>)}</>;
}, (a, b) => sameList(a.all, b.all) && sameList(a.chosen, b.chosen));

/** Checkboxes over a fixed set of strings (depends_on, context modules). */
export function ChecksField({ b, k, label, options, empty }: { b: Bound; k: string; label: string; options: string[]; empty: string }) {
  const v = b.doc.get(pathOf(b, k));
  const chosen = Array.isArray(v) ? v.map(String) : [];
  const all = [...new Set([...options, ...chosen])];
  const toggle = useRef<(o: string, on: boolean) => void>(() => undefined);
  toggle.current = (o: string, on: boolean) => {
    b.doc.set(pathOf(b, k), on ? [...chosen, o] : chosen.filter((x) => x !== o));
    b.changed();
  };
  const list = diagsFor(b.diags, k);
  return (
    <fieldset className={`field checks${list.length ? " has-error" : ""}`} data-field={k}>
      <legend>{label}</legend>
      {all.length === 0 && <div className="muted">{empty}</div>}
      <Boxes all={all} chosen={chosen} toggle={toggle} />
      <Diags list={list} />
    </fieldset>
  );
}

/** A mapping name → {fields…} (inputs, outputs, parameters) as editable rows. */
export function MapTable({ b, k, label, columns, addLabel, newRow }: {
  b: Bound; k: string; label: string; addLabel: string;
  columns: { key: string; label: string; kind?: "bool" | "text" | "list"; options?: string[] }[];
  newRow?: Record<string, unknown>;
}) {
  const path = pathOf(b, k);
  const map = (b.doc.get(path) ?? {}) as Record<string, Record<string, unknown> | null>;
  const names = Object.keys(map);
  const list = diagsFor(b.diags, k);
  const add = () => {
    let n = 1;
    while (`${k.split(".").pop()}_${n}` in map) n++;
    b.doc.set([...path, `${k.split(".").pop()}_${n}`], newRow ?? { type: "string" });
    b.changed();
  };
  const rename = (from: string, to: string) => {
    if (!to || to in map) return;
    const next: Record<string, unknown> = {};
    for (const [name, v] of Object.entries(map)) next[name === from ? to : name] = v;
    b.doc.set(path, next);
    b.changed();
  };
  return (
    <fieldset className={`field${list.length ? " has-error" : ""}`} data-field={k}>
      <legend>{label}</legend>
      {names.length > 0 && <table className="maptable"><thead><tr><th>name</th>
        {columns.map((c) => <th key={c.key}>{c.label}</th>)}<th /></tr></thead>
        <tbody>{names.map((name) => (
          <tr key={name}>
            <td><input aria-label={`${label} name`} defaultValue={name} onBlur={(e) => rename(name, e.target.value.trim())} /></td>
            {columns.map((c) => {
              const cell = [...path, name, c.key];
              const v = b.doc.get(cell);
              const set = (x: unknown) => { b.doc.set(cell, x); b.changed(); };
              return <td key={c.key}>{c.kind === "list"
                ? <input aria-label={`${name} ${c.label}`} value={Array.isArray(v) ? v.join(", ") : str(v)}
                    onChange={(e) => set(e.target.value.split(",").map((x) => x.trim()).filter(Boolean))} />
                : c.kind === "bool"
                ? <input type="checkbox" aria-label={`${name} ${c.label}`} checked={v !== false} onChange={(e) => set(e.target.checked ? undefined : false)} />
                : c.options ? <select aria-label={`${name} ${c.label}`} value={str(v)} onChange={(e) => set(e.target.value === "true" ? true : e.target.value === "false" ? false : e.target.value)}>
                    {[...new Set(["", ...c.options, str(v)])].map((o) => <option key={o} value={o}>{o || "—"}</option>)}</select>
                : <input aria-label={`${name} ${c.label}`} value={str(v)} onChange={(e) => set(e.target.value)} />}</td>;
            })}
            <td><button type="button" className="small" aria-label={`remove ${name}`} onClick={() => { b.doc.set([...path, name], undefined); b.changed(); }}>✕</button></td>
          </tr>))}</tbody></table>}
      <button type="button" className="small" onClick={add}>{addLabel}</button>
      <Diags list={list} />
    </fieldset>
  );
}

/** KEY: value pairs (env). */
export function PairsField({ b, k, label }: { b: Bound; k: string; label: string }) {
  const v = (b.doc.get(pathOf(b, k)) ?? {}) as Record<string, unknown>;
  const text = Object.entries(v).map(([x, y]) => `${x}=${str(y)}`).join("\n");
  return <Row label={label} k={k} b={b} hint="one KEY=value a line">{(id) => (
    <textarea id={id} rows={3} defaultValue={text} onBlur={(e) => {
      const next: Record<string, string> = {};
      for (const line of e.target.value.split("\n")) {
        const eq = line.indexOf("=");
        if (eq > 0) next[line.slice(0, eq).trim()] = line.slice(eq + 1);
      }
      b.doc.set(pathOf(b, k), next);
      b.changed();
    }} />)}</Row>;
}
