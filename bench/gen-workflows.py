#!/usr/bin/env python3
"""Generate the benchmark workflows into a directory.

linear-50      upstream benchmark 1's shape: 50 stages in a chain, every stage
               fully populated (roles, model, instructions, 2 tools, error policy
               with retry, handoff, ui, 2 inputs, 2 outputs, context with memory)
diamond-20     upstream benchmark 2's shape: root -> 8 parallel -> merge -> 10-stage tail
chain-N        N fully populated stages, each depending on the previous one
random-N       N fully populated stages, each depending on up to 3 random earlier
               stages (seeded)
lean-chain-N, lean-random-N
               the same graphs with typical stages: id, name, dependencies, an
               agent, one input wired to a dependency's output, one output
"""
import os
import random
import sys


def header(wid, name):
    return f"""workflow:
  id: {wid}
  name: {name}
  version: "1.0.0"
  description: Benchmark workflow
  tags: [benchmark]
config:
  parameters:
    run_mode: {{type: string, default: production}}
    feature_name: {{type: string, required: true}}
  timeout: 4h
  env: {{MODE: "${{{{ parameters.run_mode }}}}"}}
context:
  global_modules: ["ctx:repo-rules"]
  memory: {{project_scope: current, min_confidence: 0.7, max_tokens: 2000}}
error_policy:
  default_retry: {{max_attempts: 3, initial_interval: 10s, max_interval: 2m}}
  on_stage_failure: halt
hooks:
  on_complete: {{run: "echo done"}}
stages:
"""


def full_stage(i, deps):
    prev = deps[0] if deps else None
    src = f'"${{{{ stages.{prev}.outputs.result }}}}"' if prev else '"${{ parameters.feature_name }}"'
    dep = f"    depends_on: [{', '.join(deps)}]\n" if deps else ""
    return f"""  - id: stage-{i}
    name: Stage {i}
    description: Benchmark stage {i}
{dep}    roles:
      primary:
        artifact: agent:worker-{i % 7}
        model: sonnet
        instructions: Do step {i} for ${{{{ parameters.feature_name }}}}.
      tools: ["skill:git-ops", "skill:web-search"]
    inputs:
      previous: {{type: string, source: {src}}}
      mode: {{type: string, source: "${{{{ parameters.run_mode }}}}"}}
    outputs:
      result: {{type: string, description: The result}}
      notes: {{type: string, required: false}}
    context:
      modules: ["ctx:repo-rules", "ctx:style"]
      memory: {{min_confidence: 0.8, max_tokens: 1000}}
    error_policy:
      retry: {{max_attempts: 2, initial_interval: 30s}}
      on_failure: halt
      timeout: 30m
    handoff: {{format: structured}}
    ui: {{position: [{i * 10}, 0]}}
"""


def lean_stage(i, deps):
    dep = f"    depends_on: [{', '.join(deps)}]\n" if deps else ""
    src = f"${{{{ stages.{deps[0]}.outputs.result }}}}" if deps else "${{ parameters.feature_name }}"
    return f"""  - id: stage-{i}
    name: Stage {i}
{dep}    roles: {{primary: {{artifact: "agent:worker-{i % 7}"}}}}
    inputs:
      data: {{type: string, source: "{src}"}}
    outputs:
      result: {{type: string}}
"""


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    names = lambda ids: [f"stage-{j}" for j in ids]
    write(f"{out}/linear-50.yaml", header("benchmark-linear-50", "Linear 50") +
          "".join(full_stage(i, names([i - 1]) if i else []) for i in range(50)))
    # diamond fan: 0 -> 1..8 -> 9 -> 10..19
    stages = [full_stage(0, [])]
    stages += [full_stage(i, names([0])) for i in range(1, 9)]
    stages.append(full_stage(9, names(range(1, 9))))
    stages += [full_stage(i, names([i - 1])) for i in range(10, 20)]
    write(f"{out}/diamond-20.yaml", header("benchmark-diamond-20", "Diamond 20") + "".join(stages))
    rng = random.Random(42)
    for n in (100, 1000, 5000, 10000):
        write(f"{out}/chain-{n}.yaml", header(f"chain-{n}", f"Chain {n}") +
              "".join(full_stage(i, names([i - 1]) if i else []) for i in range(n)))
        text = []
        for i in range(n):
            k = min(i, rng.randint(0, 3))
            deps = sorted(rng.sample(range(i), k)) if k else []
            text.append(full_stage(i, names(deps)))
        write(f"{out}/random-{n}.yaml", header(f"random-{n}", f"Random {n}") + "".join(text))
        write(f"{out}/lean-chain-{n}.yaml", header(f"lean-chain-{n}", f"Lean chain {n}") +
              "".join(lean_stage(i, names([i - 1]) if i else []) for i in range(n)))
        rng2 = random.Random(7)
        text = []
        for i in range(n):
            k = min(i, rng2.randint(0, 3))
            deps = sorted(rng2.sample(range(i), k)) if k else []
            text.append(lean_stage(i, names(deps)))
        write(f"{out}/lean-random-{n}.yaml", header(f"lean-random-{n}", f"Lean random {n}") +
              "".join(text))


if __name__ == "__main__":
    main()
