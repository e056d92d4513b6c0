/* config_fuzz: config_load on YAML and JSON input (with drop-ins) and config_parse_duration.
 *
 * The input is split at the first line "#--dropin--": the part before it is the main file, the
 * part after it a drop-in merge patch (a second "#--dropin--" line starts a JSON-patch drop-in).
 * Each part is written to <tmp>/config.yaml (+ config.yaml.d/10.yaml, 20.yaml-patch) and to
 * <tmp>/config.json (+ .d/10.json, 20.json-patch); each main file is loaded in COMBO and
 * MATCHER mode, non-strict and strict. A configuration that loads must render with
 * config_to_json, and (clair-spec promise) its show_secrets rendering loads again, as JSON,
 * to the same rendering. The whole input is also parsed as a duration. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "fuzz/fuzz.h"
#include "scanner/config/config.h"

#define SEP "#--dropin--\n"
#define SEP_LEN (sizeof(SEP) - 1)
#define MAX_INPUT (64u << 10)

static char tmpdir[256];
static FILE *devnull;

static void cleanup_tmpdir(void)
{
	static const char *const files[] = {
		"config.yaml.d/10.yaml", "config.yaml.d/20.yaml-patch", "config.json.d/10.json",
		"config.json.d/20.json-patch", "config.yaml", "config.json", "again.json",
	};
	char p[512];

	if (!tmpdir[0])
		return;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", tmpdir, files[i]);
		unlink(p);
	}
	snprintf(p, sizeof(p), "%s/config.yaml.d", tmpdir);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/config.json.d", tmpdir);
	rmdir(p);
	rmdir(tmpdir);
}

static int setup(void)
{
	const char *base;

	if (tmpdir[0])
		return 0;
	base = getenv("TEST_TMPDIR");
	if (!base || !*base)
		base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	snprintf(tmpdir, sizeof(tmpdir), "%s/config_fuzz.XXXXXX", base);
	if (!mkdtemp(tmpdir)) {
		tmpdir[0] = '\0';
		return -1;
	}
	atexit(cleanup_tmpdir);
	/* exercise the warning path (unknown keys) without flooding the fuzzer's output */
	devnull = fopen("/dev/null", "w");
	if (devnull) {
		log_set_stream(devnull);
		log_set_level(LOG_DEBUG);
	} else {
		log_set_level(LOG_OFF);
	}
	return 0;
}

/* Writes data to tmpdir/name; n == SIZE_MAX removes the file instead. */
static int put(const char *name, const uint8_t *data, size_t n)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	if (n == SIZE_MAX) {
		unlink(p);
		return 0;
	}
	f = fopen(p, "wb");
	if (!f)
		return -1;
	if (n && fwrite(data, 1, n, f) != n) {
		fclose(f);
		return -1;
	}
	return fclose(f) == 0 ? 0 : -1;
}

static void check_reload(const struct clair_config *c, const struct config_load_opts *o)
{
	json_t *shown = NULL, *again_shown = NULL, *redacted = NULL;
	struct clair_config again;
	struct diag d;
	char p[512];
	int rc;

	redacted = config_to_json(c, 0);
	shown = config_to_json(c, 1);
	if (!shown || !redacted)
		goto out; /* OOM */
	if (devnull)
		(void)config_write_yaml(redacted, devnull);
	snprintf(p, sizeof(p), "%s/again.json", tmpdir);
	if (json_dump_file(shown, p, JSON_COMPACT) != 0)
		goto out;
	rc = config_load(p, o, &again, &d);
	if (rc == -ENOMEM)
		goto out;
	if (rc != 0) {
		fprintf(stderr, "config_fuzz: effective configuration does not load again: %s\n", d.msg);
		abort();
	}
	again_shown = config_to_json(&again, 1);
	if (again_shown) {
		/* the path differs by construction */
		json_object_del(shown, "path");
		json_object_del(again_shown, "path");
		if (!json_equal(shown, again_shown)) {
			char *a = json_dumps(shown, JSON_COMPACT | JSON_SORT_KEYS);
			char *b = json_dumps(again_shown, JSON_COMPACT | JSON_SORT_KEYS);
			fprintf(stderr, "config_fuzz: reload differs:\n  first:  %s\n  reload: %s\n", a ? a : "",
				b ? b : "");
			free(a);
			free(b);
			abort();
		}
	}
	config_release(&again);
out:
	json_decref(shown);
	json_decref(again_shown);
	json_decref(redacted);
}

static void load(const char *name, enum clair_mode mode, int strict)
{
	struct config_load_opts o = {.mode = mode, .strict = strict};
	struct clair_config c;
	struct diag d;
	char p[512];
	int rc;

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	d.msg[0] = '\0';
	rc = config_load(p, &o, &c, &d);
	if (rc < 0) {
		if (rc != -EINVAL && rc != -EFBIG && rc != -ENOMEM && rc != -ENOENT && rc != -EACCES) {
			fprintf(stderr, "config_fuzz: unexpected error %d: %s\n", rc, d.msg);
			abort();
		}
		if (!d.msg[0])
			abort(); /* every failure says why */
		return;
	}
	(void)config_notifier_enabled(&c);
	check_reload(&c, &o);
	config_release(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *parts[3] = {data, NULL, NULL};
	size_t lens[3] = {size, SIZE_MAX, SIZE_MAX};
	char p[512];

	if (size > MAX_INPUT || setup() < 0)
		return 0;

	/* durations */
	{
		char *s = fuzz_strndup(data, size);
		int64_t ns = 0;
		char out[64];
		if (s) {
			int rc = config_parse_duration(s, &ns);
			if (rc == 0) {
				int64_t ns2 = -1;
				config_format_duration(ns, out, sizeof(out));
				if (config_parse_duration(out, &ns2) != 0 || ns2 != ns) {
					fprintf(stderr, "config_fuzz: duration \"%s\" -> %lld -> \"%s\" -> %lld\n", s,
						(long long)ns, out, (long long)ns2);
					abort();
				}
			} else if (rc != -EINVAL && rc != -ERANGE) {
				abort();
			}
			free(s);
		}
	}

	/* split into main file and drop-ins */
	for (int i = 1; i < 3; i++) {
		const uint8_t *prev = parts[i - 1];
		size_t plen = lens[i - 1];
		const uint8_t *sep = memmem(prev, plen, SEP, SEP_LEN);
		if (!sep)
			break;
		lens[i - 1] = (size_t)(sep - prev);
		parts[i] = sep + SEP_LEN;
		lens[i] = plen - lens[i - 1] - SEP_LEN;
	}
	snprintf(p, sizeof(p), "%s/config.yaml.d", tmpdir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/config.json.d", tmpdir);
	mkdir(p, 0700);
	if (put("config.yaml", parts[0], lens[0]) < 0 || put("config.json", parts[0], lens[0]) < 0 ||
	    put("config.yaml.d/10.yaml", parts[1], lens[1]) < 0 ||
	    put("config.json.d/10.json", parts[1], lens[1]) < 0 ||
	    put("config.yaml.d/20.yaml-patch", parts[2], lens[2]) < 0 ||
	    put("config.json.d/20.json-patch", parts[2], lens[2]) < 0)
		return 0;

	load("config.yaml", CLAIR_MODE_COMBO, 0);
	load("config.yaml", CLAIR_MODE_MATCHER, 0);
	load("config.json", CLAIR_MODE_COMBO, 0);
	load("config.json", CLAIR_MODE_MATCHER, 0);
	load("config.yaml", CLAIR_MODE_COMBO, 1);
	return 0;
}
