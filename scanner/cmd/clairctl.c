/* bin/clairctl: Clair's command-line tool (clair-spec.md §8).
 *
 *   clairctl [-c FILE] [-D] [-q] [--issuer ISS] COMMAND [ARGS]
 *
 * Commands are entries of a static table; add report, manifest, delete, export-updaters and
 * import-updaters there. Exit codes: 0 ok, 1 runtime error, 2 usage or configuration error. */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "scanner/config/config.h"
#include "scanner/db/db.h"
#include "scanner/matcher/jsonblob.h"
#include "scanner/matcher/store.h"
#include "scanner/updaters/fetch.h"
#include "scanner/updaters/runner.h"

struct ctl_globals {
	const char *config;
	const char *issuer;
};

struct ctl_command {
	const char *name;
	const char *summary;
	int (*fn)(const struct ctl_globals *g, int argc, char **argv);
};

static int cmd_check_config(const struct ctl_globals *g, int argc, char **argv);
static int cmd_export_updaters(const struct ctl_globals *g, int argc, char **argv);
static int cmd_import_updaters(const struct ctl_globals *g, int argc, char **argv);
static int cmd_migrate(const struct ctl_globals *g, int argc, char **argv);

static const struct ctl_command commands[] = {
	{"check-config", "print the effective configuration of FILE... (exit 2 if invalid)", cmd_check_config},
	{"export-updaters", "run the configured updaters and write their vulnerabilities to FILE (NDJSON)",
	 cmd_export_updaters},
	{"import-updaters", "load an export-updaters archive (FILE, URL or -) into the matcher database",
	 cmd_import_updaters},
	{"migrate", "apply the embedded schema migrations to the configured databases", cmd_migrate},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: clairctl [global options] COMMAND [command options] [args]\n\n"
		     "global options:\n"
		     "  -c, --config FILE   clair configuration file (default config.yaml, env CLAIR_CONF)\n"
		     "  -D                  print debug logs\n"
		     "  -q                  quieter log output (warnings and errors only)\n"
		     "  --issuer, --iss ISS JWT issuer for requests (default clairctl)\n"
		     "  -h, --help          show this help\n\n"
		     "commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-16s %s\n", commands[i].name, commands[i].summary);
}

/* Matches "-x VALUE", "--long VALUE" or "--long=VALUE"; returns 1 and advances *i. */
static int opt_value(int argc, char **argv, int *i, const char *s, const char *l, const char *l2, const char **ret)
{
	const char *a = argv[*i];
	const char *names[] = {s, l, l2};
	for (size_t k = 0; k < 3; k++) {
		size_t n;
		if (!names[k])
			continue;
		n = strlen(names[k]);
		if (!strcmp(a, names[k])) {
			if (*i + 1 >= argc) {
				fprintf(stderr, "clairctl: flag needs an argument: %s\n", a);
				return -1;
			}
			*ret = argv[++*i];
			return 1;
		}
		if (!strncmp(a, names[k], n) && a[n] == '=') {
			*ret = a + n + 1;
			return 1;
		}
	}
	return 0;
}

static int cmd_check_config(const struct ctl_globals *g, int argc, char **argv)
{
	const char *out_fmt = "json";
	const char *mode_s = "combo";
	int strict = 0, show_secrets = 0, failed = 0, nfiles = 0;
	const char **files = calloc((size_t)argc + 1, sizeof(*files));
	struct config_load_opts opts;

	if (!files)
		return 1;
	for (int i = 0; i < argc; i++) {
		const char *v;
		int m;
		if ((m = opt_value(argc, argv, &i, "-o", "--out", NULL, &v)) != 0) {
			if (m < 0)
				goto usage_err;
			out_fmt = v;
		} else if ((m = opt_value(argc, argv, &i, NULL, "--mode", NULL, &v)) != 0) {
			if (m < 0)
				goto usage_err;
			mode_s = v;
		} else if (!strcmp(argv[i], "--strict-config") || !strcmp(argv[i], "--strict")) {
			strict = 1;
		} else if (!strcmp(argv[i], "--show-secrets")) {
			show_secrets = 1;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: clairctl check-config [--out json|yaml] [--strict-config] [--show-secrets] "
			       "[--mode MODE] FILE...\n");
			free(files);
			return 0;
		} else if (!strcmp(argv[i], "--")) {
			for (i++; i < argc; i++)
				files[nfiles++] = argv[i];
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "clairctl check-config: unknown flag %s\n", argv[i]);
			goto usage_err;
		} else {
			files[nfiles++] = argv[i];
		}
	}
	if (strcmp(out_fmt, "json") && strcmp(out_fmt, "yaml")) {
		fprintf(stderr, "clairctl check-config: unknown output format \"%s\" (json or yaml)\n", out_fmt);
		goto usage_err;
	}
	if (config_parse_mode(mode_s, &opts.mode) < 0) {
		fprintf(stderr, "clairctl check-config: unknown mode \"%s\"\n", mode_s);
		goto usage_err;
	}
	opts.strict = strict;
	if (nfiles == 0)
		files[nfiles++] = g->config;
	for (int i = 0; i < nfiles; i++) {
		struct clair_config c;
		struct diag d;
		json_t *j;
		if (config_load(files[i], &opts, &c, &d) < 0) {
			fprintf(stderr, "%s\n", d.msg);
			failed = 1;
			continue;
		}
		j = config_to_json(&c, show_secrets);
		config_release(&c);
		if (!j) {
			fprintf(stderr, "clairctl: out of memory\n");
			failed = 1;
			continue;
		}
		if (!strcmp(out_fmt, "yaml")) {
			if (config_write_yaml(j, stdout) < 0)
				failed = 1;
		} else {
			json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
			fputc('\n', stdout);
		}
		json_decref(j);
	}
	free(files);
	fflush(stdout);
	return failed ? 2 : 0;
usage_err:
	free(files);
	return 2;
}

/* ---- export-updaters / import-updaters (clair-spec §8) ---- */

static int load_config(const struct ctl_globals *g, struct clair_config *c)
{
	struct config_load_opts opts = {.mode = CLAIR_MODE_COMBO, .strict = 0};
	struct diag d;
	if (config_load(g->config, &opts, c, &d) < 0) {
		fprintf(stderr, "%s\n", d.msg);
		return -1;
	}
	return 0;
}

static int cmd_export_updaters(const struct ctl_globals *g, int argc, char **argv)
{
	const char *out = NULL;
	int strict = 0, gz = 0, zst = 0, failed = 0, rc = 1;
	struct clair_config cfg;
	struct updater_runner_opts o;
	struct updater_src *u = NULL;
	size_t n = 0, total = 0;
	struct jsonblob_writer *w = NULL;
	struct diag d = {{0}};
	char date[40];

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-g") || !strcmp(argv[i], "--gzip")) {
			gz = 1;
		} else if (!strcmp(argv[i], "-z") || !strcmp(argv[i], "--zstd")) {
			zst = 1;
		} else if (!strcmp(argv[i], "--strict")) {
			strict = 1;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: clairctl export-updaters [--strict] [-g|--gzip] [-z|--zstd] [FILE|-]\n");
			return 0;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "clairctl export-updaters: unknown flag %s\n", argv[i]);
			return 2;
		} else if (out) {
			fprintf(stderr, "clairctl export-updaters: more than one output\n");
			return 2;
		} else {
			out = argv[i];
		}
	}
	if (gz && zst) {
		fprintf(stderr, "clairctl export-updaters: -g and -z are exclusive\n");
		return 2;
	}
	if (load_config(g, &cfg) < 0)
		return 2;
	updater_runner_opts_from_config(&cfg, NULL, &o);
	o.disable = false; /* export runs the configured sets even on an offline matcher */
	o.is_default = updater_set_is_default;
	if (updater_runner_expand(&o, strict, &u, &n, &d) < 0) {
		fprintf(stderr, "clairctl export-updaters: %s\n", d.msg);
		goto out;
	}
	enum jsonblob_compression comp =
		gz ? JSONBLOB_GZIP : zst ? JSONBLOB_ZSTD : out ? jsonblob_compression_for_path(out) : JSONBLOB_PLAIN;
	if (jsonblob_writer_open(out, comp, &w, &d) < 0) {
		fprintf(stderr, "clairctl export-updaters: %s\n", d.msg);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct vuln_list l = {0};
		struct vuln_sink s = {vuln_sink_list_add, &l};
		char *fp = NULL, ref[37];
		bool unchanged = false;
		struct diag ud = {{0}};
		if (updater_run_to_sink(&o.fetch, &u[i], NULL, &s, &fp, &unchanged, &ud) < 0) {
			log_error("clairctl", "updater failed", "{s:s,s:s}", "updater", u[i].name, "error", ud.msg);
			failed++;
			vuln_list_release(&l);
			continue;
		}
		jsonblob_new_ref(ref);
		jsonblob_now(date);
		struct jsonblob_op_hdr h = {u[i].name, fp ? fp : "", date, ref};
		for (size_t k = 0; k < l.n; k++) {
			struct vuln v = l.v[k];
			if (!v.updater || !*v.updater)
				v.updater = u[i].name;
			if (jsonblob_write_vuln(w, &h, &v, &d) < 0) {
				fprintf(stderr, "clairctl export-updaters: %s\n", d.msg);
				free(fp);
				vuln_list_release(&l);
				goto out;
			}
		}
		log_info("clairctl", "updater exported", "{s:s,s:i}", "updater", u[i].name, "vulnerabilities",
			 (int)l.n);
		total += l.n;
		free(fp);
		vuln_list_release(&l);
	}
	rc = 0;
out:
	if (w && jsonblob_writer_close(w, &d) < 0) {
		fprintf(stderr, "clairctl export-updaters: %s\n", d.msg);
		rc = 1;
	}
	for (size_t i = 0; i < n; i++)
		updater_src_release(&u[i]);
	free(u);
	config_release(&cfg);
	if (rc == 0)
		log_info("clairctl", "export done", "{s:i,s:i,s:i}", "updaters", (int)n, "failed", failed,
			 "vulnerabilities", (int)total);
	if (rc == 0 && failed && strict)
		rc = 1;
	return rc;
}

static void import_progress(void *ctx, const struct matcher_import_stats *st)
{
	(void)ctx;
	fprintf(stderr, "\rimported %zu update operations (%zu vulnerabilities), %zu already present", st->ops_written,
		st->vulns, st->ops_skipped);
}

static int cmd_import_updaters(const struct ctl_globals *g, int argc, char **argv)
{
	const char *in = NULL;
	struct clair_config cfg;
	struct db_pool *p = NULL;
	struct jsonblob_reader *r = NULL;
	struct fetch_result fr = {0};
	struct matcher_import_stats st;
	struct diag d = {{0}};
	int rc = 1;
	bool tty = isatty(STDERR_FILENO);

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-g") || !strcmp(argv[i], "--gzip") || !strcmp(argv[i], "-z") ||
		    !strcmp(argv[i], "--zstd")) {
			continue; /* compression is sniffed */
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: clairctl import-updaters FILE|URL|-\n");
			return 0;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "clairctl import-updaters: unknown flag %s\n", argv[i]);
			return 2;
		} else if (in) {
			fprintf(stderr, "clairctl import-updaters: more than one input\n");
			return 2;
		} else {
			in = argv[i];
		}
	}
	if (!in) {
		fprintf(stderr, "clairctl import-updaters: missing input (FILE, URL or -)\n");
		return 2;
	}
	if (load_config(g, &cfg) < 0)
		return 2;
	if (!strncmp(in, "http://", 7) || !strncmp(in, "https://", 8)) {
		struct fetch_opts fo = {.retries = 2};
		if (updater_fetch(&fo, in, NULL, &fr, &d) < 0) {
			fprintf(stderr, "clairctl import-updaters: %s\n", d.msg);
			goto out;
		}
		in = fr.path;
	}
	if (db_pool_new(cfg.matcher.connstring ? cfg.matcher.connstring : "", 4, "libvuln", &p, &d) < 0 ||
	    (cfg.matcher.migrations && db_migrate(p, DB_SCHEMA_MATCHER, &d) < 0)) {
		fprintf(stderr, "clairctl import-updaters: %s\n", d.msg);
		goto out;
	}
	if (jsonblob_reader_open(in, &r, &d) < 0) {
		fprintf(stderr, "clairctl import-updaters: %s\n", d.msg);
		goto out;
	}
	if (matcher_store_import(p, r, &st, tty ? import_progress : NULL, NULL, &d) < 0) {
		if (tty)
			fputc('\n', stderr);
		fprintf(stderr, "clairctl import-updaters: %s\n", d.msg);
		goto out;
	}
	if (tty)
		fputc('\n', stderr);
	log_info("clairctl", "import done", "{s:i,s:i,s:i}", "operations", (int)st.ops_written, "skipped",
		 (int)st.ops_skipped, "vulnerabilities", (int)st.vulns);
	rc = 0;
out:
	jsonblob_reader_close(r);
	db_pool_free(p);
	fetch_result_release(&fr);
	config_release(&cfg);
	return rc;
}

/* ---- migrate: the controller's migration Job runs this before pods roll ---- */

static int migrate_one(const char *what, const char *dsn, enum db_schema schema)
{
	struct db_pool *p = NULL;
	struct diag d = {{0}};
	int n, before = 0, after = 0;

	if (db_pool_new(dsn, 2, "clairctl-migrate", &p, &d) < 0) {
		fprintf(stderr, "clairctl migrate: %s: %s\n", what, d.msg);
		return -1;
	}
	(void)db_schema_version(p, schema, &before);
	n = db_migrate(p, schema, &d);
	if (n < 0) {
		fprintf(stderr, "clairctl migrate: %s: %s\n", what, d.msg);
		db_pool_free(p);
		return -1;
	}
	if (db_schema_version(p, schema, &after) < 0)
		after = db_schema_latest(schema);
	db_pool_free(p);
	if (n == 0)
		printf("%s: up to date (%s version %d)\n", what, db_schema_table(schema), after);
	else
		printf("%s: applied %d migration%s (%s version %d -> %d)\n", what, n, n == 1 ? "" : "s",
		       db_schema_table(schema), before, after);
	return 0;
}

static int cmd_migrate(const struct ctl_globals *g, int argc, char **argv)
{
	struct clair_config cfg;
	int failed = 0, any = 0;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: clairctl [-c CONFIG] migrate\n\n"
			       "Applies the embedded migrations to the indexer, matcher and notifier databases\n"
			       "of CONFIG (those configured; the notifier when enabled or its connstring is set).\n"
			       "Exit 0 on success, 1 on a database error, 2 on a configuration error.\n");
			return 0;
		}
		fprintf(stderr, "clairctl migrate: unexpected argument %s\n", argv[i]);
		return 2;
	}
	if (load_config(g, &cfg) < 0)
		return 2;
	if (cfg.indexer.connstring && cfg.indexer.connstring[0]) {
		any = 1;
		if (migrate_one("indexer", cfg.indexer.connstring, DB_SCHEMA_INDEXER) < 0)
			failed = 1;
	}
	if (!failed && cfg.matcher.connstring && cfg.matcher.connstring[0]) {
		any = 1;
		if (migrate_one("matcher", cfg.matcher.connstring, DB_SCHEMA_MATCHER) < 0)
			failed = 1;
	}
	if (!failed && ((cfg.notifier.connstring && cfg.notifier.connstring[0]) || config_notifier_enabled(&cfg))) {
		any = 1;
		if (!cfg.notifier.connstring || !cfg.notifier.connstring[0]) {
			fprintf(stderr, "clairctl migrate: notifier: notifier.connstring is not set\n");
			config_release(&cfg);
			return 2;
		}
		if (migrate_one("notifier", cfg.notifier.connstring, DB_SCHEMA_NOTIFIER) < 0)
			failed = 1;
	}
	config_release(&cfg);
	if (!any) {
		fprintf(stderr, "clairctl migrate: %s names no database (indexer/matcher/notifier connstring)\n",
		        g->config);
		return 2;
	}
	fflush(stdout);
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct ctl_globals g = {.config = "config.yaml", .issuer = "clairctl"};
	const char *env = getenv("CLAIR_CONF");
	int i;

	if (env && *env)
		g.config = env;
	log_set_level(LOG_INFO);
	for (i = 1; i < argc; i++) {
		const char *v;
		int m;
		if (argv[i][0] != '-')
			break;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help") || !strcmp(argv[i], "-help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "-D")) {
			log_set_level(LOG_DEBUG);
		} else if (!strcmp(argv[i], "-q")) {
			log_set_level(LOG_WARN);
		} else if ((m = opt_value(argc, argv, &i, "-c", "--config", NULL, &v)) != 0) {
			if (m < 0)
				return 2;
			g.config = v;
		} else if ((m = opt_value(argc, argv, &i, NULL, "--issuer", "--iss", &v)) != 0) {
			if (m < 0)
				return 2;
			g.issuer = v;
		} else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else {
			fprintf(stderr, "clairctl: unknown flag %s\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "clairctl: missing command\n");
		usage(stderr);
		return 2;
	}
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
		if (!strcmp(argv[i], commands[k].name)) {
			int rc;
			if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
				fprintf(stderr, "clairctl: could not initialize libcurl\n");
				return 1;
			}
			rc = commands[k].fn(&g, argc - i - 1, argv + i + 1);
			curl_global_cleanup();
			return rc;
		}
	fprintf(stderr, "clairctl: unknown command \"%s\"\n", argv[i]);
	usage(stderr);
	return 2;
}
