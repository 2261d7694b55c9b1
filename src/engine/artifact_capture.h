/*
 * artifact_capture.h - what a run's snapshot keeps of each bound artifact
 * (artifact_capture.c): {path, text} for agents and context modules, plus
 * {files} for a skill's folder; {path, server} for an MCP server.
 */
#ifndef SM_ENGINE_ARTIFACT_CAPTURE_H
#define SM_ENGINE_ARTIFACT_CAPTURE_H

#include "../formats/node.h"

#include <jansson.h>

/* Bytes of an artifact's text (agent body, context module, SKILL.md) kept. */
#define ARTIFACT_MAX_TEXT (1u << 20)

/* The snapshot entry of `ref` found at `path`, or NULL with *err. */
json_t *artifact_capture(const char *ref, const char *path, char **err);
/* A [[mcp_servers]] table as {command, args, env} or {type, url, env}. */
json_t *mcp_server_json(const struct node *entry);

#endif
