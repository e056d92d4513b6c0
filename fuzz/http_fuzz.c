/* http_fuzz: the HTTP/1.x request head parser and the chunked body decoder of scanner/httpapi.
 *
 * The input is a raw request. The head is parsed from an exact-size copy (reads past the end
 * are caught), then again byte by byte as it would arrive on a socket: every prefix must report
 * "need more" (0) or the same final answer. The bytes after a complete head go to the chunked
 * decoder, at once and in pieces; both must agree. The input with its first byte dropped is
 * decoded as a chunked body too, so bodies are fuzzed without a valid head in front. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "fuzz/fuzz.h"
#include "scanner/httpapi/http_int.h"

#define BODY_MAX (1u << 16)

static void check_head(const struct http_head *h, const char *buf, size_t len)
{
	if (h->head_len == 0 || h->head_len > len)
		abort();
	if (!h->method || !h->target || !h->path || !h->query)
		abort();
	if (h->minor != 0 && h->minor != 1)
		abort();
	if (h->n_headers > HTTP_MAX_HEADERS)
		abort();
	if (h->chunked && h->content_length >= 0)
		abort();
	if (h->path[0] != '/')
		abort();
	/* every string points into the head */
	if (h->method < buf || h->method >= buf + h->head_len || h->path < buf || h->path >= buf + h->head_len)
		abort();
	for (size_t i = 0; i < h->n_headers; i++) {
		if (!h->headers[i].name || !h->headers[i].value || !h->headers[i].name[0])
			abort();
		if (h->headers[i].name < buf || h->headers[i].name >= buf + h->head_len)
			abort();
		(void)strlen(h->headers[i].value);
	}
	(void)strlen(h->query);
}

/* Decodes raw[0..len) at once, then in pieces of growing size; returns the one-shot result. */
static int decode_body(const char *raw, size_t len, unsigned step_seed)
{
	struct http_chunked c1 = {0, 0, 0}, c2 = {0, 0, 0};
	struct buf o1, o2;
	int r1, r2 = 0;
	size_t fed = 0, step = (step_seed % 7) + 1;

	buf_init(&o1, BODY_MAX);
	buf_init(&o2, BODY_MAX);
	r1 = http_chunked_decode(&c1, raw, len, &o1);
	if (r1 == 1 && (c1.state != 4 || c1.in_pos > len))
		abort();
	if (r1 == 0 && c1.in_pos > len)
		abort();
	/* streaming: the decoder sees the same buffer grow */
	while (fed < len) {
		fed = fed + step > len ? len : fed + step;
		r2 = http_chunked_decode(&c2, raw, fed, &o2);
		if (r2 != 0)
			break;
	}
	/* when the stream completed, the one-shot decode completed the same way */
	if (r2 == 1 && (r1 != 1 || c1.in_pos != c2.in_pos || o1.len != o2.len ||
			(o1.len && memcmp(o1.data, o2.data, o1.len) != 0))) {
		fprintf(stderr, "http_fuzz: streaming/one-shot chunked mismatch: r1=%d r2=%d pos %zu/%zu len %zu/%zu\n",
			r1, r2, c1.in_pos, c2.in_pos, o1.len, o2.len);
		abort();
	}
	buf_release(&o1);
	buf_release(&o2);
	return r1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_head *h = NULL, *h2 = NULL;
	char *copy = NULL, *copy2 = NULL;
	int rc;

	if (size > 65536)
		return 0;
	h = malloc(sizeof(*h));
	h2 = malloc(sizeof(*h2));
	copy = malloc(size ? size : 1);
	copy2 = malloc(size ? size : 1);
	if (!h || !h2 || !copy || !copy2)
		goto out;
	if (size)
		memcpy(copy, data, size);
	rc = http_head_parse(copy, size, h);
	if (rc != 1 && rc != 0 && rc != -EBADMSG && rc != -E2BIG && rc != -ENOTSUP)
		abort();
	if (rc == 1) {
		check_head(h, copy, size);
		if (h->chunked)
			(void)decode_body(copy + h->head_len, size - h->head_len, (unsigned)size);
	}
	/* incremental arrival: a prefix is "need more" or already final; the first non-zero
	 * answer equals the answer for the whole input */
	if (size <= 4096) {
		size_t step = size > 512 ? 13 : 1;
		for (size_t n = 0; n <= size; n += step) {
			int r;
			if (n)
				memcpy(copy2, data, n);
			r = http_head_parse(copy2, n, h2);
			if (r == 0)
				continue;
			if (r != rc) {
				fprintf(stderr, "http_fuzz: prefix %zu answers %d, whole input %d\n", n, r, rc);
				abort();
			}
			if (r == 1 && h2->head_len != h->head_len)
				abort();
			break;
		}
	}
	if (size)
		(void)decode_body((const char *)data + 1, size - 1, data[0]);
out:
	free(h);
	free(h2);
	free(copy);
	free(copy2);
	return 0;
}
