// How the builder copes with a big workflow: a real `skillmeat web`, Debian's
// Chromium (playwright-core). For N stages (10 layers, each stage depending
// on one of the layer before), it measures, median of REPS page loads:
//   open  navigation to every node drawn and the server's validation shown
//   edit  one field typed in the stage editor to the new validation shown
//         (the document edit, the formatting merge of the whole text, the
//          validation request and the redraw)
//   save  Save pressed to "saved" shown (PUT, validation, atomic write)
//   key   one keystroke in the stage editor's Name field, until the page has
//         handled it (median of 20 keys; the redraw of graph and text follows
//         without holding the next key)
//   plan  the Plan tab pressed to every stage's row drawn (POST /plan included)
// and checks that the saved file differs from the original in one line.
// usage: node bench/ui-open.mjs [N=200] [REPS=5]   (after scripts/build-ui.sh and a build)
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { chromium } = await import(path.join(root, "web/node_modules/playwright-core/index.mjs"));
const N = Number(process.argv[2] ?? 200), REPS = Number(process.argv[3] ?? 5);
const sm = process.env.SKILLMEAT ?? path.join(root, "build/src/cli/skillmeat");

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "skillmeat-ui-bench-"));
const env = { ...process.env, SKILLMEAT_HOME: path.join(tmp, "home"), NO_COLOR: "1" };
execFileSync(sm, ["init"], { env, stdio: "ignore" });
const per = Math.ceil(N / 10);
let text = "# A generated workflow for the builder benchmark.\nworkflow: {id: big, name: Big}\nstages:\n";
for (let i = 0; i < N; i++) {
  const layer = Math.floor(i / per), dep = layer ? ` depends_on: [s${(layer - 1) * per + (i % per)}]` : "";
  text += `  - {id: s${i}, name: Stage ${i}, type: command, run: "echo ${i}"${dep ? "," + dep : ""}}  # stage ${i}\n`;
}
fs.writeFileSync(path.join(tmp, "big.yaml"), text);
execFileSync(sm, ["workflow", "create", path.join(tmp, "big.yaml")], { env, stdio: "ignore" });
const server = spawn(sm, ["web", "--port", "0"], { env, stdio: "ignore" });
process.on("exit", () => server.kill("SIGKILL"));
const info = path.join(env.SKILLMEAT_HOME, "web.json");
for (let i = 0; i < 100 && !fs.existsSync(info); i++) await new Promise((r) => setTimeout(r, 100));
const { url } = JSON.parse(fs.readFileSync(info, "utf8"));
const origin = new URL(url).origin;

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"] });
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
page.setDefaultTimeout(60000);
await page.goto(url);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const open = [], edit = [], save = [], keys = [], plan = [];
for (let r = 0; r < REPS; r++) {
  await page.goto(`${origin}/#/workflows`);
  await page.getByRole("link", { name: "Big" }).waitFor();
  let t = performance.now();
  await page.goto(`${origin}/#/workflows/big`);
  await page.waitForFunction((n) => document.querySelectorAll(".react-flow__node").length === n, N);
  await page.waitForFunction(() => /^valid$/.test(document.querySelector(".validity")?.textContent ?? ""));
  open.push(performance.now() - t);
  await page.locator('.react-flow__node[data-id="s0"]').dispatchEvent("click");
  const name = page.getByRole("form", { name: "Stage s0" }).getByLabel("Name", { exact: true });
  t = performance.now();
  await name.fill(`Stage zero ${r}`);
  await page.waitForFunction(() => document.querySelector(".validity")?.textContent?.includes("checking"));
  await page.waitForFunction(() => !document.querySelector(".validity")?.textContent?.includes("checking"));
  edit.push(performance.now() - t);
  t = performance.now();
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText(/^saved /).waitFor();
  save.push(performance.now() - t);
  await name.focus();
  for (let k = 0; k < 20; k++) {
    // Timed in the page: from the key event until React has handled it (a task after the input event).
    await page.evaluate(() => {
      window.__key = new Promise((resolve) => {
        let t0 = 0;
        document.addEventListener("keydown", (e) => { t0 = e.timeStamp; }, { once: true, capture: true });
        document.activeElement.addEventListener("input", () => setTimeout(() => resolve(performance.now() - t0), 0), { once: true });
      });
    });
    await page.keyboard.press("x");
    keys.push(await page.evaluate(() => window.__key));
  }
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText(/^saved /).waitFor();
  t = performance.now();
  await page.getByRole("button", { name: "Plan", exact: true }).click();
  await page.waitForFunction((n) => document.querySelectorAll(".plan tr[data-stage]").length === n, N);
  plan.push(performance.now() - t);
  await page.getByRole("button", { name: "Graph", exact: true }).click();
}
const saved = fs.readFileSync(path.join(env.SKILLMEAT_HOME, "collections/default/workflows/big/WORKFLOW.yaml"), "utf8");
const changed = text.split("\n").filter((l, i) => saved.split("\n")[i] !== l).length;
await browser.close();
fs.rmSync(tmp, { recursive: true, force: true });
console.log(JSON.stringify({ stages: N, reps: REPS, open_ms: Math.round(median(open)), edit_ms: Math.round(median(edit)),
  save_ms: Math.round(median(save)), key_ms: Math.round(median(keys)), key_max_ms: Math.round(Math.max(...keys)),
  plan_tab_ms: Math.round(median(plan)), lines_changed_by_the_edit: changed, bytes: text.length }));
process.exit(0);
