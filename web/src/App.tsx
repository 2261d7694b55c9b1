import { useEffect, useState } from "react";
import { ApiError, api } from "./api";
import { Builder } from "./Builder";
import { RunPage } from "./RunPage";
import { RunsList } from "./RunsList";
import { titleOf, useRoute } from "./route";
import { WorkflowsList } from "./WorkflowsList";

export function App() {
  const route = useRoute();
  const [auth, setAuth] = useState<"unknown" | "ok" | "missing">("unknown");
  useEffect(() => {
    api.workflows().then(() => setAuth("ok"), (e) => setAuth(e instanceof ApiError && e.status === 401 ? "missing" : "ok"));
  }, []);
  useEffect(() => { document.title = titleOf(route); }, [route]);
  const nav = (href: string, label: string, active: boolean) => (
    <a href={href} aria-current={active ? "page" : undefined} className={active ? "active" : ""}>{label}</a>
  );
  return (
    <div className="app">
      <header className="topbar">
        <a className="brand" href="#/">SkillMeat <span>workflows</span></a>
        <nav aria-label="Main">
          {nav("#/workflows", "Workflows", route.page === "workflows" || route.page === "builder")}
          {nav("#/runs", "Runs", route.page === "runs" || route.page === "run")}
        </nav>
      </header>
      <main className="content">
        {auth === "missing" ? (
          <section className="notice" role="alert">
            <h1>Access token needed</h1>
            <p>Open the address that <code>skillmeat web</code> printed when it started: it carries
              the access token (<code>http://127.0.0.1:PORT/?token=…</code>). It is also in
              <code> $SKILLMEAT_HOME/web.json</code>.</p>
          </section>
        ) : route.page === "builder" ? <Builder key={route.id ?? "new"} id={route.id} />
          : route.page === "runs" ? <RunsList workflow={route.workflow} />
          : route.page === "run" ? <RunPage key={route.id} id={route.id} />
          : <WorkflowsList />}
      </main>
    </div>
  );
}
