/* scanners_fuzz: one entry point per parser for the fuzz harness. Each takes arbitrary bytes,
 * runs the parser on them as the file(s) it reads, releases everything and returns 0 (or
 * -ENOMEM). They never crash or read out of bounds on any input. */
#ifndef SCANNER_INDEXER_SCANNERS_SCANNERS_FUZZ_H
#define SCANNER_INDEXER_SCANNERS_SCANNERS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int scanners_fuzz_dpkg(const uint8_t *data, size_t n);	     /* var/lib/dpkg/status */
int scanners_fuzz_distroless(const uint8_t *data, size_t n); /* var/lib/dpkg/status.d/x */
int scanners_fuzz_apk(const uint8_t *data, size_t n);	     /* lib/apk/db/installed */
int scanners_fuzz_rpm_header(const uint8_t *data, size_t n); /* one rpm header blob */
int scanners_fuzz_rpm_bdb(const uint8_t *data, size_t n);    /* var/lib/rpm/Packages */
int scanners_fuzz_rpm_ndb(const uint8_t *data, size_t n);    /* var/lib/rpm/Packages.db */
int scanners_fuzz_rpm_sqlite(const uint8_t *data, size_t n); /* var/lib/rpm/rpmdb.sqlite */
int scanners_fuzz_python(const uint8_t *data, size_t n);     /* a METADATA / PKG-INFO file */
int scanners_fuzz_osrelease(const uint8_t *data, size_t n);  /* every dist scanner on etc/os-release etc. */
int scanners_fuzz_repo_rhel(const uint8_t *data, size_t n);  /* a content manifest */

#endif
