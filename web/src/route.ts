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

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route;
}

export const go = (hash: string) => { location.hash = hash; };
