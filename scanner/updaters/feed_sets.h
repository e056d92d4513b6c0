/* feed_sets: the updater sets for the JSON / YAML / updateinfo feeds (claircore-spec §5.1, §5.2,
 * §5.3, §5.10, §5.11). Config keys are documented at the top of each src_*.c. */
#ifndef SCANNER_UPDATERS_FEED_SETS_H
#define SCANNER_UPDATERS_FEED_SETS_H

#include "scanner/updaters/updater.h"

extern const struct updater_set updater_set_alpine; /* "alpine": alpine-<repo>-<release>-updater */
extern const struct updater_set updater_set_aws;    /* "aws": aws-AL1-updater, aws-AL2-updater, aws-AL2023-updater */
extern const struct updater_set updater_set_debian; /* "debian": debian/updater (security tracker JSON) */
extern const struct updater_set updater_set_pyupio; /* "pyupio": pyupio */
extern const struct updater_set updater_set_osv;    /* "osv": osv/pypi */

#endif
