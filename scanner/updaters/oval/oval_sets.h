/* oval_sets: the OVAL-based updater sets (claircore-spec §5.3 OVAL era, §5.4, §5.6, §5.7, §5.8) and
 * their vendor severity tables (§6). The sets are defined in scanner/updaters/src_rhel.c,
 * src_oracle.c, src_suse.c, src_ubuntu.c and src_debian_oval.c; each file's top comment lists its
 * config keys (updaters.config.<set name>). Every set also takes `urls: {"<updater name>": "<url>"}`
 * to override one concrete updater's feed URL. */
#ifndef SCANNER_UPDATERS_OVAL_OVAL_SETS_H
#define SCANNER_UPDATERS_OVAL_OVAL_SETS_H

#include "scanner/matcher/vuln.h"
#include "scanner/updaters/updater.h"

extern const struct updater_set updater_set_rhel;        /* "rhel"        RHEL<N>-rhel-<N>             */
extern const struct updater_set updater_set_oracle;      /* "oracle"      oracle-<year>-updater        */
extern const struct updater_set updater_set_suse;        /* "suse"        suse-updater-<product>       */
extern const struct updater_set updater_set_ubuntu;      /* "ubuntu"      ubuntu/updater/<codename>    */
extern const struct updater_set updater_set_debian_oval; /* "debian-oval" debian/updater/<codename>    */

enum oval_vendor {
	OVAL_VENDOR_RHEL = 0, /* case-insensitive: none, low, moderate, important, critical */
	OVAL_VENDOR_ORACLE,   /* exact: N/A, LOW, MODERATE, IMPORTANT, CRITICAL */
	OVAL_VENDOR_SUSE,     /* exact: None, Low, Moderate, Important, Critical */
	OVAL_VENDOR_UBUNTU,   /* exact: Untriaged, Negligible, Low, Medium, High, Critical */
	OVAL_VENDOR_DEBIAN,   /* OVAL era: always Unknown */
};

/* The vendor's severity string → normalized severity (anything unlisted → SEV_UNKNOWN). */
enum severity oval_severity(enum oval_vendor v, const char *s);

#endif
