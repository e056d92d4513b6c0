#include "scanner/app/flags.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void app_flags_usage(FILE *out)
{
	fputs("Usage of clair:\n"
	      "  -conf value\n"
	      "    \tThe file system path to Clair's config file. (env CLAIR_CONF)\n"
	      "  -mode value\n"
	      "    \tThe operation mode for this server: combo, indexer, matcher or notifier. (env CLAIR_MODE)\n"
	      "  -strict-config\n"
	      "    \tTreat unknown or retired configuration keys as errors instead of warnings.\n"
	      "  -cpuprofile string, -memprofile string\n"
	      "    \tAccepted for compatibility with Clair; profiling is not supported (use perf).\n"
	      "  -h, -help\n"
	      "    \tShow this help.\n"
	      "Exit status: 0 after a clean shutdown, 2 for flag or configuration errors, 1 for runtime failures.\n",
	      out);
}

int app_flags_parse(int argc, char **argv, struct app_flags *ret, struct diag *d)
{
	const char *mode = NULL;

	memset(ret, 0, sizeof(*ret));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *name, *val = NULL, *eq;
		char key[64];
		size_t kl;

		if (a[0] != '-' || !a[1])
			return diag_fail(d, -EINVAL, "unexpected argument \"%s\"", a);
		if (!strcmp(a, "--"))
			break;
		name = a + 1 + (a[1] == '-');
		eq = strchr(name, '=');
		kl = eq ? (size_t)(eq - name) : strlen(name);
		if (kl == 0 || kl >= sizeof(key))
			return diag_fail(d, -EINVAL, "bad flag syntax: %s", a);
		memcpy(key, name, kl);
		key[kl] = '\0';
		if (eq)
			val = eq + 1;

		if (!strcmp(key, "h") || !strcmp(key, "help")) {
			ret->help = 1;
			return 0;
		}
		if (!strcmp(key, "strict-config")) {
			if (val && strcmp(val, "true") && strcmp(val, "1") && strcmp(val, "false") && strcmp(val, "0"))
				return diag_fail(d, -EINVAL, "invalid boolean value \"%s\" for -strict-config", val);
			ret->strict = !val || !strcmp(val, "true") || !strcmp(val, "1");
			continue;
		}
		if (strcmp(key, "conf") && strcmp(key, "mode") && strcmp(key, "cpuprofile") && strcmp(key, "memprofile"))
			return diag_fail(d, -EINVAL, "flag provided but not defined: -%s", key);
		if (!val) {
			if (i + 1 >= argc)
				return diag_fail(d, -EINVAL, "flag needs an argument: -%s", key);
			val = argv[++i];
		}
		if (!strcmp(key, "conf"))
			ret->conf = val;
		else if (!strcmp(key, "mode"))
			mode = val;
		else if (!strcmp(key, "cpuprofile"))
			ret->cpuprofile = val;
		else
			ret->memprofile = val;
	}
	if (!ret->conf || !*ret->conf) {
		const char *e = getenv("CLAIR_CONF");
		ret->conf = e && *e ? e : NULL;
	}
	if (!mode || !*mode) {
		const char *e = getenv("CLAIR_MODE");
		mode = e && *e ? e : NULL;
	}
	if (!ret->conf)
		return diag_fail(d, -EINVAL, "missing flag \"-conf\" or environment variable \"CLAIR_CONF\"");
	if (!mode)
		return diag_fail(d, -EINVAL, "missing flag \"-mode\" or environment variable \"CLAIR_MODE\"");
	if (config_parse_mode(mode, &ret->mode) < 0)
		return diag_fail(d, -EINVAL, "invalid mode \"%s\": want one of combo, indexer, matcher, notifier", mode);
	return 0;
}
