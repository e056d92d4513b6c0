/* registry: every scanner of this directory in one static table. */
#include "scanner/indexer/scanners/internal.h"
#include "scanner/indexer/scanners/scanners.h"
#include "scanner/indexer/scanners/scanners_fuzz.h"

static const struct scanner_desc *const all[] = {
	&scanner_dpkg,
	&scanner_dpkg_distroless,
	&scanner_apk,
	&scanner_rpm,
	&scanner_rhel_pkg,
	&scanner_python,
	&scanner_dist_debian,
	&scanner_dist_ubuntu,
	&scanner_dist_alpine,
	&scanner_dist_rhel,
	&scanner_dist_aws,
	&scanner_dist_oracle,
	&scanner_dist_suse,
	&scanner_dist_photon,
	&scanner_repo_rhel,
	NULL,
};

const struct scanner_desc *const *scanners_all(size_t *ret_n)
{
	if (ret_n)
		*ret_n = sizeof(all) / sizeof(all[0]) - 1;
	return all;
}

int scanners_fuzz_osrelease(const uint8_t *data, size_t n)
{
	static const char *const paths[] = {"etc/os-release", "usr/lib/os-release", "etc/lsb-release", "etc/issue",
					    "etc/SuSE-release", "etc/photon-release"};
	for (size_t i = 0; all[i]; i++) {
		if (all[i]->kind != SCANNER_DISTRIBUTION)
			continue;
		for (size_t k = 0; k < sizeof(paths) / sizeof(paths[0]); k++) {
			int rc = scanners_fuzz_one(all[i], paths[k], data, n);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}
