import { describe, expect, it } from "vitest";
import type { Artifact } from "./api";
import { collectionDiags } from "./collection";
import { WorkflowDoc } from "./swdl";

const arts: Artifact[] = [
  { ref: "agent:researcher", type: "agent", name: "researcher" },
  { ref: "agent:writer", type: "agent", name: "writer" },
  { ref: "skill:search", type: "skill", name: "search" },
];
const mods: Artifact[] = [{ ref: "ctx:rules", type: "context", name: "rules" }];

const wf = (stages: string) => new WorkflowDoc(`workflow: {id: w, name: W}\nstages:\n${stages}`).stages();

describe("collectionDiags", () => {
  it("finds nothing wrong when every artifact is there", () => {
    const s = wf(`  - {id: a, name: A, roles: {primary: {artifact: agent:researcher}, tools: [skill:search]}, context: {modules: [ctx:rules]}}\n`);
    expect(collectionDiags(s, arts, mods)).toEqual([]);
  });
  it("pins an unknown agent to its stage and field, with a suggestion", () => {
    const d = collectionDiags(wf(`  - {id: a, name: A, roles: {primary: {artifact: agent:researchr}}}\n`), arts, mods);
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ severity: "error", stage_id: "a", field: "roles.primary.artifact" });
    expect(d[0].message).toBe("agent:researchr is not in the active collection; did you mean agent:researcher?");
    expect(d[0].message).not.toContain("--allow-missing");
  });
  it("checks tools and context modules, and leaves role expressions to run time", () => {
    const d = collectionDiags(wf(`  - id: a
    name: A
    roles: {primary: {artifact: "\${{ roles.reviewer }}"}, tools: [skill:nope]}
    context: {modules: [ctx:gone]}
`), arts, mods);
    expect(d.map((x) => x.field)).toEqual(["roles.tools[0]", "context.modules[0]"]);
  });
});
