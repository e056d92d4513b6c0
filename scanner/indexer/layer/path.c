/* path.c: archive path normalization and claircore-compatible digest parsing. */
#include "scanner/indexer/layer/layer_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Appends the components of in onto out (length *len, normalized already). strict: ".." above
 * the root is -EXDEV instead of being dropped. */
static int path_push(const char *in, char *out, size_t n, size_t *len, int strict)
{
	const char *p = in;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *e = strchr(p, '/');
		size_t cl = e ? (size_t)(e - p) : strlen(p);
		if (cl == 1 && p[0] == '.') {
			/* nothing */
		} else if (cl == 2 && p[0] == '.' && p[1] == '.') {
			if (*len == 0) {
				if (strict)
					return -EXDEV;
			} else {
				char *slash = memrchr(out, '/', *len);
				*len = slash ? (size_t)(slash - out) : 0;
				out[*len] = 0;
			}
		} else {
			size_t need = *len + (*len ? 1 : 0) + cl;
			if (need + 1 > n)
				return -ENAMETOOLONG;
			if (*len)
				out[(*len)++] = '/';
			memcpy(out + *len, p, cl);
			*len += cl;
			out[*len] = 0;
		}
		p += cl;
	}
	return 0;
}

int layer_path_normalize(const char *in, char *out, size_t n)
{
	size_t len = 0;
	if (!in || !out || n == 0)
		return -EINVAL;
	out[0] = 0;
	int err = path_push(in, out, n, &len, 0);
	if (err < 0)
		out[0] = 0;
	return err;
}

int layer_path_join_strict(const char *dir, const char *target, char *out, size_t n)
{
	size_t len = 0;
	int err;
	if (!dir || !target || !out || n == 0)
		return -EINVAL;
	out[0] = 0;
	if (target[0] != '/') {
		err = path_push(dir, out, n, &len, 1);
		if (err < 0)
			goto out;
	}
	err = path_push(target, out, n, &len, 1);
out:
	if (err < 0)
		out[0] = 0;
	return err;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int layer_digest_parse(const char *s, struct layer_digest *ret, struct diag *d)
{
	memset(ret, 0, sizeof(*ret));
	if (!s)
		return diag_fail(d, -EINVAL, "invalid digest format");
	const char *colon = strchr(s, ':');
	if (!colon)
		return diag_fail(d, -EINVAL, "invalid digest format");
	size_t al = (size_t)(colon - s);
	const char *hex = colon + 1;
	size_t hl = strlen(hex);
	if (hl % 2)
		return diag_fail(d, -EINVAL, "unable to decode digest as hex");
	size_t blen = hl / 2;
	for (size_t i = 0; i < hl; i++)
		if (hexval((unsigned char)hex[i]) < 0)
			return diag_fail(d, -EINVAL, "unable to decode digest as hex");
	size_t want;
	if (al == 6 && memcmp(s, "sha256", 6) == 0) {
		ret->algo = LAYER_DIGEST_SHA256;
		want = 32;
	} else if (al == 6 && memcmp(s, "sha512", 6) == 0) {
		ret->algo = LAYER_DIGEST_SHA512;
		want = 64;
	} else {
		/* Go's %q, good enough for what ends up in an error message */
		char q[96];
		size_t o = 0;
		for (size_t i = 0; i < al && o + 5 < sizeof(q); i++) {
			unsigned char c = (unsigned char)s[i];
			if (c == '"' || c == '\\') {
				q[o++] = '\\';
				q[o++] = (char)c;
			} else if (c < 0x20 || c >= 0x7f) {
				o += (size_t)snprintf(q + o, sizeof(q) - o, "\\x%02x", c);
			} else {
				q[o++] = (char)c;
			}
		}
		q[o] = 0;
		memset(ret, 0, sizeof(*ret));
		return diag_fail(d, -EINVAL, "unknown algorthm \"%s\"", q);
	}
	if (blen != want) {
		memset(ret, 0, sizeof(*ret));
		return diag_fail(d, -EINVAL, "bad checksum length: %zu", blen);
	}
	ret->len = want;
	for (size_t i = 0; i < want; i++)
		ret->sum[i] =
		    (unsigned char)(hexval((unsigned char)hex[2 * i]) << 4 | hexval((unsigned char)hex[2 * i + 1]));
	static const char digits[] = "0123456789abcdef";
	size_t o = 0;
	memcpy(ret->str, s, 6);
	o = 6;
	ret->str[o++] = ':';
	for (size_t i = 0; i < want; i++) {
		ret->str[o++] = digits[ret->sum[i] >> 4];
		ret->str[o++] = digits[ret->sum[i] & 15];
	}
	ret->str[o] = 0;
	return 0;
}
