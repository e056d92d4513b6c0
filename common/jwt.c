#include "common/jwt.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/base64.h"
#include "common/buf.h"

#define JWT_SIGN_HEADER "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
/* numeric claims are clamped to this magnitude so that now +/- leeway never overflows */
#define JWT_TIME_CLAMP ((long long)1 << 62)

struct jwt_alg {
	const char *name;
	const EVP_MD *(*md)(void);
};

static const struct jwt_alg jwt_algs[] = {
    {"HS256", EVP_sha256},
    {"HS384", EVP_sha384},
    {"HS512", EVP_sha512},
};

static int jwt_hmac(const struct jwt_alg *alg, const unsigned char *key, size_t key_len, const char *data, size_t n,
                    unsigned char *out, unsigned int *ret_len, struct diag *d)
{
	if (!key || key_len == 0)
		return diag_fail(d, -EINVAL, "empty signing key");
	if (key_len > INT_MAX)
		return diag_fail(d, -EINVAL, "signing key too long");
	if (!HMAC(alg->md(), key, (int)key_len, (const unsigned char *)data, n, out, ret_len))
		return diag_fail(d, -ENOMEM, "hmac %s failed", alg->name);
	return 0;
}

/* Appends the base64url form of n bytes to b. */
static int jwt_put_b64(struct buf *b, const void *p, size_t n)
{
	size_t len = base64_encoded_len(n, BASE64_URL);
	int r = buf_reserve(b, len + 1);
	if (r < 0)
		return r;
	r = base64_encode(p, n, BASE64_URL, b->data + b->len, b->cap - b->len);
	if (r < 0)
		return r;
	b->len += len;
	return 0;
}

int jwt_sign_hs256(const unsigned char *key, size_t key_len, const json_t *claims, char **ret, struct diag *d)
{
	struct buf b = BUF_INIT;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	char *payload = NULL;
	int r;

	*ret = NULL;
	if (!json_is_object(claims)) {
		r = diag_fail(d, -EINVAL, "jwt claims must be a json object");
		goto out;
	}
	payload = json_dumps(claims, JSON_COMPACT);
	if (!payload) {
		r = diag_fail(d, -ENOMEM, "could not serialize jwt claims");
		goto out;
	}
	r = jwt_put_b64(&b, JWT_SIGN_HEADER, strlen(JWT_SIGN_HEADER));
	if (r == 0)
		r = buf_putc(&b, '.');
	if (r == 0)
		r = jwt_put_b64(&b, payload, strlen(payload));
	if (r < 0) {
		r = diag_fail(d, r, "could not build jwt");
		goto out;
	}
	r = jwt_hmac(&jwt_algs[0], key, key_len, b.data, b.len, mac, &mac_len, d);
	if (r < 0)
		goto out;
	r = buf_putc(&b, '.');
	if (r == 0)
		r = jwt_put_b64(&b, mac, mac_len);
	if (r < 0) {
		r = diag_fail(d, r, "could not build jwt");
		goto out;
	}
	*ret = buf_steal(&b);
	if (!*ret)
		r = diag_fail(d, -ENOMEM, "could not build jwt");
out:
	OPENSSL_cleanse(mac, sizeof(mac));
	free(payload);
	buf_release(&b);
	return r;
}

int jwt_sign_psk(const unsigned char *key, size_t key_len, const char *iss, time_t now, char **ret, struct diag *d)
{
	json_t *claims;
	int r;

	*ret = NULL;
	if (!iss)
		return diag_fail(d, -EINVAL, "jwt issuer missing");
	if (now == 0)
		now = time(NULL);
	claims = json_pack("{s:s,s:I,s:I,s:I}", "iss", iss, "iat", (json_int_t)now, "nbf", (json_int_t)(now - 60),
	                   "exp", (json_int_t)(now + 60));
	if (!claims)
		return diag_fail(d, -ENOMEM, "could not build jwt claims");
	r = jwt_sign_hs256(key, key_len, claims, ret, d);
	json_decref(claims);
	return r;
}

const char *jwt_from_authorization(const char *header_value)
{
	static const char prefix[] = "Bearer ";
	if (!header_value || strncmp(header_value, prefix, sizeof(prefix) - 1) != 0)
		return NULL;
	return header_value + sizeof(prefix) - 1;
}

/* Decodes one base64url segment and parses it as a JSON object. */
static int jwt_parse_segment(const char *seg, size_t n, const char *what, json_t **ret, struct diag *d)
{
	unsigned char *raw = NULL;
	size_t raw_len = 0;
	json_error_t jerr;
	json_t *j = NULL;
	int r;

	*ret = NULL;
	r = base64_decode_alloc(seg, n, BASE64_URL, &raw, &raw_len);
	if (r < 0) {
		r = diag_fail(d, r == -ENOMEM ? r : -EINVAL, "jwt %s is not valid base64url", what);
		goto out;
	}
	j = json_loadb((const char *)raw, raw_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j) {
		r = diag_fail(d, -EINVAL, "jwt %s is not valid json: %s", what, jerr.text);
		goto out;
	}
	if (!json_is_object(j)) {
		r = diag_fail(d, -EINVAL, "jwt %s is not a json object", what);
		goto out;
	}
	*ret = j;
	j = NULL;
out:
	json_decref(j);
	free(raw);
	return r;
}

/* Reads an optional NumericDate claim: 0 with *present set, or -EINVAL for a wrong type. */
static int jwt_claim_time(const json_t *claims, const char *name, int *present, long long *ret, struct diag *d)
{
	const json_t *v = json_object_get(claims, name);

	*present = 0;
	*ret = 0;
	if (!v || json_is_null(v))
		return 0;
	if (json_is_integer(v)) {
		long long x = json_integer_value(v);
		*ret = x > JWT_TIME_CLAMP ? JWT_TIME_CLAMP : x < -JWT_TIME_CLAMP ? -JWT_TIME_CLAMP : x;
	} else if (json_is_real(v)) {
		double x = json_real_value(v);
		*ret = x >= (double)JWT_TIME_CLAMP    ? JWT_TIME_CLAMP
		       : x <= -(double)JWT_TIME_CLAMP ? -JWT_TIME_CLAMP
		                                      : (long long)x;
	} else {
		return diag_fail(d, -EINVAL, "jwt claim \"%s\" is not a number", name);
	}
	*present = 1;
	return 0;
}

static int jwt_check_types(const json_t *claims, struct diag *d)
{
	static const char *const strings[] = {"iss", "sub", "jti"};
	const json_t *aud;

	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		const json_t *v = json_object_get(claims, strings[i]);
		if (v && !json_is_null(v) && !json_is_string(v))
			return diag_fail(d, -EINVAL, "jwt claim \"%s\" is not a string", strings[i]);
	}
	aud = json_object_get(claims, "aud");
	if (aud && !json_is_null(aud) && !json_is_string(aud)) {
		size_t i;
		const json_t *e;
		if (!json_is_array(aud))
			return diag_fail(d, -EINVAL, "jwt claim \"aud\" is not a string or array");
		json_array_foreach(aud, i, e)
		{
			if (!json_is_string(e))
				return diag_fail(d, -EINVAL, "jwt claim \"aud\" has a non-string member");
		}
	}
	return 0;
}

static int jwt_check_claims(const json_t *claims, const struct jwt_verify_opts *o, struct diag *d)
{
	const json_t *iss;
	long long now, leeway, t;
	int present, r, found = 0;
	const char *s;
	size_t s_len;

	r = jwt_check_types(claims, d);
	if (r < 0)
		return r;
	iss = json_object_get(claims, "iss");
	if (!json_is_string(iss))
		return diag_fail(d, -EACCES, "jwt has no issuer");
	s = json_string_value(iss);
	s_len = json_string_length(iss);
	for (size_t i = 0; i < o->n_issuers && !found; i++)
		found = o->issuers[i] && strlen(o->issuers[i]) == s_len && !memcmp(o->issuers[i], s, s_len);
	if (!found)
		return diag_fail(d, -EACCES, "jwt issuer \"%.64s\" is not accepted", s);

	now = o->now ? (long long)o->now : (long long)time(NULL);
	leeway = o->leeway_s > 0 ? o->leeway_s : 0;
	r = jwt_claim_time(claims, "exp", &present, &t, d);
	if (r < 0)
		return r;
	if (present && now - leeway > t)
		return diag_fail(d, -EACCES, "jwt expired %llds ago", now - t);
	r = jwt_claim_time(claims, "nbf", &present, &t, d);
	if (r < 0)
		return r;
	if (present && now + leeway < t)
		return diag_fail(d, -EACCES, "jwt not valid for another %llds", t - now);
	r = jwt_claim_time(claims, "iat", &present, &t, d);
	if (r < 0)
		return r;
	if (present && now + leeway < t)
		return diag_fail(d, -EACCES, "jwt issued %llds in the future", t - now);
	return 0;
}

int jwt_verify(const char *token, const struct jwt_verify_opts *o, struct diag *d)
{
	const struct jwt_alg *alg = NULL;
	unsigned char mac[EVP_MAX_MD_SIZE], sig[EVP_MAX_MD_SIZE + 4];
	unsigned int mac_len = 0;
	size_t len, sig_len = 0;
	const char *dot1, *dot2, *alg_name;
	json_t *header = NULL, *claims = NULL;
	int r;

	if (!token)
		return diag_fail(d, -EINVAL, "no jwt");
	if (!o->key || o->key_len == 0)
		return diag_fail(d, -EINVAL, "empty verification key");
	len = strnlen(token, JWT_MAX_TOKEN + 1);
	if (len > JWT_MAX_TOKEN)
		return diag_fail(d, -EINVAL, "jwt longer than %d bytes", JWT_MAX_TOKEN);
	dot1 = memchr(token, '.', len);
	dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
	if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
		return diag_fail(d, -EINVAL, "jwt does not have three segments");

	r = jwt_parse_segment(token, (size_t)(dot1 - token), "header", &header, d);
	if (r < 0)
		goto out;
	alg_name = json_string_value(json_object_get(header, "alg"));
	for (size_t i = 0; alg_name && i < sizeof(jwt_algs) / sizeof(jwt_algs[0]); i++)
		if (!strcmp(alg_name, jwt_algs[i].name))
			alg = &jwt_algs[i];
	if (!alg) {
		r = diag_fail(d, -EACCES, "jwt alg \"%.32s\" is not accepted", alg_name ? alg_name : "");
		goto out;
	}
	if (json_object_get(header, "crit")) {
		r = diag_fail(d, -EACCES, "jwt has unsupported critical headers");
		goto out;
	}

	/* the signature segment: an HMAC is at most EVP_MAX_MD_SIZE bytes, anything longer is wrong */
	r = base64_decode(dot2 + 1, len - (size_t)(dot2 + 1 - token), BASE64_URL, sig, sizeof(sig), &sig_len);
	if (r == -ENOBUFS) {
		r = diag_fail(d, -EACCES, "jwt signature mismatch");
		goto out;
	}
	if (r < 0) {
		r = diag_fail(d, -EINVAL, "jwt signature is not valid base64url");
		goto out;
	}
	r = jwt_hmac(alg, o->key, o->key_len, token, (size_t)(dot2 - token), mac, &mac_len, d);
	if (r < 0)
		goto out;
	if (sig_len != mac_len || CRYPTO_memcmp(sig, mac, mac_len) != 0) {
		r = diag_fail(d, -EACCES, "jwt signature mismatch");
		goto out;
	}

	r = jwt_parse_segment(dot1 + 1, (size_t)(dot2 - dot1 - 1), "payload", &claims, d);
	if (r < 0)
		goto out;
	r = jwt_check_claims(claims, o, d);
out:
	OPENSSL_cleanse(mac, sizeof(mac));
	json_decref(header);
	json_decref(claims);
	return r;
}
