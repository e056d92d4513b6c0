/* jwt: HMAC-signed JSON Web Tokens (JWS compact serialization), as Clair's PSK auth uses them.
 *
 * Signing always produces HS256 with the header {"alg":"HS256","typ":"JWT"}. Verification follows
 * Clair's server side (go-jose v3 jwt.ParseSigned + Claims + ValidateWithLeeway):
 *   - exactly three base64url (unpadded) segments, the whole token at most JWT_MAX_TOKEN bytes;
 *   - header: a JSON object whose "alg" is HS256, HS384 or HS512 ("none" and everything else are
 *     rejected); a "crit" header is rejected;
 *   - signature: HMAC over "<header>.<payload>" with the raw key bytes, compared in constant time;
 *   - payload: a JSON object; "iss" is required, must be a string equal to one of opts->issuers;
 *     "exp", "nbf", "iat" are optional (null = absent), numbers (integer or float, truncated);
 *     with L = leeway_s: reject if now - L > exp, now + L < nbf, or now + L < iat;
 *     "aud" (string or array of strings), "sub" and "jti" (strings) are type-checked like
 *     go-jose's unmarshalling does, but their values are not checked.
 * Keys must not be empty. */
#ifndef COMMON_JWT_H
#define COMMON_JWT_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "common/diag.h"

#define JWT_MAX_TOKEN 8192
#define JWT_CLAIR_LEEWAY_S 15

/* Signs claims (a JSON object, borrowed) with HS256 and the raw key bytes; *ret is heap.
 * Returns 0, -EINVAL (claims not an object, empty key) or -ENOMEM. */
int jwt_sign_hs256(const unsigned char *key, size_t key_len, const json_t *claims, char **ret, struct diag *d);

/* Builds and signs {"iss":iss,"iat":now,"nbf":now-60,"exp":now+60} (Clair's signer rule;
 * Quay's webhook receiver requires nbf, iat and exp). now == 0 means time(NULL). */
int jwt_sign_psk(const unsigned char *key, size_t key_len, const char *iss, time_t now, char **ret, struct diag *d);

struct jwt_verify_opts {
	const unsigned char *key;
	size_t key_len;
	const char *const *issuers; /* iss must equal one of them */
	size_t n_issuers;
	int leeway_s; /* JWT_CLAIR_LEEWAY_S for Clair; negative is treated as 0 */
	time_t now;   /* 0 = time(NULL) */
};

/* 0 when valid; -EACCES (bad signature, unsupported alg, claim checks) or -EINVAL (malformed:
 * size over JWT_MAX_TOKEN, segment count, base64url, JSON, claim types, empty key) with the reason
 * in d; -ENOMEM. Callers answering HTTP treat every non-zero result as 401. */
int jwt_verify(const char *token, const struct jwt_verify_opts *o, struct diag *d);

/* Extracts the token from an Authorization header value: exact, case-sensitive "Bearer " prefix.
 * Returns a pointer into header_value, or NULL when the prefix is missing (or header_value is
 * NULL). */
const char *jwt_from_authorization(const char *header_value);

#endif
