/* flags: the command line of bin/clair, parsed as Go's flag package does.
 *
 *   -conf FILE     (or CLAIR_CONF)          -mode MODE (or CLAIR_MODE)
 *   -strict-config                          -cpuprofile FILE, -memprofile FILE (accepted, ignored)
 *   -h, -help                               every flag also as --flag, -flag=value, --flag=value
 */
#ifndef SCANNER_APP_FLAGS_H
#define SCANNER_APP_FLAGS_H

#include "common/diag.h"
#include "scanner/config/config.h"

struct app_flags {
	const char *conf;
	enum clair_mode mode;
	int strict;
	int help;
	const char *cpuprofile, *memprofile;
};

/* 0 on success (check ->help), -EINVAL with a message in d (exit 2). Reads CLAIR_CONF and
 * CLAIR_MODE when the flags are absent. */
int app_flags_parse(int argc, char **argv, struct app_flags *ret, struct diag *d);
void app_flags_usage(FILE *out);

#endif
