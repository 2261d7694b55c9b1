// Hash routes (#/workflows/ID, #/runs/ID): the server has one page to serve.
import { useEffect, useState } from "react";

export type Route =
  | { page: "workflows" }
  | { page: "builder"; id: string | null }
  | { page: "runs"; workflow?: string }
  | { page: "run"; id: string };

export function parseRoute(hash: string): Route {
  const [path, query = ""] = hash.replace(/^#/, "").split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query);
  if (parts[0] === "new") return { page: "builder", id: null };
  if (parts[0] === "workflows" && parts[1]) return { page: "builder", id: parts[1] };
  if (parts[0] === "runs" && parts[1]) return { page: "run", id: parts[1] };
  if (parts[0] === "runs") return { page: "runs", workflow: params.get("workflow") ?? undefined };
  return { page: "workflows" };
}

// A page with unsaved work says so here; leaving it then asks first.
let leaveGuard: (() => string | null) | null = null;
export const setLeaveGuard = (g: (() => string | null) | null) => { leaveGuard = g; };

addEventListener("beforeunload", (e) => {
  if (leaveGuard?.()) { e.preventDefault(); e.returnValue = ""; }
});

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = (e: HashChangeEvent) => {
      const why = leaveGuard?.();
      if (why && !confirm(`${why} Leave this page anyway?`)) {
        history.replaceState(null, "", e.oldURL);  // stay: no hashchange for this
        return;
      }
      setRoute(parseRoute(location.hash));
    };
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route;
}

export const go = (hash: string) => { location.hash = hash; };

/** The browser tab's title for a route (the page may refine it). */
export function titleOf(r: Route): string {
  const t = r.page === "builder" ? (r.id ? `${r.id} · Builder` : "New workflow")
    : r.page === "runs" ? (r.workflow ? `Runs of ${r.workflow}` : "Runs")
    : r.page === "run" ? `Run ${r.id}` : "Workflows";
  return `${t} · SkillMeat`;
}
