/*
 * fyaml-floor FILE: parse FILE with libfyaml's event API and nothing else.
 * The time this takes is the floor under any libfyaml-based loader; the
 * benchmark prints it beside skillmeat's own time.
 */
#include <libfyaml.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	FILE *f = fopen(argv[1], "rb");
	if (!f)
		return 1;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	char *buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		return 1;
	fclose(f);
	struct fy_parse_cfg cfg = { 0 };
	cfg.flags = FYPCF_QUIET | FYPCF_DEFAULT_VERSION_1_2 | FYPCF_JSON_NONE;
	struct fy_parser *p = fy_parser_create(&cfg);
	fy_parser_set_string(p, buf, (size_t)n);
	struct fy_event *e;
	long events = 0;
	while ((e = fy_parser_parse(p))) {
		events++;
		fy_parser_event_free(p, e);
	}
	fy_parser_destroy(p);
	free(buf);
	return events ? 0 : 1;
}
