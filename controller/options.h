/* options: the command line of bin/clair-controller (getopt_long; long flags, --flag=value or
 * --flag value; booleans take an optional =true/=false like Go's pflag). */
#ifndef CONTROLLER_OPTIONS_H
#define CONTROLLER_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/diag.h"
#include "common/log.h"

#define CONTROLLER_DEFAULT_METRICS_ADDR ":8090"
#define CONTROLLER_DEFAULT_HEALTH_ADDR ":8091"
#define CONTROLLER_DEFAULT_LEADER_ELECTION_ID "clair-controller-lock"
#define CONTROLLER_DEFAULT_RESYNC_MS (10 * 60 * 1000LL)
#define CONTROLLER_VERSION "0.1.0-dev"

/* Every string is borrowed from argv, the environment or a static default. */
struct controller_options {
	const char *kubeconfig;   /* --kubeconfig, else $KUBECONFIG, else NULL (in-cluster) */
	const char *namespace;    /* --namespace; NULL = every namespace */
	const char *metrics_addr; /* "[host]:port", or "0" to disable */
	const char *health_addr;  /* "[host]:port", or "0" to disable */
	bool leader_elect;
	const char *leader_election_namespace; /* NULL = the namespace the pod runs in */
	const char *leader_election_id;
	int64_t resync_period_ms; /* 0 = no periodic resync */
	enum log_level log_level;
	bool dry_run;
	bool show_help;
	bool show_version;
};

/* Fills o with the defaults (KUBECONFIG from the environment included). */
void controller_options_init(struct controller_options *o);
/* Initializes o and parses argv. 0, or -EINVAL with a message naming the flag in d (the
 * program then exits 2). Uses getopt_long (resets optind). */
int controller_options_parse(struct controller_options *o, int argc, char **argv, struct diag *d);
/* Writes the usage text with every flag and its default. */
void controller_options_usage(FILE *f, const char *prog);

/* A Go time.Duration string ("300ms", "1.5h", "1h30m", "0") in milliseconds (sub-millisecond
 * parts are truncated). Negative durations are rejected. 0 or -EINVAL. */
int controller_parse_duration(const char *s, int64_t *ret_ms);
/* "host:port", ":port", "[v6]:port" with port 0..65535. 0 or -EINVAL. */
int controller_check_addr(const char *s);
/* RFC 1123 label (namespace): [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63. */
bool controller_is_dns_label(const char *s);
/* RFC 1123 subdomain (lease name): dot-separated labels, at most 253. */
bool controller_is_dns_subdomain(const char *s);

#endif
