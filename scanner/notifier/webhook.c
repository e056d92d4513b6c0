/* Webhook deliverer: POST {"notification_id","callback"} to notifier.webhook.target. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "common/jwt.h"
#include "scanner/notifier/notifier_int.h"

#define WEBHOOK_TIMEOUT_S 30

struct webhook {
	struct ntf_deliverer base;
	const struct clair_config *cfg;
};

char *ntf_callback_url(const char *base, const char *id)
{
	struct buf b = BUF_INIT;
	size_t n = base ? strlen(base) : 0;
	if (buf_append(&b, base ? base : "", n) < 0 || ((n == 0 || base[n - 1] != '/') && buf_putc(&b, '/') < 0) ||
	    buf_puts(&b, id) < 0) {
		buf_release(&b);
		return NULL;
	}
	return buf_steal(&b);
}

char *ntf_callback_body(const char *base, const char *id)
{
	char *url = ntf_callback_url(base, id), *text = NULL;
	json_t *o;
	if (!url)
		return NULL;
	o = json_pack("{s:s,s:s}", "notification_id", id, "callback", url);
	if (o)
		text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	free(url);
	return text;
}

static size_t discard(char *p, size_t sz, size_t nm, void *ud)
{
	size_t *seen = ud;
	(void)p;
	*seen += sz * nm;
	return sz * nm; /* the reply is read and dropped: only the status counts */
}

static int webhook_deliver(struct ntf_deliverer *dl, const char *id, const json_t *notifs, struct diag *d)
{
	struct webhook *w = (struct webhook *)dl;
	const struct config_webhook *c = &w->cfg->notifier.webhook;
	const struct config_psk *psk = &w->cfg->auth.psk;
	struct curl_slist *hdrs = NULL, *t;
	struct buf line = BUF_INIT;
	char *body = NULL, *tok = NULL;
	CURL *h = NULL;
	long status = 0;
	size_t seen = 0;
	CURLcode cc;
	int rc = -EIO;

	(void)notifs;
	body = ntf_callback_body(c->callback, id);
	if (!body)
		return diag_fail(d, -ENOMEM, "out of memory");
	h = curl_easy_init();
	if (!h) {
		rc = diag_fail(d, -ENOMEM, "curl_easy_init failed");
		goto out;
	}
	t = curl_slist_append(hdrs, "Content-Type: application/json");
	if (!t)
		goto oom;
	hdrs = t;
	for (size_t i = 0; i < c->headers.n; i++) {
		for (size_t j = 0; j < c->headers.v[i].values.n; j++) {
			buf_reset(&line);
			if (buf_printf(&line, "%s: %s", c->headers.v[i].name, c->headers.v[i].values.v[j]) < 0)
				goto oom;
			if (!(t = curl_slist_append(hdrs, line.data)))
				goto oom;
			hdrs = t;
		}
	}
	if (psk->set && psk->key_len) {
		if ((rc = jwt_sign_psk(psk->key_bytes, psk->key_len, "clair-notifier", 0, &tok, d)) < 0)
			goto out;
		buf_reset(&line);
		if (buf_printf(&line, "Authorization: Bearer %s", tok) < 0 || !(t = curl_slist_append(hdrs, line.data)))
			goto oom;
		hdrs = t;
	}
	curl_easy_setopt(h, CURLOPT_URL, c->target);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "clair/notifier");
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)WEBHOOK_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &seen);
	if (w->cfg->tls.root_ca)
		curl_easy_setopt(h, CURLOPT_CAINFO, w->cfg->tls.root_ca);
	cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		rc = diag_fail(d, -EIO, "webhook %s: %s", c->target, curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		rc = diag_fail(d, -EIO, "webhook %s answered %ld", c->target, status);
		goto out;
	}
	rc = 0;
	goto out;
oom:
	rc = diag_fail(d, -ENOMEM, "out of memory");
out:
	curl_slist_free_all(hdrs);
	if (h)
		curl_easy_cleanup(h);
	buf_release(&line);
	free(body);
	free(tok);
	return rc;
}

static void webhook_free(struct ntf_deliverer *dl)
{
	free(dl);
}

int ntf_webhook_new(const struct clair_config *cfg, struct ntf_deliverer **ret, struct diag *d)
{
	struct webhook *w;
	if (!cfg->notifier.webhook.target || !*cfg->notifier.webhook.target)
		return diag_fail(d, -EINVAL, "notifier.webhook.target is required");
	w = calloc(1, sizeof(*w));
	if (!w)
		return diag_fail(d, -ENOMEM, "out of memory");
	w->base.name = "webhook";
	w->base.direct = 0;
	w->base.deliver = webhook_deliver;
	w->base.free = webhook_free;
	w->cfg = cfg;
	*ret = &w->base;
	return 0;
}
