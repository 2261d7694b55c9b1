import { describe, expect, it } from "vitest";
import { assignArtifact, NEW_WORKFLOW, WorkflowDoc } from "./swdl";

const HAND = `# Top comment: keep me.
workflow:
  id: hand
  name: Hand written   # trailing comment
  version: "1.0.0"

stages:
  # The first stage.
  - id: research
    name: Research
    roles: {primary: {artifact: agent:researcher}}
    outputs:
      notes: {type: string}

  - name: Review      # key order: name before id
    id: review
    depends_on: [research]
    roles:
      primary:
        artifact: agent:reviewer
        model: opus
`;

describe("WorkflowDoc", () => {
  it("saves an unedited text byte for byte", () => {
    const d = new WorkflowDoc(HAND);
    expect(d.dirty).toBe(false);
    expect(d.text()).toBe(HAND);
  });

  it("keeps comments and key order elsewhere when a field is edited", () => {
    const d = new WorkflowDoc(HAND);
    d.set(["stages", 1, "roles", "primary", "model"], "sonnet");
    const out = d.text();
    expect(out).toContain("# Top comment: keep me.");
    expect(out).toContain("# trailing comment");
    expect(out).toContain("# The first stage.");
    expect(out).toContain("# key order: name before id");
    expect(out.indexOf("name: Review")).toBeLessThan(out.indexOf("id: review"));
    expect(out).toContain("model: sonnet");
    expect(out).not.toContain("model: opus");
    const before = HAND.split("\n"), after = out.split("\n");
    expect(after.length).toBe(before.length);
    expect(before.filter((l, i) => after[i] !== l)).toEqual(["        model: opus"]);
  });

  it("keeps the user's spacing and flow style on lines the edit did not touch", () => {
    const d = new WorkflowDoc(HAND);
    d.set(["stages", 1, "name"], "Final review");
    const after = d.text().split("\n"), before = HAND.split("\n");
    expect(before.filter((l, i) => after[i] !== l)).toEqual(["  - name: Review      # key order: name before id"]);
    expect(after.some((l) => /^  - name: Final review +# key order: name before id$/.test(l))).toBe(true);
    expect(after).toContain("    depends_on: [research]");
    expect(after).toContain("  name: Hand written   # trailing comment");
  });

  it("adds a stage at the end and leaves the rest as written", () => {
    const d = new WorkflowDoc(HAND);
    d.addStage({ id: "ship", name: "Ship", type: "gate" });
    const out = d.text();
    expect(out.startsWith(HAND.trimEnd())).toBe(true);
    expect(out).toContain("  - id: ship\n    name: Ship\n    type: gate");
  });

  it("setting a value to what it is does not mark the text edited", () => {
    const d = new WorkflowDoc(HAND);
    d.set(["stages", 0, "name"], "Research");
    expect(d.dirty).toBe(false);
  });

  it("removes empty values and the maps they leave", () => {
    const d = new WorkflowDoc(HAND);
    d.set(["stages", 0, "error_policy", "retry", "max_attempts"], 3);
    expect(d.get(["stages", 0, "error_policy"])).toEqual({ retry: { max_attempts: 3 } });
    d.set(["stages", 0, "error_policy", "retry", "max_attempts"], undefined);
    expect(d.get(["stages", 0, "error_policy"])).toBeUndefined();
  });

  it("adds stages and dependencies, renames and removes them", () => {
    const d = new WorkflowDoc(NEW_WORKFLOW);
    d.addStage({ id: d.freeId("stage"), name: "One", roles: { primary: { artifact: "agent:a" } } });
    d.addStage({ id: d.freeId("stage"), name: "Two", type: "gate", ui: { position: [300, 40] } });
    expect(d.stages().map((s) => s.id)).toEqual(["stage", "stage-2"]);
    expect(d.addDependency("stage-2", "stage")).toBe(true);
    expect(d.addDependency("stage-2", "stage")).toBe(false);
    d.renameStage("stage", "first");
    expect(d.stages()[1].depends_on).toEqual(["first"]);
    expect(d.text()).toContain("position: [ 300, 40 ]");
    expect(d.text()).toContain("# A workflow made in the SkillMeat builder.");
    d.removeStage("first");
    expect(d.stages()[0].depends_on).toEqual([]);
  });

  it("assigns dropped artifacts by kind", () => {
    const d = new WorkflowDoc(HAND);
    assignArtifact(d, "research", "agent:other");
    assignArtifact(d, "research", "skill:git-ops");
    assignArtifact(d, "research", "ctx:rules");
    assignArtifact(d, "research", "ctx:rules");
    const s = d.stages()[0].raw as Record<string, any>;
    expect(s.roles.primary.artifact).toBe("agent:other");
    expect(s.roles.tools).toEqual(["skill:git-ops"]);
    expect(s.context.modules).toEqual(["ctx:rules"]);
  });

  it("writes a JSON workflow back as JSON", () => {
    const d = new WorkflowDoc('{"workflow": {"id": "j", "name": "J"}, "stages": []}\n');
    d.set(["workflow", "name"], "Jay");
    expect(JSON.parse(d.text())).toEqual({ workflow: { id: "j", name: "Jay" }, stages: [] });
  });
});

describe("mergeFormatting", () => {
  it("takes untouched lines from the original and edited lines from the edit", async () => {
    const { mergeFormatting } = await import("./merge");
    expect(mergeFormatting("a:  1\nb: [x]\n", "a: 1\nb: [ x ]\n", "a: 2\nb: [ x ]\n")).toBe("a: 2\nb: [x]\n");
    expect(mergeFormatting("a:  1\nb: [x]\n", "a: 1\nb: [ x ]\n", "a: 1\nb: [ x ]\nc: 3\n")).toBe("a:  1\nb: [x]\nc: 3\n");
    expect(mergeFormatting("k: v\n", "k: v\n", "k: v\n")).toBe("k: v\n");
  });
});
