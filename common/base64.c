#include "common/base64.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char std_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t base64_encoded_len(size_t n, int variant)
{
	if (variant & BASE64_URL)
		return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
	return (n + 2) / 3 * 4;
}

size_t base64_decoded_max(size_t n)
{
	return n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0) + (n % 4 == 1);
}

int base64_encode(const void *in, size_t n, int variant, char *out, size_t outlen)
{
	const unsigned char *p = in;
	const char *a = (variant & BASE64_URL) ? url_alphabet : std_alphabet;
	size_t need = base64_encoded_len(n, variant);
	size_t i, o = 0;

	if (n > (SIZE_MAX - 4) / 4 * 3 || outlen < need + 1)
		return -ENOBUFS;
	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = a[v >> 6 & 63];
		out[o++] = a[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;
		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		if (!(variant & BASE64_URL)) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = a[v >> 6 & 63];
		if (!(variant & BASE64_URL))
			out[o++] = '=';
	}
	out[o] = '\0';
	return 0;
}

int base64_encode_alloc(const void *in, size_t n, int variant, char **ret)
{
	size_t need;
	char *s;
	int r;

	*ret = NULL;
	if (n > (SIZE_MAX - 8) / 4 * 3)
		return -ENOMEM;
	need = base64_encoded_len(n, variant) + 1;
	s = malloc(need);
	if (!s)
		return -ENOMEM;
	r = base64_encode(in, n, variant, s, need);
	if (r < 0) {
		free(s);
		return r;
	}
	*ret = s;
	return 0;
}

/* Returns the 6-bit value of c in the variant's alphabet, or -1. */
static int decode_char(unsigned char c, int url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

int base64_decode(const char *in, size_t n, int variant, unsigned char *out, size_t outlen, size_t *ret_len)
{
	int url = !!(variant & BASE64_URL);
	size_t data = n, i, o = 0, tail;
	uint32_t acc = 0;

	if (ret_len)
		*ret_len = 0;
	if (!url) {
		if (n % 4)
			return -EINVAL;
		if (n >= 1 && in[n - 1] == '=') {
			data--;
			if (n >= 2 && in[n - 2] == '=')
				data--;
		}
	}
	tail = data % 4;
	if (tail == 1)
		return -EINVAL;
	if (base64_decoded_max(data) > outlen)
		return -ENOBUFS;
	for (i = 0; i < data; i++) {
		int v = decode_char((unsigned char)in[i], url);
		if (v < 0)
			return -EINVAL;
		acc = acc << 6 | (uint32_t)v;
		if (i % 4 == 3) {
			out[o++] = (unsigned char)(acc >> 16);
			out[o++] = (unsigned char)(acc >> 8);
			out[o++] = (unsigned char)acc;
			acc = 0;
		}
	}
	if (tail == 2) {
		if ((variant & BASE64_CANONICAL) && (acc & 0xf))
			return -EINVAL;
		out[o++] = (unsigned char)(acc >> 4);
	} else if (tail == 3) {
		if ((variant & BASE64_CANONICAL) && (acc & 0x3))
			return -EINVAL;
		out[o++] = (unsigned char)(acc >> 10);
		out[o++] = (unsigned char)(acc >> 2);
	}
	if (ret_len)
		*ret_len = o;
	return 0;
}

int base64_decode_alloc(const char *in, size_t n, int variant, unsigned char **ret, size_t *ret_len)
{
	size_t cap = base64_decoded_max(n);
	unsigned char *p;
	size_t len = 0;
	int r;

	*ret = NULL;
	if (ret_len)
		*ret_len = 0;
	p = malloc(cap + 1);
	if (!p)
		return -ENOMEM;
	r = base64_decode(in, n, variant, p, cap, &len);
	if (r < 0) {
		free(p);
		return r;
	}
	p[len] = '\0';
	*ret = p;
	if (ret_len)
		*ret_len = len;
	return 0;
}

int base64_encode_std_alloc(const void *in, size_t n, char **ret)
{
	return base64_encode_alloc(in, n, BASE64_STD, ret);
}

int base64_encode_url_alloc(const void *in, size_t n, char **ret)
{
	return base64_encode_alloc(in, n, BASE64_URL, ret);
}

int base64_decode_std_alloc(const char *s, unsigned char **ret, size_t *ret_len)
{
	return base64_decode_alloc(s, strlen(s), BASE64_STD, ret, ret_len);
}

int base64_decode_url_alloc(const char *s, unsigned char **ret, size_t *ret_len)
{
	return base64_decode_alloc(s, strlen(s), BASE64_URL, ret, ret_len);
}
