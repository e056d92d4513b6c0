/* Notifier mode: JSON over HTTP to the matcher and indexer (clair-spec §2.2 internal routes). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "common/jwt.h"
#include "scanner/notifier/notifier_int.h"

#define REMOTE_TIMEOUT_S 600

static size_t collect(char *p, size_t sz, size_t nm, void *ud)
{
	struct buf *b = ud;
	return buf_append(b, p, sz * nm) < 0 ? 0 : sz * nm;
}

int ntf_remote_json(const struct clair_config *cfg, const char *method, const char *base, const char *path,
		    const char *body, json_t **ret, struct diag *d)
{
	const struct config_psk *psk = &cfg->auth.psk;
	struct buf url = BUF_INIT, line = BUF_INIT, resp;
	struct curl_slist *hdrs = NULL, *t;
	char *tok = NULL;
	CURL *h = NULL;
	CURLcode cc;
	long status = 0;
	size_t bl;
	int rc;

	*ret = NULL;
	buf_init(&resp, NTF_REMOTE_MAX_BODY);
	if (!base || !*base) {
		rc = diag_fail(d, -EINVAL, "notifier: indexer_addr / matcher_addr not configured");
		goto out;
	}
	bl = strlen(base);
	while (bl && base[bl - 1] == '/')
		bl--;
	if (buf_append(&url, base, bl) < 0 || buf_puts(&url, path) < 0)
		goto oom;
	if (!(t = curl_slist_append(hdrs, "Accept: application/json")))
		goto oom;
	hdrs = t;
	if (body) {
		if (!(t = curl_slist_append(hdrs, "Content-Type: application/json")))
			goto oom;
		hdrs = t;
	}
	if (psk->set && psk->key_len) {
		if ((rc = jwt_sign_psk(psk->key_bytes, psk->key_len, "clair-intraservice", 0, &tok, d)) < 0)
			goto out;
		if (buf_printf(&line, "Authorization: Bearer %s", tok) < 0 || !(t = curl_slist_append(hdrs, line.data)))
			goto oom;
		hdrs = t;
	}
	h = curl_easy_init();
	if (!h)
		goto oom;
	curl_easy_setopt(h, CURLOPT_URL, url.data);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_USERAGENT, "clair/notifier");
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)REMOTE_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
	if (cfg->tls.root_ca)
		curl_easy_setopt(h, CURLOPT_CAINFO, cfg->tls.root_ca);
	cc = curl_easy_perform(h);
	if (cc == CURLE_WRITE_ERROR) {
		rc = diag_fail(d, -EFBIG, "%s %s: response over %zu bytes", method, url.data, NTF_REMOTE_MAX_BODY);
		goto out;
	}
	if (cc != CURLE_OK) {
		rc = diag_fail(d, -EIO, "%s %s: %s", method, url.data, curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		rc = diag_fail(d, -EIO, "%s %s: status %ld: %.200s", method, url.data, status, resp.data ? resp.data : "");
		goto out;
	}
	*ret = json_loadb(resp.data ? resp.data : "", resp.len, 0, NULL);
	rc = *ret ? 0 : diag_fail(d, -EBADMSG, "%s %s: the response is not JSON", method, url.data);
	goto out;
oom:
	rc = diag_fail(d, -ENOMEM, "out of memory");
out:
	if (h)
		curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	free(tok);
	buf_release(&url);
	buf_release(&line);
	buf_release(&resp);
	return rc;
}
