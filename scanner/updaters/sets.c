/* sets: every updater set, as named in the config's updaters.sets (one static table).
 * An absent updaters.sets runs the default sets (Clair's defaults that exist here); the
 * others run only when named. */
#include <string.h>

#include "scanner/updaters/feed_sets.h"
#include "scanner/updaters/oval/oval_sets.h"
#include "scanner/updaters/updater.h"

const struct updater_set *const *updater_sets_all(size_t *n);
int updater_set_is_default(const char *name);

static const struct updater_set *const table[] = {
	&updater_set_alpine, &updater_set_aws,	  &updater_set_debian, &updater_set_osv,
	&updater_set_oracle, &updater_set_suse,	  &updater_set_ubuntu, &updater_set_rhel,
	&updater_set_pyupio, &updater_set_debian_oval, NULL,
};

const struct updater_set *const *updater_sets_all(size_t *n)
{
	*n = sizeof(table) / sizeof(table[0]) - 1;
	return table;
}

/* Clair's default sets (config.go: alpine aws clair.cvss debian oracle osv photon rhcc rhel-vex
 * suse ubuntu) that exist here; rhel OVAL, pyupio and debian-oval are retired upstream and run
 * only when named. */
int updater_set_is_default(const char *name)
{
	static const char *const defaults[] = {"alpine", "aws", "debian", "oracle", "osv", "suse", "ubuntu"};
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		if (strcmp(defaults[i], name) == 0)
			return 1;
	return 0;
}
