/* aws distribution scanner (claircore aws/distributionscanner.go). */
#include <string.h>

#include "scanner/indexer/scanners/internal.h"
#include "scanner/indexer/scanners/scanners.h"

static int aws_want(const char *path, int is_dir)
{
	return !is_dir && strcmp(path, "etc/os-release") == 0;
}

static int aws_scan(const struct layer_files *files, struct scan_result *out, struct diag *d)
{
	(void)d;
	const struct layer_file *f = dist_file(files, "etc/os-release");
	if (!f)
		return 0;
	const char *t = (const char *)f->data;
	if (dist_regex(t, "CPE_NAME=\"cpe:/o:amazon:linux:201.\\.0[39]:ga\"", 0, NULL, 0))
		return dist_add(out, "amzn", "Amazon Linux AMI", "2018.03", NULL, "2018.03",
				"cpe:/o:amazon:linux:2018.03:ga", "Amazon Linux AMI 2018.03");
	if (dist_regex(t, "CPE_NAME=\"cpe:2.3:o:amazon:amazon_linux:2\"", 0, NULL, 0))
		return dist_add(out, "amzn", "Amazon Linux", "2", NULL, "2", "cpe:2.3:o:amazon:amazon_linux:2",
				"Amazon Linux 2");
	if (dist_regex(t, "CPE_NAME=\"cpe:2.3:o:amazon:amazon_linux:2023\"", 0, NULL, 0))
		return dist_add(out, "amzn", "Amazon Linux", "2023", NULL, "2023",
				"cpe:2.3:o:amazon:amazon_linux:2023", "Amazon Linux 2023");
	return 0;
}

const struct scanner_desc scanner_dist_aws = {
	.name = "aws",
	.version = "2",
	.kind = SCANNER_DISTRIBUTION,
	.ecosystem = "rpm",
	.want = aws_want,
	.scan = aws_scan,
};
