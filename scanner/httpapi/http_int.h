/* Internals shared by the files of scanner/httpapi. */
#ifndef SCANNER_HTTPAPI_HTTP_INT_H
#define SCANNER_HTTPAPI_HTTP_INT_H

#include <stddef.h>
#include <stdint.h>

#include "scanner/httpapi/http.h"

#define HTTP_MAX_HEADERS 100

/* route.c */
/* Go path.Clean semantics plus ServeMux's "keep a trailing slash". out gets the cleaned path
 * (NUL-terminated; n >= strlen(p) + 2 always suffices). Returns its length or -EFBIG. */
int http_path_clean(const char *p, char *out, size_t n);
/* Percent-decodes in place (plus_space: '+' -> ' '). -EBADMSG on a bad escape or %00. */
int http_pct_decode(char *s, int plus_space, size_t *ret_len);
enum http_match {
	HTTP_MATCH_NONE = 0,
	HTTP_MATCH_OK = 1,
	HTTP_MATCH_BAD_METHOD = 2,
};
/* Finds the route for method/path. On HTTP_MATCH_OK, *ret_idx is the route and params are
 * written to params[] as pointers into scratch (a writable copy of path, same size + 1). */
enum http_match http_route_find(const struct http_route *routes, size_t n, const char *method,
				const char *path, char *scratch, size_t *ret_idx,
				const char *params[HTTP_MAX_PARAMS], size_t *ret_n_params);

/* parse.c: one HTTP/1.x request head. Strings point into the (modified) input. */
struct http_head {
	char *method, *target, *path, *query;
	int minor;         /* HTTP/1.<minor> */
	int keep_alive;    /* per version and Connection header */
	int chunked;
	int expect_continue;
	long long content_length; /* -1 when absent */
	struct http_header headers[HTTP_MAX_HEADERS];
	size_t n_headers;
	size_t head_len;   /* bytes up to and including the blank line */
};
/* Parses buf[0..len). Returns 1 when a full head was parsed (buf is modified: NULs inserted),
 * 0 when more data is needed, -EBADMSG when malformed, -E2BIG when too many headers,
 * -ENOTSUP for unsupported transfer codings. */
int http_head_parse(char *buf, size_t len, struct http_head *h);
/* Moves every pointer of h from the block at old_base to the same offsets in new_base (the
 * input buffer was reallocated between the head and the end of the body). */
void http_head_rebase(struct http_head *h, uintptr_t old_base, char *new_base);
/* Chunked body decoder state over the raw bytes that follow the head. */
struct http_chunked {
	size_t in_pos;   /* offset into the raw body bytes already consumed */
	size_t remain;   /* bytes left in the current chunk data (+2 for CRLF handled by state) */
	int state;       /* 0 size line, 1 data, 2 data CRLF, 3 trailers, 4 done */
};
/* Consumes raw[in_pos..len) appending decoded data to out (capped by out->max).
 * Returns 1 when the body is complete, 0 when more is needed, -EBADMSG, -EFBIG. */
int http_chunked_decode(struct http_chunked *c, const char *raw, size_t len, struct buf *out);

/* response.c */
void http_response_init(struct http_response *w);
void http_response_release(struct http_response *w);
/* Serializes the status line, headers and body into out (after out's current content).
 * head_only: HEAD request (Content-Length kept, body dropped). */
int http_response_serialize(const struct http_response *w, int head_only, int keep_alive,
			    struct buf *out);
/* "Sun, 06 Nov 1994 08:49:37 GMT", cached per second per thread. */
const char *http_date_now(void);

#endif
