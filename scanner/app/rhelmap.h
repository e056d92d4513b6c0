/* rhelmap: the Red Hat repository-to-CPE mapping the rhel repository scanner needs
 * (claircore's rhel-repository-scanner config: repo2cpe_mapping_file, repo2cpe_mapping_url).
 *
 * Read from indexer.scanner.repo.rhel-repository-scanner. A file is used as it is; otherwise the
 * URL (default Red Hat's, unless indexer.airgap) is downloaded once into a private temporary file
 * that lives until app_rhelmap_release(). Without a mapping, Red Hat content sets still yield
 * repositories, without CPEs (so RHEL vulnerabilities cannot match): that is logged loudly. */
#ifndef SCANNER_APP_RHELMAP_H
#define SCANNER_APP_RHELMAP_H

#include "scanner/config/config.h"

#define APP_RHELMAP_DEFAULT_URL "https://security.access.redhat.com/data/metrics/repository-to-cpe.json"

struct app_rhelmap {
	char *tmpdir; /* set when the mapping was downloaded */
	char *path;
};

/* Never fails the start-up: problems are logged. */
void app_rhelmap_load(struct app_rhelmap *m, const struct clair_config *cfg);
void app_rhelmap_release(struct app_rhelmap *m);

#endif
