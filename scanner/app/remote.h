/* remote: calls from one clair service to another over HTTP (matcher mode reads index reports
 * from the indexer at matcher.indexer_addr), signed with a clair-intraservice JWT when
 * auth.psk is set (clair-spec §0, §5). */
#ifndef SCANNER_APP_REMOTE_H
#define SCANNER_APP_REMOTE_H

#include <jansson.h>

#include "common/diag.h"
#include "scanner/config/config.h"

/* GET <base>/indexer/api/v1/index_report/<digest>. base without a scheme gets "http://".
 * 0 with *ret (the report), -ENOENT on 404, -EIO / -ETIMEDOUT / -EBADMSG otherwise. */
int app_remote_index_report(const struct clair_config *cfg, const char *base, const char *digest, json_t **ret,
			    struct diag *d);

#endif
