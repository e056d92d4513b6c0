/* jwt_fuzz: jwt_verify, jwt_from_authorization and base64 decoding (both variants).
 *
 * The first byte picks the mode:
 *   'T' (or anything else): the rest is a token, verified as is (reaches the segment, base64 and
 *        header checks; signatures are unforgeable, so claims are rarely reached this way);
 *   'S': the rest is "<header JSON>\n<payload JSON>"; both are base64url-encoded and signed
 *        with the fixed key (HS256/384/512 chosen by the header's alg, default HS256) so the
 *        header and claim checks are fuzzed behind a valid signature.
 * The whole input is also base64-decoded in every variant; a successful decode must
 * re-encode to an input that decodes to the same bytes (and, canonically, to the input). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/base64.h"
#include "common/jwt.h"
#include "fuzz/fuzz.h"

static const unsigned char key[] = "fuzz-secret-key-0123456789";
static const char *const issuers[] = {"clairctl", "quay", "notifier"};
#define FUZZ_NOW ((time_t)1700000000)

static void check_base64(const uint8_t *data, size_t size)
{
	static const int variants[] = {BASE64_STD, BASE64_URL, BASE64_STD | BASE64_CANONICAL,
				       BASE64_URL | BASE64_CANONICAL};

	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		unsigned char *out = NULL, *out2 = NULL;
		char *enc = NULL;
		size_t n = 0, n2 = 0;
		int v = variants[i];

		if (base64_decode_alloc((const char *)data, size, v, &out, &n) < 0)
			continue;
		if (n > base64_decoded_max(size) || out[n] != '\0')
			abort();
		/* a buffer one byte short is refused, never overrun (ASan sees the exact size) */
		if (n) {
			unsigned char *ex = malloc(n - 1 ? n - 1 : 1);
			size_t nx = 0;
			if (ex) {
				if (base64_decode((const char *)data, size, v, ex, n - 1, &nx) != -ENOBUFS)
					abort();
				free(ex);
			}
		}
		if (base64_encode_alloc(out, n, v & ~BASE64_CANONICAL, &enc) < 0)
			goto next;
		if (strlen(enc) != base64_encoded_len(n, v & ~BASE64_CANONICAL))
			abort();
		if (base64_decode_alloc(enc, strlen(enc), v, &out2, &n2) != 0 || n2 != n ||
		    memcmp(out, out2, n) != 0)
			abort(); /* encode/decode round trip */
		if ((v & BASE64_CANONICAL) && (strlen(enc) != size || memcmp(enc, data, size) != 0))
			abort(); /* canonical input is the unique encoding */
next:
		free(out);
		free(out2);
		free(enc);
	}
	/* the NUL-terminated conveniences */
	{
		char *s = fuzz_strndup(data, size);
		unsigned char *o = NULL;
		size_t n = 0;
		if (s) {
			if (base64_decode_std_alloc(s, &o, &n) == 0)
				free(o);
			o = NULL;
			if (base64_decode_url_alloc(s, &o, &n) == 0)
				free(o);
			free(s);
		}
	}
}

static void verify(const char *token)
{
	struct diag d;
	struct jwt_verify_opts o = {
		.key = key,
		.key_len = sizeof(key) - 1,
		.issuers = issuers,
		.n_issuers = sizeof(issuers) / sizeof(issuers[0]),
		.leeway_s = JWT_CLAIR_LEEWAY_S,
		.now = FUZZ_NOW,
	};
	int rc;

	d.msg[0] = '\0';
	rc = jwt_verify(token, &o, &d);
	if (rc != 0 && rc != -EACCES && rc != -EINVAL && rc != -ENOMEM)
		abort();
	if (rc != 0 && !d.msg[0])
		abort(); /* every failure says why */
	if (strlen(d.msg) >= sizeof(d.msg))
		abort();
	o.leeway_s = -5;
	o.n_issuers = 0;
	(void)jwt_verify(token, &o, &d); /* no issuer can match */
}

static void sign_and_verify(const uint8_t *data, size_t size)
{
	size_t h_len, p_off;
	char *h64 = NULL, *p64 = NULL, *signing = NULL, *sig64 = NULL, *token = NULL;
	const EVP_MD *md = EVP_sha256();
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	size_t sl;

	fuzz_split(data, size, &h_len, &p_off);
	if (memmem(data, h_len, "HS384", 5))
		md = EVP_sha384();
	else if (memmem(data, h_len, "HS512", 5))
		md = EVP_sha512();
	if (base64_encode_url_alloc(data, h_len, &h64) < 0 ||
	    base64_encode_url_alloc(data + p_off, size - p_off, &p64) < 0)
		goto out;
	sl = strlen(h64) + strlen(p64) + 2;
	signing = malloc(sl);
	if (!signing)
		goto out;
	snprintf(signing, sl, "%s.%s", h64, p64);
	if (!HMAC(md, key, (int)(sizeof(key) - 1), (const unsigned char *)signing, strlen(signing), mac,
		  &mac_len))
		goto out;
	if (base64_encode_url_alloc(mac, mac_len, &sig64) < 0)
		goto out;
	sl = strlen(signing) + strlen(sig64) + 2;
	token = malloc(sl);
	if (!token)
		goto out;
	snprintf(token, sl, "%s.%s", signing, sig64);
	verify(token);
out:
	free(h64);
	free(p64);
	free(signing);
	free(sig64);
	free(token);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size > 2 * JWT_MAX_TOKEN)
		return 0;
	check_base64(data, size);
	if (size && data[0] == 'S') {
		sign_and_verify(data + 1, size - 1);
		return 0;
	}
	s = fuzz_strndup(size ? data + 1 : data, size ? size - 1 : 0);
	if (!s)
		return 0;
	verify(s);
	{
		const char *t = jwt_from_authorization(s);
		if (t && (t < s || t > s + strlen(s)))
			abort();
		if (t)
			verify(t);
	}
	free(s);
	return 0;
}
