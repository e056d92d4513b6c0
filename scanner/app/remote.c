#include "scanner/app/remote.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/jwt.h"

#define REMOTE_MAX_BODY (256u << 20)

static size_t sink(char *p, size_t size, size_t n, void *ud)
{
	struct buf *b = ud;
	return buf_append(b, p, size * n) == 0 ? size * n : 0;
}

int app_remote_index_report(const struct clair_config *cfg, const char *base, const char *digest, json_t **ret,
			    struct diag *d)
{
	struct buf url = BUF_INIT, body;
	struct curl_slist *hdrs = NULL;
	char *tok = NULL, *auth = NULL;
	CURL *c = NULL;
	long status = 0;
	CURLcode cc;
	int r = -EIO;

	buf_init(&body, REMOTE_MAX_BODY);
	if (!base || !*base)
		return diag_fail(d, -EINVAL, "matcher.indexer_addr is not set");
	if (!strstr(base, "://"))
		buf_puts(&url, "http://");
	buf_puts(&url, base);
	if (url.len && url.data[url.len - 1] == '/')
		url.data[--url.len] = '\0';
	buf_printf(&url, "/indexer/api/v1/index_report/%s", digest);
	c = curl_easy_init();
	if (!c) {
		r = -ENOMEM;
		goto out;
	}
	if (cfg->auth.psk.set) {
		if ((r = jwt_sign_psk(cfg->auth.psk.key_bytes, cfg->auth.psk.key_len, "clair-intraservice", 0, &tok, d)) < 0)
			goto out;
		if (asprintf(&auth, "Authorization: Bearer %s", tok) < 0) {
			auth = NULL;
			r = -ENOMEM;
			goto out;
		}
		hdrs = curl_slist_append(hdrs, auth);
	}
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url.data);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 120000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	if (cfg->tls.root_ca)
		curl_easy_setopt(c, CURLOPT_CAINFO, cfg->tls.root_ca);
	cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		r = diag_fail(d, cc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO, "indexer at \"%s\": %s", base,
			      curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status == 404) {
		r = diag_fail(d, -ENOENT, "index report not found");
		goto out;
	}
	if (status != 200) {
		r = diag_fail(d, -EIO, "indexer at \"%s\" answered %ld", base, status);
		goto out;
	}
	*ret = json_loadb(body.data ? body.data : "", body.len, 0, NULL);
	r = *ret ? 0 : diag_fail(d, -EBADMSG, "indexer at \"%s\" sent a report that is not JSON", base);
out:
	curl_slist_free_all(hdrs);
	if (c)
		curl_easy_cleanup(c);
	free(auth);
	free(tok);
	buf_release(&url);
	buf_release(&body);
	return r;
}
