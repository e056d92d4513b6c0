/* base64: RFC 4648 encoding and decoding, standard (§4, padded) and URL-safe (§5, unpadded).
 *
 * Decoding is strict: every character must belong to the variant's alphabet (no whitespace, no
 * line breaks); BASE64_STD input must be a multiple of 4 characters with '=' only as the last one
 * or two; BASE64_URL input must not contain '=' and its length must not be 1 mod 4. Non-zero bits
 * in the last character's unused low bits are accepted (as Go's StdEncoding/RawURLEncoding do,
 * which is what Clair uses for its PSK and go-jose for JWS segments) unless BASE64_CANONICAL is
 * or-ed into the variant. */
#ifndef COMMON_BASE64_H
#define COMMON_BASE64_H

#include <stddef.h>

enum base64_variant {
	BASE64_STD = 0,       /* A-Z a-z 0-9 + /, padded with '=' */
	BASE64_URL = 1,       /* A-Z a-z 0-9 - _, no padding */
	BASE64_CANONICAL = 2, /* flag (decode only): reject non-zero unused trailing bits */
};

/* Characters base64_encode() writes for n input bytes, without the NUL. */
size_t base64_encoded_len(size_t n, int variant);
/* Upper bound of the bytes decoding n characters can produce. */
size_t base64_decoded_max(size_t n);

/* Encodes n bytes into out (NUL-terminated); outlen must be at least base64_encoded_len()+1,
 * otherwise -ENOBUFS. */
int base64_encode(const void *in, size_t n, int variant, char *out, size_t outlen);
/* Same into a heap string (*ret, caller frees). -ENOMEM or 0. */
int base64_encode_alloc(const void *in, size_t n, int variant, char **ret);

/* Decodes n characters of in into out. Returns 0 with *ret_len set, -EINVAL on bad input
 * (alphabet, length, padding), -ENOBUFS when out is too small (base64_decoded_max(n) always
 * suffices). out is not NUL-terminated. */
int base64_decode(const char *in, size_t n, int variant, unsigned char *out, size_t outlen, size_t *ret_len);
/* Same into a heap buffer (*ret, caller frees; one extra NUL byte is appended after the data
 * so text payloads can be used as C strings). */
int base64_decode_alloc(const char *in, size_t n, int variant, unsigned char **ret, size_t *ret_len);

/* Conveniences for NUL-terminated text: the standard (padded) and URL-safe (unpadded) forms. */
int base64_encode_std_alloc(const void *in, size_t n, char **ret);
int base64_encode_url_alloc(const void *in, size_t n, char **ret);
int base64_decode_std_alloc(const char *s, unsigned char **ret, size_t *ret_len);
int base64_decode_url_alloc(const char *s, unsigned char **ret, size_t *ret_len);

#endif
