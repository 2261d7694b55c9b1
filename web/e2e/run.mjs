// End-to-end test of the web UI: a real `skillmeat web` (the binary under
// test, with the UI built in), Debian's Chromium driven by playwright-core,
// fake agents that speak Claude Code's protocol. It builds a two-stage
// workflow by drag and drop, saves it, runs it, watches the run page update
// live, approves the gate, and checks the files on disk; then round-trips a
// hand-written workflow. Screenshots go to e2e-artifacts/ (E2E_ARTIFACTS), and the
// ones the docs show to SKILLMEAT_E2E_SHOTS when it is set (see `shot`).
// Prints "N passed, N failed"; a step that fails ends the run (the steps
// build on each other) and every step not run counts as failed.
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { createRequire } from "node:module";
import { parse } from "yaml";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const sm = path.resolve(process.env.SKILLMEAT ?? path.join(root, "build/src/cli/skillmeat"));
const artifacts = path.resolve(process.env.E2E_ARTIFACTS ?? path.join(here, "../e2e-artifacts"));
const browserPath = process.env.CHROMIUM ?? "/usr/bin/chromium";
fs.rmSync(artifacts, { recursive: true, force: true });
fs.mkdirSync(artifacts, { recursive: true });

// ---- a SkillMeat home with a collection, fake agents and a hand-written workflow ----
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "skillmeat-e2e-"));
const home = path.join(tmp, "home");
const bin = path.join(tmp, "bin");
const env = { ...process.env, SKILLMEAT_HOME: home, NO_COLOR: "1", PATH: `${bin}:${process.env.PATH}` };
execFileSync(sm, ["init"], { env, stdio: "ignore" });
const coll = path.join(home, "collections/default");
fs.mkdirSync(path.join(coll, "agents"), { recursive: true });
fs.mkdirSync(path.join(coll, "context"), { recursive: true });
fs.mkdirSync(bin);
fs.writeFileSync(path.join(coll, "agents/researcher.md"), "---\nname: researcher\ndescription: reads the code\n---\nYou research.\n");
fs.writeFileSync(path.join(coll, "agents/writer.md"), "---\nname: writer\n---\nYou write.\n");
fs.writeFileSync(path.join(coll, "context/rules.md"), "Keep functions short.\n");
fs.symlinkSync(path.join(root, "tests/fake-agents/fake-claude"), path.join(bin, "claude"));
const HAND = `# Hand-written: this comment, the blank lines and the key order must survive.
workflow:
  id: hand
  name: Hand written   # trailing comment
  version: "1.0.0"

stages:
  # first
  - id: fetch
    name: Fetch
    type: command
    run: echo fetched

  - name: Report     # name before id, on purpose
    id: report
    type: command
    depends_on: [fetch]
    run: echo reported
`;
fs.writeFileSync(path.join(tmp, "hand.yaml"), HAND);
execFileSync(sm, ["workflow", "create", path.join(tmp, "hand.yaml")], { env, stdio: ["ignore", "ignore", "inherit"] });
// A role with no default (bound in the Run dialog) and a fan-out of two items.
const ROLES = `workflow: {id: roles-e2e, name: Roles e2e}
roles:
  reviewer: {description: "Reviews the change", accepts: [agent]}
stages:
  - id: review
    name: Review
    roles: {primary: {artifact: "\${{ roles.reviewer }}"}}
  - id: each
    name: Each
    type: fan_out
    depends_on: [review]
    fan_out: {items: "\${{ fromJSON('[\\"x\\", \\"y\\"]') }}"}
    run: echo "item $SKILLMEAT_ITEM"
`;
fs.writeFileSync(path.join(tmp, "roles.yaml"), ROLES);
execFileSync(sm, ["workflow", "create", path.join(tmp, "roles.yaml")], { env, stdio: ["ignore", "ignore", "inherit"] });
const handFile = path.join(coll, "workflows/hand/WORKFLOW.yaml");
// A run whose second stage fails until the file `fixed` exists (for "Re-run failed").
const FLAKY = `workflow: {id: flaky, name: Flaky}
stages:
  - {id: prepare, name: Prepare, type: command, run: 'echo prepare >> ran.log; echo "v=ready" >> "$SKILLMEAT_OUTPUT"', outputs: {v: {type: string}}}
  - id: build
    name: Build
    type: command
    depends_on: [prepare]
    run: 'echo build >> ran.log; test -f fixed || { echo "fixed is missing" >&2; exit 4; }'
    error_policy: {retry: {max_attempts: 1}}
  - {id: ship, name: Ship, type: command, depends_on: [build], run: 'echo "ship $V" >> ran.log', env: {V: "\${{ stages.prepare.outputs.v }}"}}
`;
fs.writeFileSync(path.join(tmp, "flaky.yaml"), FLAKY);
try { execFileSync(sm, ["workflow", "run", "flaky.yaml"], { env, cwd: tmp, stdio: "ignore" }); } catch { /* it fails: that is the point */ }

let server = spawn(sm, ["web", "--port", "0"], { env, stdio: ["ignore", "pipe", "inherit"] });
process.on("exit", () => server.kill("SIGKILL"));  // never leave it behind, whatever happens
const info = path.join(home, "web.json");
for (let i = 0; i < 100 && !fs.existsSync(info); i++) await new Promise((r) => setTimeout(r, 100));
const { url } = JSON.parse(fs.readFileSync(info, "utf8"));
const origin = new URL(url).origin;

const browser = await chromium.launch({
  executablePath: browserPath,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
const consoleErrors = [];
page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
page.on("pageerror", (e) => consoleErrors.push(String(e)));
page.setDefaultTimeout(10000);
// "Leave with unsaved changes?" is answered yes, unless a step listens itself.
let onDialog = (d) => void d.accept();
page.on("dialog", (d) => onDialog(d));

let pass = 0, fail = 0, stopped = false;
const steps = [];
const step = (name, fn) => steps.push({ name, fn });
// The pictures in docs/web.md and docs/running.md are these steps' screenshots: with
// SKILLMEAT_E2E_SHOTS=docs/img they are written there too, as docs/img/web-NAME.png
// (CI leaves it unset, so a test run does not change the tree).
const docShots = process.env.SKILLMEAT_E2E_SHOTS ? path.resolve(process.env.SKILLMEAT_E2E_SHOTS) : null;
const DOC_SHOTS = new Set(["07-run-failed-headline", "08-rerun", "09-plan-tab", "10-run-dialog-preview",
  "11-missing-agent", "13-dark-builder"]);
if (docShots && !fs.statSync(docShots, { throwIfNoEntry: false })?.isDirectory()) {
  console.error(`SKILLMEAT_E2E_SHOTS: ${docShots} is not a directory`);
  process.exit(2);
}
const shot = async (name) => {
  const png = await page.screenshot({ path: path.join(artifacts, `${name}.png`) });
  if (docShots && DOC_SHOTS.has(name)) fs.writeFileSync(path.join(docShots, `web-${name}.png`), png);
};
const expect = (cond, what) => { if (!cond) throw new Error(what); };
// axe-core in the page: no serious or critical violation on any page or dialog.
const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const axeChecked = [];
const axe = async (what) => {
  if (!(await page.evaluate(() => typeof window.axe !== "undefined"))) await page.evaluate(axeSource);  // by DevTools: the page's CSP forbids inline scripts
  const res = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.slice(0, 3).map((n) => `${n.target.join(" ")}: ${n.failureSummary} ${n.html.slice(0, 120)}`).join("; ")})`);
  });
  axeChecked.push(what);
  expect(res.length === 0, `axe on ${what}:\n${res.join("\n")}`);
};
const stageFile = (id) => path.join(coll, `workflows/${id}/WORKFLOW.yaml`);

// ---- the steps ----
step("the page opens with the token and drops it from the address", async () => {
  await page.goto(url);
  await page.getByRole("heading", { name: "Workflows" }).waitFor();
  expect(!page.url().includes("token"), `token still in ${page.url()}`);
  await page.getByRole("link", { name: "Hand written" }).waitFor();
  await shot("01-workflows");
  await axe("the workflows list");
});

step("a new workflow: settings typed into the workflow form", async () => {
  await page.getByRole("link", { name: "New workflow" }).click();
  const form = page.getByRole("form", { name: "Workflow settings" });
  await form.getByLabel("Id", { exact: true }).fill("e2e-ship");
  await form.getByLabel("Name", { exact: true }).fill("E2E ship");
  await page.getByRole("heading", { name: "E2E ship" }).waitFor();
});

step("an agent stage dragged from the palette onto the canvas", async () => {
  const canvas = page.locator(".canvas");
  await page.locator('[data-stage-type="agent"]').dragTo(canvas, { targetPosition: { x: 120, y: 200 } });
  await page.locator('.react-flow__node[data-id="stage"]').waitFor();
});

step("the researcher agent dragged onto that stage becomes its primary role", async () => {
  await page.locator('.artifact[data-ref="agent:researcher"]').dragTo(page.locator('.react-flow__node[data-id="stage"]'));
  await page.locator('.react-flow__node[data-id="stage"] .stage-artifact', { hasText: "agent:researcher" }).waitFor();
});

step("an approval gate dragged onto the canvas", async () => {
  await page.locator('[data-stage-type="gate"]').dragTo(page.locator(".canvas"), { targetPosition: { x: 420, y: 200 } });
  await page.locator('.react-flow__node[data-id="approval"]').waitFor();
});

step("an edge drawn from the agent stage to the gate is a depends_on", async () => {
  const from = page.locator('.react-flow__node[data-id="stage"] .react-flow__handle.source');
  const to = page.locator('.react-flow__node[data-id="approval"] .react-flow__handle.target');
  const edge = page.locator('.react-flow__edge[data-id="stage->approval"]');
  // The drag reads the handles' places: let the live validation that the new gate started
  // settle first (its answer re-renders the nodes), and draw again if a re-render moved them.
  for (let tries = 1; ; tries++) {
    await page.locator(".validity").filter({ hasNotText: "checking" }).waitFor();
    const a = await from.boundingBox(), b = await to.boundingBox();
    await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
    await page.mouse.down();
    await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 5 });
    await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 5 });
    await page.mouse.up();
    try {
      await edge.waitFor({ timeout: 5000 });
      return;
    } catch (e) {
      if (tries === 3) throw e;
    }
  }
});

step("live validation says the workflow is valid", async () => {
  await page.locator(".validity.good").waitFor();
  await shot("02-builder");
  await axe("the builder");
});

step("Create saves it; the YAML on disk is the graph that was drawn", async () => {
  await page.getByRole("button", { name: "Create" }).click();
  await page.waitForURL(/#\/workflows\/e2e-ship$/);
  const y = parse(fs.readFileSync(stageFile("e2e-ship"), "utf8"));
  expect(y.workflow.id === "e2e-ship" && y.workflow.name === "E2E ship", `workflow ${JSON.stringify(y.workflow)}`);
  expect(y.stages.length === 2, `${y.stages.length} stages`);
  expect(y.stages[0].id === "stage" && y.stages[0].roles.primary.artifact === "agent:researcher", JSON.stringify(y.stages[0]));
  expect(y.stages[1].type === "gate" && JSON.stringify(y.stages[1].depends_on) === '["stage"]', JSON.stringify(y.stages[1]));
  expect(fs.readFileSync(stageFile("e2e-ship"), "utf8").startsWith("# A workflow made in the SkillMeat builder."), "header comment");
});

step("the Plan tab shows the batches, each stage's agent and the estimated cost", async () => {
  const t0 = Date.now();
  await page.getByRole("button", { name: "Plan", exact: true }).click();
  const plan = page.getByLabel("Plan", { exact: true });
  await plan.locator('tbody[data-batch="0"] tr[data-stage="stage"]').waitFor();
  await plan.locator('tbody[data-batch="1"] tr[data-stage="approval"]').waitFor();
  const agent = await plan.locator('tr[data-stage="stage"]').textContent();
  expect(agent.includes("agent:researcher"), agent);
  const cost = await plan.locator('[data-total="usd"]').textContent();
  expect(/^\$\d+\.\d{4}/.test(cost), `cost ${cost}`);
  console.log(`  (the Plan tab rendered in ${Date.now() - t0} ms)`);
  await shot("09-plan-tab");
  await axe("the Plan tab");
  await plan.locator('tr[data-stage="approval"]').getByRole("button", { name: "approval" }).click();
  await page.getByRole("form", { name: "Stage approval" }).waitFor();
});

step("the Run dialog is modal: it takes the focus, keeps Tab inside, Escape closes it and gives the focus back", async () => {
  const run = page.getByRole("button", { name: "Run", exact: true });
  await run.click();
  const dialog = page.getByRole("dialog", { name: "Run workflow" });
  await dialog.waitFor();
  expect(await dialog.evaluate((d) => d.contains(document.activeElement)), "the dialog did not take the focus");
  for (let i = 0; i < 8; i++) {
    await page.keyboard.press("Tab");
    expect(await dialog.evaluate((d) => d.contains(document.activeElement)), `Tab ${i + 1} left the dialog`);
  }
  await dialog.getByLabel("Plan", { exact: true }).locator('[data-total="usd"]').waitFor();
  await axe("the Run dialog");
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });
  expect(await run.evaluate((b) => b === document.activeElement), "the focus did not come back to Run");
});

step("Run starts it; the run page follows it live to the waiting gate", async () => {
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await page.getByRole("dialog", { name: "Run workflow" }).getByRole("button", { name: "Start run" }).click();
  await page.waitForURL(/#\/runs\//);
  await page.evaluate(() => { window.__samePage = true; });
  await page.locator(".live.on").waitFor();
  await page.locator('.tl-row[data-stage="stage"] .tl-bar.status-completed').waitFor();
  await page.getByRole("region", { name: "Gate approval" }).waitFor();
  await page.locator('.react-flow__node[data-id="approval"] .stage-node.status-waiting_for_approval').waitFor();
  await shot("03-run-waiting");
  await axe("the run page");
});

step("Approve on the page finishes the run, without a reload", async () => {
  await page.getByRole("region", { name: "Gate approval" }).getByRole("button", { name: "Approve" }).click();
  await page.locator(".page-head .badge.status-completed").waitFor();
  await page.locator('.tl-row[data-stage="approval"] .badge.status-completed').waitFor();
  expect(await page.evaluate(() => window.__samePage === true), "the page was reloaded");
  await page.getByRole("tab", { name: /^stage/ }).click();
  await page.getByRole("region", { name: "Attempts" }).getByRole("cell", { name: "claude", exact: true }).waitFor();
  await page.locator(".log .log-line", { hasText: "claude" }).first().waitFor();
  await shot("04-run-completed");
});

step("the runs list shows the run", async () => {
  await page.getByRole("link", { name: "Runs", exact: true }).click();
  await page.locator("table.grid .badge.status-completed").first().waitFor();
  await shot("05-runs");
  await axe("the runs list");
});

step("a role bound in the Run dialog is the agent that ran; a fan-out has a row per item", async () => {
  await page.goto(`${origin}/#/workflows/roles-e2e`);
  await page.locator('.react-flow__node[data-id="each"] .stage-node.stack').waitFor();
  await page.getByRole("button", { name: "Run", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: "Run workflow" });
  expect(await dialog.getByRole("button", { name: "Start run" }).isDisabled(), "started with an unbound role");
  const select = dialog.getByLabel(/^reviewer/);
  const offered = await select.locator("option").allTextContents();
  expect(offered.includes("agent:writer") && !offered.some((o) => o.startsWith("ctx:")), offered.join(", "));
  // The plan preview follows the binding.
  const preview = dialog.getByLabel("Plan", { exact: true });
  await select.selectOption("agent:researcher");
  await preview.locator('tr[data-stage="review"]', { hasText: "agent:researcher" }).waitFor();
  await preview.locator('[data-binding="reviewer"]', { hasText: "request" }).waitFor();
  await select.selectOption("agent:writer");
  await preview.locator('tr[data-stage="review"]', { hasText: "agent:writer" }).waitFor();
  await shot("10-run-dialog-preview");
  await dialog.getByRole("button", { name: "Start run" }).click();
  await page.waitForURL(/#\/runs\//);
  await page.locator(".page-head .badge.status-completed").waitFor();
  const role = await page.locator('[data-role="reviewer"]').textContent();
  expect(role.includes("agent:writer") && role.includes("request"), role);
  await page.locator('.tl-row[data-stage="each"][data-item="1"] .tl-bar.status-completed').waitFor();
  await page.getByRole("tab", { name: /^review/ }).click();
  await page.getByRole("region", { name: "Handoff" }).getByText("format structured").waitFor();
  const runId = decodeURIComponent(page.url().split("#/runs/")[1]);
  const sys = fs.readFileSync(path.join(home, "runs", runId, "review/1/system-prompt.md"), "utf8");
  expect(sys.includes("You write."), sys);
  await shot("05b-roles-fan-out");
});

step("a hand-written workflow opened and saved unedited is unchanged, byte for byte", async () => {
  await page.goto(`${origin}/#/workflows/hand`);
  await page.locator('.react-flow__node[data-id="report"]').waitFor();
  const mtime = fs.statSync(handFile).mtimeMs;
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText(/^saved /).waitFor();
  expect(fs.readFileSync(handFile, "utf8") === HAND, "the file changed");
  expect(fs.statSync(handFile).mtimeMs >= mtime, "mtime");
});

step("an edit keeps the comments and key order elsewhere", async () => {
  await page.locator('.react-flow__node[data-id="report"]').click();
  const form = page.getByRole("form", { name: "Stage report" });
  await form.getByLabel("Name", { exact: true }).fill("Final report");
  await page.keyboard.press("Control+s");
  await page.getByText(/^saved /).waitFor();
  // The status line may still show the last save: wait for the file itself.
  for (let i = 0; i < 50 && fs.readFileSync(handFile, "utf8") === HAND; i++) await page.waitForTimeout(100);
  const now = fs.readFileSync(handFile, "utf8").split("\n"), before = HAND.split("\n");
  const changed = before.filter((l, i) => now[i] !== l);
  expect(now.length === before.length, `${now.length} lines, was ${before.length}`);
  expect(changed.length === 1 && changed[0].includes("name: Report"), `changed: ${JSON.stringify(changed)}`);
  expect(now.some((l) => /^  - name: Final report +# name before id, on purpose$/.test(l)), now.join("\n"));
});

// At 200 stages a keystroke took 74 ms while every node was drawn and measured again
// (bench/README.md): typing in one stage's form must leave the other nodes untouched.
step("typing in a stage's form redraws its node only, not the other stages' nodes", async () => {
  await page.evaluate(() => {
    window.__others = [];
    window.__watch = new MutationObserver((ms) => window.__others.push(...ms.map((m) => `${m.type} ${m.attributeName ?? ""}`)));
    window.__watch.observe(document.querySelector('.react-flow__node[data-id="fetch"]'),
      { attributes: true, childList: true, subtree: true, characterData: true });
  });
  const name = page.getByRole("form", { name: "Stage report" }).getByLabel("Name", { exact: true });
  await name.press("End");
  await name.pressSequentially(" v2", { delay: 40 });
  await page.locator('.react-flow__node[data-id="report"] .stage-title', { hasText: "Final report v2" }).waitFor();
  await page.waitForFunction(() => /^valid/.test(document.querySelector(".validity")?.textContent ?? ""));
  const others = await page.evaluate(() => { window.__watch.disconnect(); return window.__others; });
  expect(others.length === 0, `the fetch node changed ${others.length} times: ${others.slice(0, 5).join(", ")}`);
  await name.fill("Final report");  // as saved: the next steps start from a saved workflow
  await page.keyboard.press("Control+s");
  await page.getByText("unsaved changes").waitFor({ state: "detached" });
});

step("errors are pinned to the stage and its field", async () => {
  const form = page.getByRole("form", { name: "Stage report" });
  await page.locator('.react-flow__edge[data-id="fetch->report"]').waitFor({ state: "attached" });
  await form.getByLabel("Depends on").getByLabel("fetch").uncheck().catch(async () => {
    await form.locator('[data-field="depends_on"] input[type=checkbox]').first().uncheck();
  });
  await page.locator('.react-flow__edge[data-id="fetch->report"]').waitFor({ state: "detached" });  // the box reached the document
  await form.getByLabel("Condition").fill("${{ stages.nosuch.outputs.x }}");
  await page.locator('.react-flow__node[data-id="report"] .stage-node.invalid').waitFor();
  await form.locator('[data-field="condition"] .field-diags .error').waitFor();
  await shot("06-diagnostics");
  await form.getByLabel("Condition").fill("");
  await page.locator(".validity.good").waitFor();
});

step("keyboard: a palette button adds a stage; the YAML view shows it", async () => {
  await page.getByRole("button", { name: "Command stage" }).focus();
  await page.keyboard.press("Enter");
  await page.locator('.react-flow__node[data-id="command"]').waitFor();
  await page.getByRole("button", { name: "YAML" }).click();
  const text = await page.getByLabel("Workflow as YAML").inputValue();
  expect(text.includes("- id: command") && text.includes("# first"), text);
});

step("YAML view: a text edit is saved by Save, without Apply; a text that does not parse is refused with the reason", async () => {
  const area = page.getByLabel("Workflow as YAML");
  const before = await area.inputValue();
  await area.fill(before.replace("name: Hand written", "name: Hand edited"));
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText(/^saved /).waitFor();
  expect(fs.readFileSync(handFile, "utf8").includes("name: Hand edited   # trailing comment"), fs.readFileSync(handFile, "utf8"));
  const saved = fs.readFileSync(handFile, "utf8");
  await area.fill("workflow: [unclosed");
  await page.getByRole("button", { name: "Save" }).click();
  await page.locator(".statusline.error", { hasText: "not saved: the YAML text does not parse" }).waitFor();
  expect(fs.readFileSync(handFile, "utf8") === saved, "a broken text was saved");
  await page.getByRole("button", { name: "Graph" }).click();
  await page.locator(".statusline.error", { hasText: "cannot leave the text view" }).waitFor();
  await page.getByRole("button", { name: "Revert" }).click();
  await page.getByRole("button", { name: "Graph" }).click();
  await page.locator('.react-flow__node[data-id="report"]').waitFor();
});

step("unsaved changes: leaving asks first, and staying keeps them", async () => {
  await page.locator('.react-flow__node[data-id="report"]').click();
  await page.getByRole("form", { name: "Stage report" }).getByLabel("Name", { exact: true }).fill("Unsaved name");
  let asked = null;
  onDialog = (d) => { asked = d.message(); void d.dismiss(); };
  await page.getByRole("link", { name: "Workflows", exact: true }).click();
  await page.waitForTimeout(300);
  expect(asked && asked.includes("unsaved changes"), `asked: ${asked}`);
  expect(page.url().endsWith("#/workflows/hand"), page.url());
  expect(await page.getByRole("form", { name: "Stage report" }).getByLabel("Name", { exact: true }).inputValue() === "Unsaved name", "the edit is gone");
  const unload = await page.evaluate(() => { const e = new Event("beforeunload", { cancelable: true }); dispatchEvent(e); return e.defaultPrevented; });
  expect(unload, "closing the tab would not ask");
  onDialog = (d) => void d.accept();
  await page.getByRole("link", { name: "Workflows", exact: true }).click();
  await page.getByRole("heading", { name: "Workflows" }).waitFor();
});

step("a failed run: the headline says where and why; Re-run failed runs only what failed, reusing the rest", async () => {
  await page.goto(`${origin}/#/runs`);
  await page.locator("table.grid tr", { hasText: "flaky" }).getByRole("link").first().click();
  const headline = page.locator(".headline");
  await headline.filter({ hasText: "Failed at stage build" }).waitFor();
  const text = await headline.textContent();
  expect(text.includes("exit_4") && text.includes("exited with status 4"), text);
  await shot("07-run-failed-headline");
  const first = decodeURIComponent(page.url().split("#/runs/")[1]);
  fs.writeFileSync(path.join(tmp, "fixed"), "");
  fs.rmSync(path.join(tmp, "ran.log"));
  await page.getByRole("button", { name: "Re-run failed" }).click();
  await page.waitForFunction((f) => location.hash.startsWith("#/runs/") && !location.hash.endsWith(f), first);
  await page.locator(".page-head .badge.status-completed").waitFor();
  expect(fs.readFileSync(path.join(tmp, "ran.log"), "utf8") === "build\nship ready\n", fs.readFileSync(path.join(tmp, "ran.log"), "utf8"));
  await page.locator('[data-lineage="rerun-of"]').getByRole("link", { name: first }).waitFor();
  await page.locator('.tl-row[data-stage="prepare"] .badge.status-reused').waitFor();
  await page.getByRole("tab", { name: /^prepare/ }).click();
  await page.locator(`[data-reused-from="${first}"]`).waitFor();
  await shot("08-rerun");
  await page.locator('[data-lineage="rerun-of"]').getByRole("link").click();
  await page.locator('[data-lineage="reruns"]').getByRole("link").first().waitFor();
});

step("a stage waiting to retry: the headline gives its error and a live countdown to the next attempt", async () => {
  fs.writeFileSync(path.join(tmp, "retry.yaml"), `workflow: {id: retry, name: Retry}
stages:
  - id: flap
    name: Flap
    type: command
    run: 'echo "not yet" >&2; exit 7'
    error_policy: {retry: {max_attempts: 2, initial_interval: 40s}}
`);
  const runId = execFileSync(sm, ["workflow", "run", "retry.yaml", "--detach"], { env, cwd: tmp, encoding: "utf8" }).trim();
  await page.goto(`${origin}/#/runs/${runId}`);
  const line = page.locator('.headline[data-retry="flap"]');
  await line.waitFor();
  const text = await line.textContent();
  expect(text.includes("exit_7") && text.includes("attempt 2 in"), text);
  const first = await line.locator(".countdown").textContent();
  await page.waitForTimeout(2200);
  const later = await line.locator(".countdown").textContent();
  expect(parseFloat(later) < parseFloat(first), `countdown ${first} then ${later}`);
  await shot("15-retry-countdown");
  execFileSync(sm, ["workflow", "cancel", runId], { env, stdio: "ignore" });
  await page.locator(".page-head .badge.status-cancelled").waitFor({ timeout: 20000 });
});

step("an agent missing from the collection is an error on its field, as plan says, and Run is off", async () => {
  await page.goto(`${origin}/#/workflows/e2e-ship`);
  await page.locator('.react-flow__node[data-id="stage"]').click();
  const field = page.getByRole("form", { name: "Stage stage" }).locator('[data-field="roles.primary.artifact"]');
  await field.getByLabel("Primary agent or skill").fill("agent:researchr");
  await field.locator(".field-diags .error", { hasText: "agent:researchr is not in the active collection; did you mean agent:researcher?" }).waitFor();
  await page.locator(".validity.bad").waitFor();
  await page.locator('.react-flow__node[data-id="stage"] .stage-node.invalid').waitFor();
  await shot("11-missing-agent");
  await field.getByLabel("Primary agent or skill").fill("agent:researcher");
  await page.locator(".validity.good").waitFor();
});

step("keyboard: a focused stage node shows a focus ring; Enter opens its editor", async () => {
  await page.locator('.react-flow__pane').click({ position: { x: 5, y: 5 } });
  const node = page.locator('.react-flow__node[data-id="approval"]');
  await node.focus();
  await page.keyboard.press("Tab");
  await page.keyboard.press("Shift+Tab");
  // the builder redraws a render behind, which can take the focus: give it back by keyboard
  for (let i = 0; i < 5 && !(await node.evaluate((n) => n.contains(document.activeElement))); i++) {
    await page.waitForTimeout(200);
    await node.focus();
    await page.keyboard.press("Tab");
    await page.keyboard.press("Shift+Tab");
  }
  const ring = await node.locator(".stage-node").evaluate((el) => getComputedStyle(el).outlineStyle + " " + getComputedStyle(el).outlineWidth);
  expect(ring.startsWith("solid") && !ring.endsWith(" 0px"), `outline: ${ring}`);
  await shot("12-node-focus");
  // the builder redraws a render behind: the focus may have moved with it
  if (!(await node.evaluate((n) => n.contains(document.activeElement)))) await node.focus();
  await page.keyboard.press("Enter");
  const form = page.getByRole("form", { name: "Stage approval" });
  await form.waitFor();
  expect(await form.evaluate((f) => f.contains(document.activeElement)), "the focus is not in the editor");
});

step("every route has its own title", async () => {
  const titles = new Set();
  for (const r of ["#/workflows", "#/workflows/hand", "#/runs", "#/new"]) {
    await page.goto(`${origin}/${r}`);
    await page.waitForFunction((h) => location.hash === h, r);
    await page.waitForTimeout(100);
    titles.add(await page.title());
  }
  expect(titles.size === 4, [...titles].join(" | "));
});

step("dark mode follows the system, and stays readable", async () => {
  await page.emulateMedia({ colorScheme: "dark" });
  await page.goto(`${origin}/#/workflows/e2e-ship`);
  await page.locator('.react-flow__node[data-id="stage"]').waitFor();
  const bg = await page.evaluate(() => getComputedStyle(document.querySelector(".side")).backgroundColor);
  expect(bg === "rgb(22, 27, 34)", `panel ${bg}`);
  await shot("13-dark-builder");
  await axe("the builder, dark");
  await page.goto(`${origin}/#/runs`);
  await page.locator("table.grid .badge").first().waitFor();
  await axe("the runs list, dark");
  await page.emulateMedia({ colorScheme: "light" });
});

step("a phone-width screen: the builder stacks its panels, nothing is cut off, axe is clean", async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${origin}/#/workflows/e2e-ship`);
  await page.locator('.react-flow__node[data-id="stage"]').waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow <= 0, `the page is ${overflow} px wider than the screen`);
  const cols = await page.evaluate(() => getComputedStyle(document.querySelector(".builder-body")).gridTemplateColumns.split(" ").length);
  expect(cols === 1, `${cols} columns`);
  await shot("16-phone-builder");
  await axe("the builder, phone width");
  await page.setViewportSize({ width: 1280, height: 800 });
});

step("after a server restart an open run page says the token changed; the new token URL replaces the old cookie and the page reconnects by itself", async () => {
  // A run hosted by the CLI goes on while the server restarts.
  fs.writeFileSync(path.join(tmp, "slow.yaml"), "workflow: {id: slow, name: Slow}\nstages:\n  - {id: nap, name: Nap, type: command, run: 'sleep 5; echo rested'}\n");
  const runId = execFileSync(sm, ["workflow", "run", "slow.yaml", "--detach"], { env, cwd: tmp, encoding: "utf8" }).trim();
  await page.goto(`${origin}/#/runs/${runId}`);
  await page.locator(".live.on").waitFor();
  const port = new URL(url).port;
  server.kill("SIGTERM");
  await new Promise((r) => server.on("exit", r));
  server = spawn(sm, ["web", "--port", port], { env, stdio: ["ignore", "pipe", "inherit"] });
  let url2 = url;
  for (let i = 0; i < 100 && url2 === url; i++) {
    await new Promise((r) => setTimeout(r, 100));
    try { url2 = JSON.parse(fs.readFileSync(info, "utf8")).url; } catch { /* being written */ }
  }
  expect(url2 !== url, "the new server has the same token");
  await page.getByText("The server no longer accepts this page's access token").waitFor();
  await shot("14-token-changed");
  // The new address loaded in this browser (as another tab would; the page keeps
  // its old cookie): the token in the URL must replace the cookie.
  const status = await page.evaluate((u) => fetch(u, { credentials: "same-origin" }).then((r) => r.status), url2);
  expect(status === 200, `the token URL answered ${status}`);
  // What the stage printed after the restart reaches the page: the stream is back.
  await page.locator(".log .log-line", { hasText: "rested" }).waitFor({ timeout: 20000 });
  await page.locator(".page-head .badge.status-completed").waitFor({ timeout: 20000 });
  expect(!(await page.getByText("The server no longer accepts").isVisible()), "the notice stayed");
  // The refused requests while the token was old are expected console errors.
  consoleErrors.splice(0, consoleErrors.length, ...consoleErrors.filter((e) => !/401|Unauthorized|ERR_CONNECTION_REFUSED|Failed to load resource/.test(e)));
});

step("no errors in the browser console", async () => {
  expect(consoleErrors.length === 0, consoleErrors.join("\n"));
});

for (const s of steps) {
  if (stopped) { fail++; console.log(`not run - ${s.name}`); continue; }
  try {
    await s.fn();
    pass++;
    console.log(`ok - ${s.name}`);
  } catch (e) {
    fail++;
    stopped = true;
    console.log(`FAIL - ${s.name}\n  ${String(e.message ?? e).split("\n").slice(0, 8).join("\n  ")}`);
    await shot("failure").catch(() => undefined);
  }
}
await browser.close();
server.kill("SIGTERM");
// A run left waiting at a gate (a step failed before approving it) would keep it waiting.
const killer = setTimeout(() => server.kill("SIGKILL"), 5000);
await new Promise((r) => server.on("exit", r));
clearTimeout(killer);
fs.rmSync(tmp, { recursive: true, force: true });
console.log(`axe-core (serious, critical: none) on: ${axeChecked.join(", ")}`);
console.log(`e2e: ${pass} passed, ${fail} failed`);
process.exit(fail ? 1 : 0);
