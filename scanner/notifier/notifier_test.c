/* notifier_test: summaries, key order, STOMP framing, the webhook deliverer against a local
 * receiver (JWT checked as Quay does), paging / delete / generation on a real PostgreSQL. */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/base64.h"
#include "common/jwt.h"
#include "common/log.h"
#include "scanner/matcher/store.h"
#include "scanner/notifier/notifier.h"
#include "scanner/notifier/notifier_int.h"

/* ---- summaries ---- */

static json_t *affected_fixture(void)
{
	const char *text =
		"{\"vulnerabilities\":{"
		"\"1\":{\"id\":\"1\",\"name\":\"CVE-1\",\"description\":\"low one\",\"links\":\"l1\",\"severity\":\"low\","
		"\"normalized_severity\":\"Low\",\"fixed_in_version\":\"1.1\","
		"\"package\":{\"version\":\"\",\"name\":\"musl\",\"id\":\"\"}},"
		"\"2\":{\"id\":\"2\",\"name\":\"CVE-2\",\"description\":\"high one\",\"links\":\"l2\",\"severity\":\"HIGH\","
		"\"normalized_severity\":\"High\",\"fixed_in_version\":\"2.0\","
		"\"distribution\":{\"pretty_name\":\"Alpine\",\"id\":\"\",\"did\":\"alpine\"}},"
		"\"3\":{\"id\":\"3\",\"name\":\"CVE-3\",\"description\":\"critical\",\"links\":\"\",\"severity\":\"\","
		"\"normalized_severity\":\"Critical\",\"fixed_in_version\":\"\",\"repository\":{\"name\":\"main\"}}},"
		"\"vulnerable_manifests\":{"
		"\"sha256:aa\":[\"2\",\"1\"],"
		"\"sha256:bb\":[\"1\"]}}";
	json_t *j = json_loads(text, 0, NULL);
	assert_non_null(j);
	return j;
}

static void test_summary_most_severe(void **state)
{
	(void)state;
	struct ntf_builder b;
	struct diag d = {{0}};
	json_t *aff = affected_fixture(), *set;
	/* a second chunk: sha256:bb gets a more severe vuln later, sha256:aa a less severe one */
	json_t *aff2 = json_loads("{\"vulnerabilities\":{\"3\":{\"id\":\"3\",\"name\":\"CVE-3\",\"normalized_severity\":"
				  "\"Critical\",\"repository\":{\"name\":\"main\",\"id\":\"\"}},\"9\":{\"name\":\"CVE-9\","
				  "\"normalized_severity\":\"Negligible\"}},"
				  "\"vulnerable_manifests\":{\"sha256:bb\":[\"3\"],\"sha256:aa\":[\"9\"]}}",
				  0, NULL);
	assert_non_null(aff2);
	assert_int_equal(ntf_builder_init(&b, 1), 0);
	assert_int_equal(ntf_builder_add(&b, "added", aff, &d), 0);
	assert_int_equal(ntf_builder_add(&b, "added", aff2, &d), 0);
	assert_int_equal(ntf_builder_add(&b, "removed", aff, &d), 0);
	set = ntf_builder_finish(&b);
	assert_non_null(set);
	assert_int_equal(json_array_size(set), 4);
	/* sorted by manifest, then reason */
	const char *want[4][3] = {{"sha256:aa", "added", "CVE-2"},
				  {"sha256:aa", "removed", "CVE-2"},
				  {"sha256:bb", "added", "CVE-3"},
				  {"sha256:bb", "removed", "CVE-1"}};
	for (size_t i = 0; i < 4; i++) {
		json_t *n = json_array_get(set, i);
		assert_true(notifier_uuid_valid(json_string_value(json_object_get(n, "id"))));
		assert_string_equal(json_string_value(json_object_get(n, "manifest")), want[i][0]);
		assert_string_equal(json_string_value(json_object_get(n, "reason")), want[i][1]);
		assert_string_equal(json_string_value(json_object_get(json_object_get(n, "vulnerability"), "name")),
				    want[i][2]);
	}
	/* ids are distinct */
	assert_string_not_equal(json_string_value(json_object_get(json_array_get(set, 0), "id")),
				json_string_value(json_object_get(json_array_get(set, 1), "id")));
	/* the VulnSummary: Clair's keys, severity = the normalized one, normalized_severity too */
	char *text = json_dumps(json_object_get(json_array_get(set, 0), "vulnerability"), JSON_COMPACT);
	assert_string_equal(text, "{\"name\":\"CVE-2\",\"description\":\"high one\",\"distribution\":{\"id\":\"\","
				  "\"did\":\"alpine\",\"pretty_name\":\"Alpine\"},\"severity\":\"High\","
				  "\"normalized_severity\":\"High\",\"fixed_in_version\":\"2.0\",\"links\":\"l2\"}");
	free(text);
	/* key "repo" (not "repository") */
	assert_non_null(json_object_get(json_object_get(json_array_get(set, 2), "vulnerability"), "repo"));
	json_decref(set);
	ntf_builder_release(&b);
	json_decref(aff);
	json_decref(aff2);
}

static void test_summary_disabled(void **state)
{
	(void)state;
	struct ntf_builder b;
	struct diag d = {{0}};
	json_t *aff = affected_fixture(), *set;
	assert_int_equal(ntf_builder_init(&b, 0), 0);
	assert_int_equal(ntf_builder_add(&b, "added", aff, &d), 0);
	set = ntf_builder_finish(&b);
	assert_int_equal(json_array_size(set), 3); /* aa: 2 vulns, bb: 1 */
	json_decref(set);
	ntf_builder_release(&b);
	/* malformed input */
	json_t *bad = json_loads("{\"vulnerabilities\":[]}", 0, NULL);
	assert_int_equal(ntf_builder_init(&b, 1), 0);
	assert_int_equal(ntf_builder_add(&b, "added", bad, &d), -EINVAL);
	ntf_builder_release(&b);
	json_decref(bad);
	json_decref(aff);
}

static void test_canon_order(void **state)
{
	(void)state;
	/* jsonb order: shorter keys first */
	json_t *b = json_loads("{\"id\":\"x\",\"reason\":\"added\",\"manifest\":\"m\",\"vulnerability\":{\"name\":\"n\","
			       "\"links\":\"\",\"package\":{\"id\":\"\",\"name\":\"p\",\"version\":\"1\"},\"severity\":\"Low\","
			       "\"description\":\"\",\"fixed_in_version\":\"\",\"normalized_severity\":\"Low\"}}",
			       0, NULL);
	json_t *c = ntf_notification_canon(b);
	char *text = json_dumps(c, JSON_COMPACT);
	assert_string_equal(text, "{\"id\":\"x\",\"manifest\":\"m\",\"reason\":\"added\",\"vulnerability\":{\"name\":\"n\","
				  "\"description\":\"\",\"package\":{\"id\":\"\",\"name\":\"p\",\"version\":\"1\"},"
				  "\"severity\":\"Low\",\"normalized_severity\":\"Low\",\"fixed_in_version\":\"\","
				  "\"links\":\"\"}}");
	free(text);
	json_decref(c);
	json_decref(b);
	assert_null(ntf_notification_canon(NULL));
}

static void test_uuid_and_callback(void **state)
{
	(void)state;
	char u[37];
	ntf_uuid_v4(u);
	assert_true(notifier_uuid_valid(u));
	assert_int_equal(u[14], '4');
	assert_true(strchr("89ab", u[19]) != NULL);
	assert_false(notifier_uuid_valid("not-a-uuid"));
	assert_false(notifier_uuid_valid("0000000000000000000000000000000000000"));
	assert_false(notifier_uuid_valid(NULL));
	char *body = ntf_callback_body("http://clair:6060/notifier/api/v1/notification/", u);
	char want[256];
	snprintf(want, sizeof(want),
		 "{\"notification_id\":\"%s\",\"callback\":\"http://clair:6060/notifier/api/v1/notification/%s\"}", u, u);
	assert_string_equal(body, want);
	free(body);
	body = ntf_callback_url("http://h/cb", "id1"); /* a slash is added when missing */
	assert_string_equal(body, "http://h/cb/id1");
	free(body);
}

/* ---- STOMP framing ---- */

static void test_stomp_roundtrip(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	struct ntf_stomp_frame f;
	const char *h[] = {"destination", "/queue/a:b", "receipt", "r\n1", NULL};
	const char body[] = "[{\"x\":1}]\0tail";
	long used;

	assert_int_equal(ntf_stomp_encode(&b, "SEND", h, body, sizeof(body) - 1), 0);
	/* escaped header values, content-length, NUL terminator */
	assert_non_null(strstr(b.data, "destination:/queue/a\\cb\n"));
	assert_non_null(strstr(b.data, "receipt:r\\n1\n"));
	assert_non_null(strstr(b.data, "content-length:14\n\n"));
	assert_int_equal(b.data[b.len - 1], 0);
	/* every prefix is incomplete */
	for (size_t i = 0; i < b.len; i++)
		assert_int_equal(ntf_stomp_parse(b.data, i, &f), 0);
	/* with a heartbeat before it and a second frame after */
	struct buf all = BUF_INIT;
	buf_append(&all, "\r\n\n", 3);
	buf_append(&all, b.data, b.len);
	assert_int_equal(ntf_stomp_encode(&all, "RECEIPT", (const char *const[]){"receipt-id", "r\n1", NULL}, NULL, 0), 0);
	used = ntf_stomp_parse(all.data, all.len, &f);
	assert_int_equal(used, (long)b.len + 3);
	assert_string_equal(f.command, "SEND");
	assert_string_equal(ntf_stomp_header_get(&f, "destination"), "/queue/a:b");
	assert_string_equal(ntf_stomp_header_get(&f, "receipt"), "r\n1");
	assert_int_equal(f.body_len, 14);
	assert_memory_equal(f.body, body, 14);
	ntf_stomp_frame_release(&f);
	used = ntf_stomp_parse(all.data + b.len + 3, all.len - b.len - 3, &f);
	assert_true(used > 0);
	assert_string_equal(f.command, "RECEIPT");
	assert_string_equal(ntf_stomp_header_get(&f, "receipt-id"), "r\n1");
	ntf_stomp_frame_release(&f);
	buf_release(&all);
	/* CONNECT headers are not escaped */
	buf_reset(&b);
	assert_int_equal(ntf_stomp_encode(&b, "CONNECT", (const char *const[]){"passcode", "a:b", NULL}, NULL, 0), 0);
	assert_string_equal(b.data, "CONNECT\npasscode:a:b\n\n");
	buf_release(&b);
}

static void test_stomp_malformed(void **state)
{
	(void)state;
	struct ntf_stomp_frame f;
	const char bad_esc[] = "MESSAGE\nk:v\\x\n\nbody";
	assert_int_equal(ntf_stomp_parse(bad_esc, sizeof(bad_esc), &f), -EBADMSG);
	const char no_colon[] = "MESSAGE\nnocolon\n\n";
	assert_int_equal(ntf_stomp_parse(no_colon, sizeof(no_colon), &f), -EBADMSG);
	const char bad_len[] = "MESSAGE\ncontent-length:2\n\nabc";
	assert_int_equal(ntf_stomp_parse(bad_len, sizeof(bad_len), &f), -EBADMSG);
	const char huge[] = "MESSAGE\ncontent-length:99999999999\n\n";
	assert_int_equal(ntf_stomp_parse(huge, sizeof(huge), &f), -EBADMSG);
	const char err[] = "ERROR\nmessage:Access refused\n\nbad login";
	assert_int_equal(ntf_stomp_parse(err, sizeof(err), &f), (long)sizeof(err));
	assert_string_equal(ntf_stomp_header_get(&f, "message"), "Access refused");
	assert_string_equal(f.body, "bad login");
	ntf_stomp_frame_release(&f);
	assert_int_equal(ntf_stomp_encode(&(struct buf)BUF_INIT, "BAD\nCMD", NULL, NULL, 0), -EINVAL);
}

/* ---- webhook against a one-shot local receiver ---- */

struct receiver {
	int lfd, port, status;
	char req[8192];
	size_t len;
};

static void *receiver_main(void *arg)
{
	struct receiver *r = arg;
	int fd = accept(r->lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	for (;;) {
		ssize_t n = recv(fd, r->req + r->len, sizeof(r->req) - 1 - r->len, 0);
		if (n <= 0)
			break;
		r->len += (size_t)n;
		r->req[r->len] = 0;
		char *end = strstr(r->req, "\r\n\r\n");
		const char *cl = strcasestr(r->req, "Content-Length:");
		if (end && cl && (size_t)(end + 4 - r->req) + strtoul(cl + 15, NULL, 10) <= r->len)
			break;
	}
	char resp[128];
	int k = snprintf(resp, sizeof(resp), "HTTP/1.1 %d X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok", r->status);
	send(fd, resp, (size_t)k, MSG_NOSIGNAL);
	close(fd);
	return NULL;
}

static void receiver_start(struct receiver *r, pthread_t *t, int status)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	memset(r, 0, sizeof(*r));
	r->status = status;
	r->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(r->lfd >= 0);
	assert_int_equal(bind(r->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(r->lfd, 4), 0);
	getsockname(r->lfd, (struct sockaddr *)&a, &al);
	r->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(t, NULL, receiver_main, r), 0);
}

static void test_webhook_jwt(void **state)
{
	(void)state;
	static unsigned char key[] = "0123456789abcdef";
	struct clair_config cfg;
	struct config_header hdr = {0};
	char *vals[] = {"v1"};
	struct ntf_deliverer *dl = NULL;
	struct diag d = {{0}};
	struct receiver r;
	pthread_t t;
	char target[64];

	memset(&cfg, 0, sizeof(cfg));
	receiver_start(&r, &t, 200);
	snprintf(target, sizeof(target), "http://127.0.0.1:%d/secscan/notification", r.port);
	cfg.notifier.webhook.set = true;
	cfg.notifier.webhook.target = target;
	cfg.notifier.webhook.callback = "http://clair/notifier/api/v1/notification/";
	hdr.name = "X-Extra";
	hdr.values.n = 1;
	hdr.values.v = vals;
	cfg.notifier.webhook.headers.n = 1;
	cfg.notifier.webhook.headers.v = &hdr;
	cfg.auth.psk.set = true;
	cfg.auth.psk.key_bytes = key;
	cfg.auth.psk.key_len = 16;
	assert_int_equal(ntf_webhook_new(&cfg, &dl, &d), 0);
	assert_int_equal(dl->direct, 0);
	assert_int_equal(dl->deliver(dl, "11111111-2222-4333-8444-555555555555", NULL, &d), 0);
	pthread_join(t, NULL);
	close(r.lfd);
	assert_non_null(strstr(r.req, "POST /secscan/notification HTTP/1.1\r\n"));
	assert_non_null(strcasestr(r.req, "\r\nContent-Type: application/json\r\n"));
	assert_non_null(strstr(r.req, "\r\nX-Extra: v1\r\n"));
	assert_non_null(strstr(r.req, "{\"notification_id\":\"11111111-2222-4333-8444-555555555555\",\"callback\":"
				      "\"http://clair/notifier/api/v1/notification/11111111-2222-4333-8444-555555555555\"}"));
	/* the token, as Quay checks it: HS256 with the PSK, nbf/iat/exp present, iat not in the future */
	char *auth = strstr(r.req, "Authorization: Bearer ");
	assert_non_null(auth);
	auth += strlen("Authorization: Bearer ");
	*strstr(auth, "\r\n") = 0;
	const char *iss[] = {"clair-notifier"};
	struct jwt_verify_opts o = {.key = key, .key_len = 16, .issuers = iss, .n_issuers = 1, .leeway_s = 0};
	assert_int_equal(jwt_verify(auth, &o, &d), 0);
	char *dot1 = strchr(auth, '.'), *dot2 = strchr(dot1 + 1, '.');
	*dot2 = 0;
	unsigned char payload[512];
	size_t plen = 0;
	assert_int_equal(base64_decode(dot1 + 1, strlen(dot1 + 1), BASE64_URL, payload, sizeof(payload), &plen), 0);
	json_t *claims = json_loadb((const char *)payload, plen, 0, NULL);
	assert_non_null(claims);
	time_t now = time(NULL);
	assert_true(json_is_integer(json_object_get(claims, "iat")));
	assert_true(json_is_integer(json_object_get(claims, "nbf")));
	assert_true(json_is_integer(json_object_get(claims, "exp")));
	assert_true(json_integer_value(json_object_get(claims, "iat")) <= now);
	assert_true(json_integer_value(json_object_get(claims, "nbf")) <= now);
	assert_true(json_integer_value(json_object_get(claims, "exp")) > now);
	assert_null(json_object_get(claims, "aud"));
	assert_string_equal(json_string_value(json_object_get(claims, "iss")), "clair-notifier");
	json_decref(claims);

	/* 500 (and anything but 200) is a failure */
	receiver_start(&r, &t, 500);
	snprintf(target, sizeof(target), "http://127.0.0.1:%d/x", r.port);
	assert_int_equal(dl->deliver(dl, "11111111-2222-4333-8444-555555555555", NULL, &d), -EIO);
	assert_non_null(strstr(d.msg, "500"));
	pthread_join(t, NULL);
	close(r.lfd);
	receiver_start(&r, &t, 204);
	snprintf(target, sizeof(target), "http://127.0.0.1:%d/x", r.port);
	assert_int_equal(dl->deliver(dl, "11111111-2222-4333-8444-555555555555", NULL, &d), -EIO);
	pthread_join(t, NULL);
	close(r.lfd);
	/* nobody listening */
	snprintf(target, sizeof(target), "http://127.0.0.1:%d/x", r.port);
	assert_int_equal(dl->deliver(dl, "11111111-2222-4333-8444-555555555555", NULL, &d), -EIO);
	dl->free(dl);
}

/* ---- PostgreSQL ---- */

static char g_dsn[1024];

static void super_exec(const char *sql)
{
	PGconn *c = PQconnectdb(getenv("PG_DSN"));
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
}

static struct db_pool *fresh_db(void)
{
	struct db_pool *p = NULL;
	struct diag d = {{0}};
	super_exec("DROP DATABASE IF EXISTS notifier_test WITH (FORCE)");
	super_exec("CREATE DATABASE notifier_test");
	snprintf(g_dsn, sizeof(g_dsn), "%s dbname=notifier_test", getenv("PG_DSN"));
	assert_int_equal(db_pool_new(g_dsn, 8, "notifier", &p, &d), 0);
	for (int s = DB_SCHEMA_INDEXER; s <= DB_SCHEMA_NOTIFIER; s++)
		if (db_migrate(p, (enum db_schema)s, &d) < 0)
			fail_msg("migrate: %s", d.msg);
	return p;
}

static void pexec(struct db_pool *p, const char *sql)
{
	struct diag d = {{0}};
	if (db_pool_exec(p, sql, &d) < 0)
		fail_msg("%s: %s", sql, d.msg);
}

static long long q_int(struct db_pool *p, const char *sql)
{
	PGconn *c = NULL;
	PGresult *r = NULL;
	struct diag d = {{0}};
	long long v;
	assert_int_equal(db_acquire(p, 5000, &c, &d), 0);
	if (db_exec_params(c, sql, 0, NULL, &r, &d) < 0)
		fail_msg("%s: %s", sql, d.msg);
	v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	db_release(p, c);
	return v;
}

#define NID "aaaaaaaa-0000-4000-8000-000000000001"

static void test_paging_and_delete(void **state)
{
	(void)state;
	struct db_pool *p;
	struct buf b = BUF_INIT;
	struct diag d = {{0}};
	json_t *j;

	if (!getenv("PG_DSN"))
		skip();
	p = fresh_db();
	pexec(p, "INSERT INTO notifier_update_operation (uo_id, updater) VALUES ('bbbbbbbb-0000-4000-8000-000000000001', 'u')");
	pexec(p, "INSERT INTO notification (id) VALUES ('" NID "')");
	pexec(p, "INSERT INTO receipt (notification_id, uo_id, status) VALUES ('" NID
		 "', 'bbbbbbbb-0000-4000-8000-000000000001', 'created')");
	for (int i = 3; i >= 1; i--) {
		char sql[512];
		snprintf(sql, sizeof(sql),
			 "INSERT INTO notification_body (id, notification_id, body) VALUES ('cccccccc-0000-4000-8000-00000000000%d', '" NID
			 "', '{\"id\":\"cccccccc-0000-4000-8000-00000000000%d\",\"manifest\":\"sha256:%d\",\"reason\":\"added\","
			 "\"vulnerability\":{\"name\":\"v%d\",\"links\":\"\",\"severity\":\"Low\",\"description\":\"\","
			 "\"fixed_in_version\":\"\",\"normalized_severity\":\"Low\"}}')",
			 i, i, i, i);
		pexec(p, sql);
	}
	/* page 1 of size 2: next = the last id of the page */
	assert_int_equal(notifier_page(p, NID, 2, NULL, &b, &d), 0);
	j = json_loads(b.data, 0, NULL);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "page"), "size")), 2);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "page"), "next")),
			    "cccccccc-0000-4000-8000-000000000002");
	assert_int_equal(json_array_size(json_object_get(j, "notifications")), 2);
	assert_true(strncmp(b.data, "{\"page\":{\"size\":2,\"next\":", 25) == 0);
	assert_non_null(strstr(b.data, "{\"id\":\"cccccccc-0000-4000-8000-000000000001\",\"manifest\":\"sha256:1\","
				       "\"reason\":\"added\",\"vulnerability\":{\"name\":\"v1\",\"description\":\"\","
				       "\"severity\":\"Low\",\"normalized_severity\":\"Low\",\"fixed_in_version\":\"\",\"links\":\"\"}}"));
	json_decref(j);
	/* page 2: the last one, no next */
	buf_reset(&b);
	assert_int_equal(notifier_page(p, NID, 2, "cccccccc-0000-4000-8000-000000000002", &b, &d), 0);
	j = json_loads(b.data, 0, NULL);
	assert_null(json_object_get(json_object_get(j, "page"), "next"));
	assert_int_equal(json_array_size(json_object_get(j, "notifications")), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "notifications"), 0), "id")),
			    "cccccccc-0000-4000-8000-000000000003");
	json_decref(j);
	/* exactly a full page: no next either */
	buf_reset(&b);
	assert_int_equal(notifier_page(p, NID, 3, "", &b, &d), 0);
	assert_null(strstr(b.data, "\"next\""));
	/* unknown id: 200-style empty page */
	buf_reset(&b);
	assert_int_equal(notifier_page(p, "dddddddd-0000-4000-8000-000000000000", 500, NULL, &b, &d), 0);
	assert_string_equal(b.data, "{\"page\":{\"size\":500},\"notifications\":[]}");
	/* bad input */
	assert_int_equal(notifier_page(p, "nope", 5, NULL, &b, &d), -EINVAL);
	assert_int_equal(notifier_page(p, NID, 5, "zz", &b, &d), -EINVAL);
	assert_int_equal(notifier_page(p, NID, 0, NULL, &b, &d), -EINVAL);
	/* delete */
	assert_int_equal(notifier_mark_deleted(p, NID, &d), 0);
	assert_int_equal(q_int(p, "SELECT count(*) FROM receipt WHERE status = 'deleted'"), 1);
	assert_int_equal(notifier_mark_deleted(p, "dddddddd-0000-4000-8000-000000000000", &d), -ENOENT);
	assert_int_equal(notifier_mark_deleted(p, "bad", &d), -EINVAL);
	buf_release(&b);
	db_pool_free(p);
}

static struct clair_config g_cfg;

static void test_generation_and_gc(void **state)
{
	(void)state;
	struct db_pool *p;
	struct notifier *n = NULL;
	struct diag d = {{0}};
	struct vuln v = {0};
	int created = -1;

	if (!getenv("PG_DSN"))
		skip();
	p = fresh_db();
	v.name = "CVE-2024-1";
	v.updater = "test-updater";
	v.pkg.name = "musl";
	v.normalized_severity = SEV_HIGH;
	assert_int_equal(matcher_store_update_vulns(p, "test-updater", "f1", &v, 1, NULL, &d), 0);
	v.name = "CVE-2024-2";
	assert_int_equal(matcher_store_update_vulns(p, "test-updater", "f2", &v, 1, NULL, &d), 0);
	assert_int_equal(matcher_store_update_vulns(p, "other", "f1", &v, 1, NULL, &d), 0);

	memset(&g_cfg, 0, sizeof(g_cfg));
	assert_int_equal(notifier_new(&g_cfg, p, p, p, &n, &d), 0);
	/* nothing is indexed: each updater's newest UO gets a 'delivered' receipt, no notification */
	assert_int_equal(notifier_poll_once(n, &created, &d), 0);
	assert_int_equal(created, 0);
	assert_int_equal(q_int(p, "SELECT count(*) FROM receipt WHERE status = 'delivered'"), 2);
	assert_int_equal(q_int(p, "SELECT count(*) FROM notification_body"), 0);
	assert_int_equal(q_int(p, "SELECT count(*) FROM notifier_update_operation"), 2);
	/* idempotent */
	assert_int_equal(notifier_poll_once(n, &created, &d), 0);
	assert_int_equal(q_int(p, "SELECT count(*) FROM receipt"), 2);
	/* GC keeps the receipts of each updater's newest UO (else they would be processed again) */
	pexec(p, "UPDATE receipt SET status = 'deleted', ts = now() - interval '30 days'");
	assert_int_equal(notifier_gc_once(n, &d), 0);
	assert_int_equal(q_int(p, "SELECT count(*) FROM receipt"), 2);
	/* ... but collects older ones */
	pexec(p, "INSERT INTO notifier_update_operation (uo_id, updater, ts) VALUES "
		 "('eeeeeeee-0000-4000-8000-000000000001', 'test-updater', now() - interval '40 days')");
	pexec(p, "INSERT INTO notification (id) VALUES ('eeeeeeee-0000-4000-8000-000000000002')");
	pexec(p, "INSERT INTO receipt (notification_id, uo_id, status, ts) VALUES ('eeeeeeee-0000-4000-8000-000000000002', "
		 "'eeeeeeee-0000-4000-8000-000000000001', 'deleted', now() - interval '40 days')");
	assert_int_equal(notifier_gc_once(n, &d), 0);
	assert_int_equal(q_int(p, "SELECT count(*) FROM receipt"), 2);
	assert_int_equal(q_int(p, "SELECT count(*) FROM notifier_update_operation"), 2);
	/* a UO locked by another session is skipped, not duplicated */
	assert_int_equal(matcher_store_update_vulns(p, "other", "f9", &v, 0, NULL, &d), 0);
	{
		char ref[37];
		PGconn *c = NULL;
		int got = 0;
		struct update_operation_list l = {0};
		assert_int_equal(matcher_store_update_operations(p, "vulnerability", true, &l, &d), 0);
		for (size_t i = 0; i < l.n; i++)
			if (!strcmp(l.v[i].updater, "other"))
				snprintf(ref, sizeof(ref), "%s", l.v[i].ref);
		update_operation_list_release(&l);
		assert_int_equal(db_acquire(p, 5000, &c, &d), 0);
		assert_int_equal(db_lock_try(c, ref, &got), 0);
		assert_int_equal(got, 1);
		assert_int_equal(notifier_poll_once(n, &created, &d), 0);
		assert_int_equal(q_int(p, "SELECT count(*) FROM receipt"), 2);
		db_lock_release(c, ref);
		db_release(p, c);
		assert_int_equal(notifier_poll_once(n, &created, &d), 0);
		assert_int_equal(q_int(p, "SELECT count(*) FROM receipt"), 3);
	}
	struct buf m = BUF_INIT;
	notifier_metrics(n, &m);
	assert_non_null(strstr(m.data, "clair_notifier_update_operations_processed_total 3\n"));
	buf_release(&m);
	notifier_free(n);
	db_pool_free(p);
}

int main(void)
{
	log_set_level(LOG_WARN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_summary_most_severe),
		cmocka_unit_test(test_summary_disabled),
		cmocka_unit_test(test_canon_order),
		cmocka_unit_test(test_uuid_and_callback),
		cmocka_unit_test(test_stomp_roundtrip),
		cmocka_unit_test(test_stomp_malformed),
		cmocka_unit_test(test_webhook_jwt),
		cmocka_unit_test(test_paging_and_delete),
		cmocka_unit_test(test_generation_and_gc),
	};
	return cmocka_run_group_tests_name("notifier", tests, NULL, NULL);
}
