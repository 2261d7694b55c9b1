import { describe, expect, it } from "vitest";
import { secs } from "./util";

// The API writes times as RFC 3339 UTC strings (docs/cli.md "JSON output").
describe("secs", () => {
  it("reads an API time as seconds since the epoch", () => {
    expect(secs("2026-12-03T11:19:33.368Z")).toBeCloseTo(Date.UTC(2026, 11, 3, 11, 19, 33, 368) / 1000, 3);
    expect(secs("1970-01-01T00:00:01Z")).toBe(1);
  });
  it("is null for no time or a malformed one", () => {
    expect(secs(null)).toBeNull();
    expect(secs(undefined)).toBeNull();
    expect(secs("")).toBeNull();
    expect(secs("yesterday")).toBeNull();
  });
});
