import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import "@xyflow/react/dist/style.css";
import "./styles.css";
import { App } from "./App";

// The token came in the URL (and is now a cookie): keep it out of history and screenshots.
if (new URLSearchParams(location.search).has("token"))
  history.replaceState(null, "", location.pathname + location.hash);

createRoot(document.getElementById("root")!).render(<StrictMode><App /></StrictMode>);
