#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "scanner/httpapi/http_int.h"

static void t_clean(void **st)
{
	static const char *const cases[][2] = {
		{"/", "/"},           {"//a", "/a"},       {"/a/./b", "/a/b"},
		{"/a/../b", "/b"},    {"/../a", "/a"},     {"/a/b/", "/a/b/"},
		{"/a//b//", "/a/b/"}, {"/a/b/..", "/a"},   {"/a/.", "/a"},
		{"/x/y/../../..", "/"},
	};
	char out[64];
	(void)st;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_true(http_path_clean(cases[i][0], out, sizeof(out)) >= 0);
		assert_string_equal(out, cases[i][1]);
	}
}

static void nop(void *c, const struct http_request *r, struct http_response *w)
{
	(void)c, (void)r, (void)w;
}

static void t_match(void **st)
{
	static const struct http_route rt[] = {
		{"POST", "/indexer/api/v1/index_report", "indexerv1", nop, NULL, 0},
		{"GET", "/indexer/api/v1/index_report/:digest", "indexerv1", nop, NULL, 0},
		{"DELETE", "/indexer/api/v1/index_report/:digest", "indexerv1", nop, NULL, 0},
		{"GET", "/files/*", NULL, nop, NULL, 0},
		{"GET", "/a/:x/b/:y", NULL, nop, NULL, 0},
	};
	const char *p[HTTP_MAX_PARAMS];
	char scratch[128];
	size_t idx, np;
	(void)st;
	assert_int_equal(http_route_find(rt, 5, "POST", "/indexer/api/v1/index_report", scratch, &idx, p, &np), HTTP_MATCH_OK);
	assert_int_equal(idx, 0);
	assert_int_equal(http_route_find(rt, 5, "GET", "/indexer/api/v1/index_report", scratch, &idx, p, &np), HTTP_MATCH_BAD_METHOD);
	assert_int_equal(http_route_find(rt, 5, "DELETE", "/indexer/api/v1/index_report/sha256:ab", scratch, &idx, p, &np), HTTP_MATCH_OK);
	assert_int_equal(idx, 2);
	assert_int_equal(np, 1);
	assert_string_equal(p[0], "sha256:ab");
	assert_int_equal(http_route_find(rt, 5, "HEAD", "/indexer/api/v1/index_report/x", scratch, &idx, p, &np), HTTP_MATCH_OK);
	assert_int_equal(http_route_find(rt, 5, "GET", "/indexer/api/v1/index_report/", scratch, &idx, p, &np), HTTP_MATCH_NONE);
	assert_int_equal(http_route_find(rt, 5, "GET", "/indexer/api/v1/index_report/a/b", scratch, &idx, p, &np), HTTP_MATCH_NONE);
	assert_int_equal(http_route_find(rt, 5, "GET", "/files/x/y", scratch, &idx, p, &np), HTTP_MATCH_OK);
	assert_string_equal(p[0], "x/y");
	assert_int_equal(http_route_find(rt, 5, "GET", "/a/1/b/2", scratch, &idx, p, &np), HTTP_MATCH_OK);
	assert_int_equal(np, 2);
	assert_string_equal(p[0], "1");
	assert_string_equal(p[1], "2");
	assert_int_equal(http_route_find(rt, 5, "GET", "/nope", scratch, &idx, p, &np), HTTP_MATCH_NONE);
}

static void t_parse(void **st)
{
	struct http_head h;
	char ok[] = "GET /a/b?x=1&y=%20z HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nX-A:  v v \r\n\r\nabc";
	char partial[] = "GET / HTTP/1.1\r\nHost: h\r\n";
	char bad1[] = "GARBAGE\r\n\r\n";
	char bad2[] = "GET / HTTP/2.0\r\n\r\n";
	char bad3[] = "GET / HTTP/1.1\r\nNoColon\r\n\r\n";
	char bad4[] = "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n";
	char te[] = "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n";
	char h10[] = "GET / HTTP/1.0\r\n\r\n";
	(void)st;
	assert_int_equal(http_head_parse(ok, strlen(ok), &h), 1);
	assert_string_equal(h.method, "GET");
	assert_string_equal(h.path, "/a/b");
	assert_string_equal(h.query, "x=1&y=%20z");
	assert_int_equal(h.content_length, 3);
	assert_int_equal(h.n_headers, 3);
	assert_string_equal(h.headers[2].value, "v v");
	assert_int_equal(h.head_len, sizeof(ok) - 1 - 3);
	assert_true(h.keep_alive);
	assert_int_equal(http_head_parse(partial, strlen(partial), &h), 0);
	assert_int_equal(http_head_parse(bad1, strlen(bad1), &h), -EBADMSG);
	assert_int_equal(http_head_parse(bad2, strlen(bad2), &h), -EBADMSG);
	assert_int_equal(http_head_parse(bad3, strlen(bad3), &h), -EBADMSG);
	assert_int_equal(http_head_parse(bad4, strlen(bad4), &h), -EBADMSG);
	assert_int_equal(http_head_parse(te, strlen(te), &h), -ENOTSUP);
	assert_int_equal(http_head_parse(h10, strlen(h10), &h), 1);
	assert_false(h.keep_alive);
}

static void t_chunked(void **st)
{
	const char raw[] = "3\r\nabc\r\n10;ext=1\r\n0123456789abcdef\r\n0\r\nTrailer: x\r\n\r\n";
	struct http_chunked c = {0};
	struct buf out = BUF_INIT;
	(void)st;
	/* feed byte by byte */
	int rc = 0;
	for (size_t n = 1; n <= strlen(raw); n++) {
		rc = http_chunked_decode(&c, raw, n, &out);
		assert_true(rc >= 0);
		if (rc == 1)
			assert_int_equal(n, strlen(raw));
	}
	assert_int_equal(rc, 1);
	assert_int_equal(out.len, 19);
	assert_memory_equal(out.data, "abc0123456789abcdef", 19);
	buf_release(&out);
	struct http_chunked c2 = {0};
	buf_init(&out, 2);
	assert_int_equal(http_chunked_decode(&c2, raw, strlen(raw), &out), -EFBIG);
	buf_release(&out);
}

static void t_query_errors(void **st)
{
	struct http_request r = {0};
	char b[16];
	(void)st;
	r.query = "kind=vulnerability&latest=true&e=&sp=a+b%21&x";
	assert_int_equal(http_request_query(&r, "kind", b, sizeof(b)), 13);
	assert_string_equal(b, "vulnerability");
	assert_int_equal(http_request_query(&r, "e", b, sizeof(b)), 0);
	assert_int_equal(http_request_query(&r, "sp", b, sizeof(b)), 4);
	assert_string_equal(b, "a b!");
	assert_int_equal(http_request_query(&r, "x", b, sizeof(b)), 0);
	assert_int_equal(http_request_query(&r, "none", b, sizeof(b)), -ENOENT);
	assert_int_equal(http_request_query(&r, "kind", b, 4), -EFBIG);
	assert_int_equal(http_status_from_errno(-EINVAL), 400);
	assert_int_equal(http_status_from_errno(-EBADMSG), 400);
	assert_int_equal(http_status_from_errno(-ENOENT), 404);
	assert_int_equal(http_status_from_errno(-EFBIG), 413);
	assert_int_equal(http_status_from_errno(-EBUSY), 429);
	assert_int_equal(http_status_from_errno(-EIO), 500);

	struct http_response w;
	http_response_init(&w);
	http_response_header(&w, "Link", "<a>");
	http_response_header(&w, "Link", "<b>");
	assert_int_equal(http_response_header(&w, "X", "a\r\nb"), -EINVAL);
	http_response_error(&w, 429, "server handling too many requests");
	assert_string_equal(w.body.data, "{\"code\":\"too-many-requests\",\"message\":\"server handling too many requests\"}");
	assert_null(strstr(w.headers.data, "Link"));
	assert_non_null(strstr(w.headers.data, "Content-Type: application/json\r\n"));
	http_response_error(&w, 415, NULL);
	assert_string_equal(w.body.data, "{\"code\":\"internal-error\"}");
	http_response_release(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_clean),   cmocka_unit_test(t_match),
		cmocka_unit_test(t_parse),   cmocka_unit_test(t_chunked),
		cmocka_unit_test(t_query_errors),
	};
	return cmocka_run_group_tests_name("httpapi_route", tests, NULL, NULL);
}
