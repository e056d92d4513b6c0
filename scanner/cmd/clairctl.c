/* bin/clairctl: Clair's command-line tool (clair-spec.md §8).
 *
 *   clairctl [-c FILE] [-D] [-q] [--issuer ISS] COMMAND [ARGS]
 *
 * Commands are entries of a static table; add report, manifest, delete, export-updaters and
 * import-updaters there. Exit codes: 0 ok, 1 runtime error, 2 usage or configuration error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "scanner/config/config.h"

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

static const struct ctl_command commands[] = {
	{"check-config", "print the effective configuration of FILE... (exit 2 if invalid)", cmd_check_config},
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
		if (!strcmp(argv[i], commands[k].name))
			return commands[k].fn(&g, argc - i - 1, argv + i + 1);
	fprintf(stderr, "clairctl: unknown command \"%s\"\n", argv[i]);
	usage(stderr);
	return 2;
}
