#include "controller/options.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_KUBECONFIG = 256,
	OPT_NAMESPACE,
	OPT_METRICS_ADDR,
	OPT_HEALTH_ADDR,
	OPT_LEADER_ELECT,
	OPT_LEADER_ELECTION_NAMESPACE,
	OPT_LEADER_ELECTION_ID,
	OPT_RESYNC_PERIOD,
	OPT_LOG_LEVEL,
	OPT_DRY_RUN,
	OPT_VERSION,
	OPT_HELP = 'h',
};

static const struct option long_options[] = {
    {"kubeconfig", required_argument, NULL, OPT_KUBECONFIG},
    {"namespace", required_argument, NULL, OPT_NAMESPACE},
    {"metrics-addr", required_argument, NULL, OPT_METRICS_ADDR},
    {"health-addr", required_argument, NULL, OPT_HEALTH_ADDR},
    {"leader-elect", optional_argument, NULL, OPT_LEADER_ELECT},
    {"leader-election-namespace", required_argument, NULL, OPT_LEADER_ELECTION_NAMESPACE},
    {"leader-election-id", required_argument, NULL, OPT_LEADER_ELECTION_ID},
    {"resync-period", required_argument, NULL, OPT_RESYNC_PERIOD},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"dry-run", optional_argument, NULL, OPT_DRY_RUN},
    {"version", no_argument, NULL, OPT_VERSION},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

void controller_options_usage(FILE *f, const char *prog)
{
	fprintf(f,
	        "usage: %s [flags]\n"
	        "\n"
	        "Runs the Clair operator: reconciles ClairDeployment resources (scanner.clairc.io/v1alpha1)\n"
	        "into a Clair scanner, its PostgreSQL and Quay's scanner settings. Outside a cluster it\n"
	        "needs --kubeconfig or $KUBECONFIG.\n"
	        "\n"
	        "flags:\n"
	        "  --kubeconfig PATH                 kubeconfig file (default: $KUBECONFIG, else in-cluster config)\n"
	        "  --namespace NS                    namespace to watch (default: \"\", every namespace)\n"
	        "  --metrics-addr ADDR               metrics listen address, \"0\" disables (default \"%s\")\n"
	        "  --health-addr ADDR                health probe listen address, \"0\" disables (default \"%s\")\n"
	        "  --leader-elect[=BOOL]             enable leader election (default false)\n"
	        "  --leader-election-namespace NS    namespace of the election lease (default: the pod's namespace)\n"
	        "  --leader-election-id NAME         name of the election lease (default \"%s\")\n"
	        "  --resync-period DURATION          full resync interval, Go duration such as 30s, 10m, 1h30m;\n"
	        "                                    0 disables (default 10m)\n"
	        "  --log-level LEVEL                 debug, info, warn or error (default info)\n"
	        "  --dry-run[=BOOL]                  log the effective options as one JSON line (at any\n"
	        "                                    --log-level) and exit (default false)\n"
	        "  --version                         print the version and exit\n"
	        "  -h, --help                        print this help and exit\n",
	        prog, CONTROLLER_DEFAULT_METRICS_ADDR, CONTROLLER_DEFAULT_HEALTH_ADDR,
	        CONTROLLER_DEFAULT_LEADER_ELECTION_ID);
}

void controller_options_init(struct controller_options *o)
{
	const char *kc = getenv("KUBECONFIG");

	memset(o, 0, sizeof(*o));
	o->kubeconfig = kc && *kc ? kc : NULL;
	o->metrics_addr = CONTROLLER_DEFAULT_METRICS_ADDR;
	o->health_addr = CONTROLLER_DEFAULT_HEALTH_ADDR;
	o->leader_election_id = CONTROLLER_DEFAULT_LEADER_ELECTION_ID;
	o->resync_period_ms = CONTROLLER_DEFAULT_RESYNC_MS;
	o->log_level = LOG_INFO;
}

/* Go's strconv.ParseBool. */
static int parse_bool(const char *s, bool *ret)
{
	static const char *const yes[] = {"1", "t", "T", "true", "TRUE", "True"};
	static const char *const no[] = {"0", "f", "F", "false", "FALSE", "False"};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcmp(s, yes[i])) {
			*ret = true;
			return 0;
		}
		if (!strcmp(s, no[i])) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_log_level(const char *s, enum log_level *ret)
{
	static const struct {
		const char *name;
		enum log_level lvl;
	} levels[] = {{"debug", LOG_DEBUG}, {"info", LOG_INFO}, {"warn", LOG_WARN}, {"error", LOG_ERROR}};
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (!strcmp(s, levels[i].name)) {
			*ret = levels[i].lvl;
			return 0;
		}
	return -EINVAL;
}

int controller_parse_duration(const char *s, int64_t *ret_ms)
{
	static const struct {
		const char *name;
		int64_t ns;
	} units[] = {
	    /* longest names first so "ms" is not read as "m" */
	    {"ns", 1},           {"us", 1000},        {"\xc2\xb5s", 1000}, /* U+00B5 micro sign */
	    {"\xce\xbcs", 1000},                                           /* U+03BC greek mu */
	    {"ms", 1000000},     {"s", 1000000000LL}, {"m", 60 * 1000000000LL}, {"h", 3600 * 1000000000LL},
	};
	const char *p = s;
	int64_t total = 0;

	*ret_ms = 0;
	if (!s || !*s)
		return -EINVAL;
	if (*p == '-')
		return -EINVAL; /* negative periods make no sense here */
	if (*p == '+')
		p++;
	if (!strcmp(p, "0")) /* the only unit-less duration Go accepts */
		return 0;
	if (!*p)
		return -EINVAL;
	while (*p) {
		uint64_t whole = 0;
		double frac = 0, scale = 1;
		int digits = 0;
		size_t ulen = 0;
		int64_t unit = 0;

		while (*p >= '0' && *p <= '9') {
			if (whole > (UINT64_MAX - 9) / 10)
				return -EINVAL;
			whole = whole * 10 + (uint64_t)(*p - '0');
			p++;
			digits++;
		}
		if (*p == '.') {
			p++;
			while (*p >= '0' && *p <= '9') {
				scale /= 10;
				frac += (*p - '0') * scale;
				p++;
				digits++;
			}
		}
		if (!digits)
			return -EINVAL;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t n = strlen(units[i].name);
			if (!strncmp(p, units[i].name, n) && n > ulen) {
				ulen = n;
				unit = units[i].ns;
			}
		}
		if (!unit)
			return -EINVAL; /* missing or unknown unit */
		p += ulen;
		if (whole > (uint64_t)(INT64_MAX / unit))
			return -EINVAL;
		int64_t v = (int64_t)whole * unit;
		int64_t f = (int64_t)(frac * (double)unit);
		if (v > INT64_MAX - f || total > INT64_MAX - v - f)
			return -EINVAL;
		total += v + f;
	}
	*ret_ms = total / 1000000;
	return 0;
}

int controller_check_addr(const char *s)
{
	const char *colon, *port;
	size_t n = 0;
	unsigned long v = 0;

	if (!s)
		return -EINVAL;
	if (!strcmp(s, "0"))
		return 0;
	colon = strrchr(s, ':');
	if (!colon)
		return -EINVAL;
	for (port = colon + 1; *port; port++, n++) {
		if (*port < '0' || *port > '9' || n >= 5)
			return -EINVAL;
		v = v * 10 + (unsigned long)(*port - '0');
	}
	if (n == 0 || v > 65535)
		return -EINVAL;
	if (s[0] == '[') {
		/* "[v6]:port", "[v6%zone]:port" */
		if (colon == s || colon[-1] != ']' || colon - s < 3)
			return -EINVAL;
		for (const char *c = s + 1; c < colon - 1; c++)
			if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			      *c == ':' || *c == '.' || *c == '%' || *c == '-' || *c == '_'))
				return -EINVAL;
		return 0;
	}
	for (const char *c = s; c < colon; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || *c == '.' ||
		      *c == '-' || *c == '_'))
			return -EINVAL; /* includes a second ':' (unbracketed IPv6) */
	return 0;
}

static bool dns_label_n(const char *s, size_t n)
{
	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && !(c == '-' && i > 0 && i < n - 1))
			return false;
	}
	return true;
}

bool controller_is_dns_label(const char *s)
{
	return s && dns_label_n(s, strlen(s));
}

bool controller_is_dns_subdomain(const char *s)
{
	size_t n;
	const char *p;

	if (!s || (n = strlen(s)) == 0 || n > 253)
		return false;
	for (p = s;;) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		if (!dns_label_n(p, len))
			return false;
		if (!dot)
			return true;
		p = dot + 1;
	}
}

/* The flag as the user wrote it, for messages: "--name" of argv[cur] (up to any '='). */
static int flag_matches_exactly(const char *arg, const char *name)
{
	size_t n = strlen(name);
	return arg && !strncmp(arg, "--", 2) && !strncmp(arg + 2, name, n) && (arg[2 + n] == '\0' || arg[2 + n] == '=');
}

int controller_options_parse(struct controller_options *o, int argc, char **argv, struct diag *d)
{
	int c, idx;

	controller_options_init(o);
	optind = 0; /* full re-initialization (GNU), so tests can parse repeatedly */
	opterr = 0;
	for (;;) {
		int cur = optind ? optind : 1;
		idx = -1;
		c = getopt_long(argc, argv, "+:h", long_options, &idx);
		if (c == -1)
			break;
		if (c == '?') {
			if (optopt)
				return diag_fail(d, -EINVAL, "unknown flag \"-%c\"", optopt);
			return diag_fail(d, -EINVAL, "unknown flag \"%s\"", argv[optind - 1]);
		}
		if (c == ':')
			return diag_fail(d, -EINVAL, "flag \"%s\" needs a value", argv[optind - 1]);
		if (idx >= 0 && cur < argc && !flag_matches_exactly(argv[cur], long_options[idx].name))
			return diag_fail(d, -EINVAL, "unknown flag \"%s\" (did you mean \"--%s\"?)", argv[cur],
			                 long_options[idx].name);
		switch (c) {
		case OPT_KUBECONFIG:
			if (!*optarg)
				return diag_fail(d, -EINVAL, "--kubeconfig: empty path");
			o->kubeconfig = optarg;
			break;
		case OPT_NAMESPACE:
			if (*optarg && !controller_is_dns_label(optarg))
				return diag_fail(d, -EINVAL,
				                 "--namespace \"%s\": not a valid namespace name (lower-case letters, "
				                 "digits and '-', at most 63)",
				                 optarg);
			o->namespace = *optarg ? optarg : NULL;
			break;
		case OPT_METRICS_ADDR:
		case OPT_HEALTH_ADDR:
			if (controller_check_addr(optarg) < 0)
				return diag_fail(d, -EINVAL,
				                 "--%s \"%s\": want [host]:port with port 0-65535, or \"0\" to disable",
				                 c == OPT_METRICS_ADDR ? "metrics-addr" : "health-addr", optarg);
			if (c == OPT_METRICS_ADDR)
				o->metrics_addr = optarg;
			else
				o->health_addr = optarg;
			break;
		case OPT_LEADER_ELECT:
		case OPT_DRY_RUN: {
			bool v = true;
			if (optarg && parse_bool(optarg, &v) < 0)
				return diag_fail(d, -EINVAL, "--%s=%s: want true or false",
				                 c == OPT_LEADER_ELECT ? "leader-elect" : "dry-run", optarg);
			if (c == OPT_LEADER_ELECT)
				o->leader_elect = v;
			else
				o->dry_run = v;
			break;
		}
		case OPT_LEADER_ELECTION_NAMESPACE:
			if (*optarg && !controller_is_dns_label(optarg))
				return diag_fail(d, -EINVAL,
				                 "--leader-election-namespace \"%s\": not a valid namespace name",
				                 optarg);
			o->leader_election_namespace = *optarg ? optarg : NULL;
			break;
		case OPT_LEADER_ELECTION_ID:
			if (!controller_is_dns_subdomain(optarg))
				return diag_fail(d, -EINVAL,
				                 "--leader-election-id \"%s\": not a valid lease name (lower-case "
				                 "dns subdomain)",
				                 optarg);
			o->leader_election_id = optarg;
			break;
		case OPT_RESYNC_PERIOD:
			if (controller_parse_duration(optarg, &o->resync_period_ms) < 0)
				return diag_fail(d, -EINVAL,
				                 "--resync-period \"%s\": want a non-negative duration such as 30s, "
				                 "10m or 1h30m",
				                 optarg);
			break;
		case OPT_LOG_LEVEL:
			if (parse_log_level(optarg, &o->log_level) < 0)
				return diag_fail(d, -EINVAL, "--log-level \"%s\": want debug, info, warn or error",
				                 optarg);
			break;
		case OPT_VERSION:
			o->show_version = true;
			break;
		case OPT_HELP:
			o->show_help = true;
			break;
		default:
			return diag_fail(d, -EINVAL, "unexpected flag");
		}
	}
	if (optind < argc)
		return diag_fail(d, -EINVAL, "unexpected argument \"%s\"", argv[optind]);
	return 0;
}
