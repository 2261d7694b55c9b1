#!/usr/bin/env python3
"""A Claude Code stream-json transcript of a long agent session, shaped as
docs/agent-protocols.md records it: one assistant line per content block
(repeating its message's id and usage), tool results, a final result line
of RESULT_KB.  Usage: gen-transcript.py OUT TURNS RESULT_KB"""
import json, sys

out, turns, result_kb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sid = "7b70d796-37ea-4eb3-bf36-943bf898a9ce"
def usage(i, o, cr, cw):
    return {"input_tokens": i, "cache_creation_input_tokens": cw, "cache_read_input_tokens": cr,
            "cache_creation": {"ephemeral_5m_input_tokens": cw, "ephemeral_1h_input_tokens": 0},
            "output_tokens": o, "service_tier": "standard"}
with open(out, "w") as f:
    w = lambda o: f.write(json.dumps(o) + "\n")
    w({"type": "system", "subtype": "init", "session_id": sid, "model": "claude-sonnet-4-6",
       "claude_code_version": "2.1.286", "tools": ["Bash", "Read", "Edit"], "mcp_servers": []})
    for t in range(turns):
        mid = "msg_%024d" % t
        u = usage(3, 400, 20000 + t, 300)
        for block in ({"type": "thinking", "thinking": "step %d " % t * 20, "signature": "s"},
                      {"type": "text", "text": "Working on part %d. " % t * 10},
                      {"type": "tool_use", "id": "toolu_%d" % t, "name": "Edit",
                       "input": {"file_path": "src/f%d.c" % t, "old_string": "a" * 300,
                                 "new_string": "b" * 300}}):
            w({"type": "assistant", "message": {"id": mid, "type": "message", "role": "assistant",
               "model": "claude-sonnet-4-6", "content": [block], "stop_reason": None,
               "usage": u}, "parent_tool_use_id": None, "session_id": sid, "uuid": "u%d" % t})
        w({"type": "user", "message": {"role": "user", "content": [
            {"tool_use_id": "toolu_%d" % t, "type": "tool_result", "content": "ok " * 200}]},
           "parent_tool_use_id": None, "session_id": sid, "uuid": "r%d" % t})
    text = ("result line " * 8 + "\n") * (result_kb * 1024 // 97) + '```json\n{"summary": "ok"}\n```'
    w({"type": "result", "subtype": "success", "is_error": False, "api_error_status": None,
       "num_turns": turns, "result": text, "session_id": sid, "total_cost_usd": 12.5,
       "usage": usage(3, 400, 20000, 300), "modelUsage": {"claude-sonnet-4-6": {
           "inputTokens": 3 * turns, "outputTokens": 400 * turns, "cacheReadInputTokens": 20000 * turns,
           "cacheCreationInputTokens": 300 * turns, "webSearchRequests": 0, "costUSD": 12.5,
           "contextWindow": 200000}}, "terminal_reason": "completed", "uuid": "end"})
