/* scanners: the indexer's package, distribution and repository scanners (claircore §2).
 *
 * Each descriptor's want() is called for every tar entry of a layer; the files it wants are
 * buffered into a struct layer_files and handed to scan(), which appends packages,
 * distributions or repositories to a struct scan_result. Corrupt databases are logged
 * (log_warn "indexer") and yield nothing; scan() fails only on -ENOMEM.
 *
 * Names/versions/kinds/ecosystems are claircore's (HEAD 0f12d7bc):
 *   dpkg 7, dpkg-distroless 1, apk v0.0.1, rpm 10, rhel-package-scanner 1, python 5 (package)
 *   debian 3, ubuntu 3, alpine 3, rhel 3, aws 2, oracle 1, suse v0.0.1, photon v0.0.1 (dist.)
 *   rhel-repository-scanner 3 (repository)
 * CPE fields are rendered as CPE 2.3 formatted strings ("cpe:2.3:o:redhat:...").
 *
 * scanner_repo_rhel maps content sets to CPEs with the repository-to-cpe.json mapping file
 * named by scanners_repo_rhel_set_mapping() (a local file; {"data": {repoid: {"cpes": [..]}}}).
 * Without a mapping (none set, unreadable or invalid) every repoid yields one repository
 * {name "", key "rhel-cpe-repository", uri "repoid=<id>", cpe ""}. */
#ifndef SCANNER_INDEXER_SCANNERS_SCANNERS_H
#define SCANNER_INDEXER_SCANNERS_SCANNERS_H

#include <stddef.h>

#include "scanner/indexer/types.h"

extern const struct scanner_desc scanner_dpkg, scanner_dpkg_distroless, scanner_apk, scanner_rpm,
	scanner_rhel_pkg, scanner_python, scanner_dist_debian, scanner_dist_ubuntu, scanner_dist_alpine,
	scanner_dist_rhel, scanner_dist_aws, scanner_dist_oracle, scanner_dist_suse, scanner_dist_photon,
	scanner_repo_rhel;

/* Every scanner above in one NULL-terminated static table (the registry); *ret_n = count. */
const struct scanner_desc *const *scanners_all(size_t *ret_n);

/* Sets (path) or clears (NULL) the repository-to-cpe.json file used by scanner_repo_rhel.
 * The file is read and cached on first use after each call. Not thread-safe against
 * concurrent scans: call at start-up. 0 or -ENOMEM. */
int scanners_repo_rhel_set_mapping(const char *path);

#endif
