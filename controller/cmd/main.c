/* bin/clair-controller: the Clair operator (controller/README.md). Exit codes: 0 (help,
 * version, dry run, or stopped by SIGTERM/SIGINT), 1 (no Kubernetes config, lost leadership,
 * fatal error), 2 (bad command line). */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "common/diag.h"
#include "common/log.h"
#include "controller/options.h"
#include "controller/run.h"

static const char *level_name(enum log_level l)
{
	switch (l) {
	case LOG_DEBUG:
		return "debug";
	case LOG_INFO:
		return "info";
	case LOG_WARN:
		return "warn";
	default:
		return "error";
	}
}

int main(int argc, char **argv)
{
	struct controller_options o;
	struct diag d = {{0}};

	if (controller_options_parse(&o, argc, argv, &d) < 0) {
		fprintf(stderr, "clair-controller: %s\nrun \"clair-controller --help\" for usage\n", d.msg);
		return 2;
	}
	if (o.show_help) {
		controller_options_usage(stdout, "clair-controller");
		return 0;
	}
	if (o.show_version) {
		printf("clair-controller %s\n", CONTROLLER_VERSION);
		return 0;
	}
	/* the dry-run line is the whole point of a dry run: it is printed whatever --log-level says */
	log_set_level(o.dry_run && o.log_level > LOG_INFO ? LOG_INFO : o.log_level);
	if (o.dry_run) {
		log_info("controller", "effective options", "{s:s?,s:s?,s:s,s:s,s:b,s:s?,s:s,s:I,s:s,s:b}",
		         "kubeconfig", o.kubeconfig, "namespace", o.namespace, "metrics_addr", o.metrics_addr,
		         "health_addr", o.health_addr, "leader_elect", (int)o.leader_elect, "leader_election_namespace",
		         o.leader_election_namespace, "leader_election_id", o.leader_election_id, "resync_period_ms",
		         (json_int_t)o.resync_period_ms, "log_level", level_name(o.log_level), "dry_run", 1);
		return 0;
	}
	return controller_run(&o);
}
