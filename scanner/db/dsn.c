/* dsn: libpq connection strings and URLs, minus the pgx pool_* parameters libpq rejects. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scanner/db/db.h"

#define DSN_MAX 8192
#define DSN_MAX_PAIRS 64

static const char *const pgx_pool_params[] = {
	"pool_max_conns",	   "pool_min_conns",	       "pool_max_conn_lifetime",
	"pool_max_conn_idle_time", "pool_health_check_period", "pool_max_conn_lifetime_jitter",
	"pool_min_idle_conns",
};

static int is_pool_param(const char *k, size_t n)
{
	for (size_t i = 0; i < sizeof(pgx_pool_params) / sizeof(pgx_pool_params[0]); i++)
		if (strlen(pgx_pool_params[i]) == n && memcmp(pgx_pool_params[i], k, n) == 0)
			return 1;
	return 0;
}

static int parse_max_conns(const char *v, int *ret, struct diag *d)
{
	char *end = NULL;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || end == v || *end != '\0' || n < 1 || n > 100000)
		return diag_fail(d, -EINVAL, "invalid pool_max_conns \"%.40s\": want a positive integer", v);
	*ret = (int)n;
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decodes s[0..n) into out (NUL-terminated, at most cap-1 bytes); "+" stays "+". */
static int pct_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 >= n)
				return -EINVAL;
			int h = hexval((unsigned char)s[i + 1]), l = hexval((unsigned char)s[i + 2]);
			if (h < 0 || l < 0)
				return -EINVAL;
			c = h * 16 + l;
			i += 2;
		}
		if (o + 1 >= cap)
			return -EFBIG;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

/* URL form: drops pool_* query parameters; writes the rest to out. */
static int strip_url(const char *dsn, struct buf *out, int *ret_max, struct diag *d)
{
	const char *q = strchr(dsn, '?');
	int rc, first = 1;
	if (!q)
		return buf_puts(out, dsn);
	if ((rc = buf_append(out, dsn, (size_t)(q - dsn))) < 0)
		return rc;
	const char *p = q + 1;
	while (*p) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		size_t klen = eq ? (size_t)(eq - p) : len;
		char key[128], val[256];
		if (pct_decode(p, klen, key, sizeof(key)) < 0)
			return diag_fail(d, -EINVAL, "invalid connection URL: bad query parameter name");
		if (is_pool_param(key, strlen(key))) {
			if (strcmp(key, "pool_max_conns") == 0) {
				if (!eq || pct_decode(eq + 1, len - klen - 1, val, sizeof(val)) < 0)
					return diag_fail(d, -EINVAL, "invalid pool_max_conns in connection URL");
				if ((rc = parse_max_conns(val, ret_max, d)) < 0)
					return rc;
			}
		} else if (len > 0) {
			if ((rc = buf_putc(out, first ? '?' : '&')) < 0 || (rc = buf_append(out, p, len)) < 0)
				return rc;
			first = 0;
		}
		if (!amp)
			break;
		p = amp + 1;
	}
	return 0;
}

static int put_quoted(struct buf *out, const char *v)
{
	int rc;
	if ((rc = buf_putc(out, '\'')) < 0)
		return rc;
	for (; *v; v++) {
		if ((*v == '\'' || *v == '\\') && (rc = buf_putc(out, '\\')) < 0)
			return rc;
		if ((rc = buf_putc(out, *v)) < 0)
			return rc;
	}
	return buf_putc(out, '\'');
}

/* key=value form, tokenized by libpq's rules; pool_* pairs are dropped, the rest re-quoted. */
static int strip_kv(const char *dsn, struct buf *out, int *ret_max, struct diag *d)
{
	struct buf val = BUF_INIT;
	const char *p = dsn;
	int rc = 0;
	buf_init(&val, DSN_MAX);
	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		const char *k = p;
		while (*p && *p != '=' && !isspace((unsigned char)*p))
			p++;
		size_t klen = (size_t)(p - k);
		while (isspace((unsigned char)*p))
			p++;
		if (*p != '=' || klen == 0) {
			rc = diag_fail(d, -EINVAL, "invalid connection string: missing \"=\" after \"%.*s\"",
				       (int)(klen > 40 ? 40 : klen), k);
			goto out;
		}
		p++;
		while (isspace((unsigned char)*p))
			p++;
		buf_reset(&val);
		if ((rc = buf_puts(&val, "")) < 0)
			goto out;
		if (*p == '\'') {
			p++;
			for (;;) {
				if (!*p) {
					rc = diag_fail(d, -EINVAL, "invalid connection string: unterminated quoted value");
					goto out;
				}
				if (*p == '\'') {
					p++;
					break;
				}
				if (*p == '\\' && p[1])
					p++;
				if ((rc = buf_putc(&val, *p++)) < 0)
					goto out;
			}
		} else {
			while (*p && !isspace((unsigned char)*p)) {
				if (*p == '\\' && p[1])
					p++;
				if ((rc = buf_putc(&val, *p++)) < 0)
					goto out;
			}
		}
		if (is_pool_param(k, klen)) {
			if (klen == strlen("pool_max_conns") && memcmp(k, "pool_max_conns", klen) == 0 &&
			    (rc = parse_max_conns(val.data, ret_max, d)) < 0)
				goto out;
			continue;
		}
		if (out->len && (rc = buf_putc(out, ' ')) < 0)
			goto out;
		if ((rc = buf_append(out, k, klen)) < 0 || (rc = buf_putc(out, '=')) < 0 ||
		    (rc = put_quoted(out, val.data)) < 0)
			goto out;
	}
	rc = buf_puts(out, "");
out:
	buf_release(&val);
	return rc;
}

void db_dsn_release(struct db_dsn *dsn)
{
	if (!dsn)
		return;
	for (size_t i = 0; dsn->keys && dsn->keys[i]; i++) {
		free(dsn->keys[i]);
		free(dsn->vals[i]);
	}
	free(dsn->keys);
	free(dsn->vals);
	dsn->keys = dsn->vals = NULL;
	dsn->pool_max_conns = 0;
}

const char *db_dsn_get(const struct db_dsn *dsn, const char *key)
{
	for (size_t i = 0; dsn->keys && dsn->keys[i]; i++)
		if (strcmp(dsn->keys[i], key) == 0)
			return dsn->vals[i];
	return NULL;
}

static int add_pair(struct db_dsn *dsn, size_t *n, const char *k, const char *v)
{
	if (*n + 1 >= DSN_MAX_PAIRS)
		return -EFBIG;
	char *kk = strdup(k), *vv = strdup(v);
	if (!kk || !vv) {
		free(kk);
		free(vv);
		return -ENOMEM;
	}
	dsn->keys[*n] = kk;
	dsn->vals[*n] = vv;
	(*n)++;
	dsn->keys[*n] = dsn->vals[*n] = NULL;
	return 0;
}

int db_dsn_parse(const char *s, const char *app_name, struct db_dsn *ret, struct diag *d)
{
	struct buf clean = BUF_INIT;
	struct db_dsn dsn = {NULL, NULL, 0};
	PQconninfoOption *opts = NULL;
	char *err = NULL;
	size_t n = 0;
	int rc;

	if (!s)
		s = "";
	if (strlen(s) > DSN_MAX) {
		rc = diag_fail(d, -EFBIG, "connection string longer than %d bytes", DSN_MAX);
		goto out;
	}
	buf_init(&clean, DSN_MAX * 2);
	if (strncmp(s, "postgres://", 11) == 0 || strncmp(s, "postgresql://", 13) == 0)
		rc = strip_url(s, &clean, &dsn.pool_max_conns, d);
	else
		rc = strip_kv(s, &clean, &dsn.pool_max_conns, d);
	if (rc == 0)
		rc = buf_puts(&clean, "");
	if (rc < 0) {
		if (rc == -ENOMEM || rc == -EFBIG)
			diag_set(d, "could not parse connection string: %s", rc == -ENOMEM ? "out of memory" : "too long");
		goto out;
	}
	opts = PQconninfoParse(clean.data, &err);
	if (!opts) {
		char msg[200] = "out of memory";
		if (err) {
			size_t l = strlen(err);
			while (l && (err[l - 1] == '\n' || err[l - 1] == '\r'))
				l--;
			/* libpq's messages name the option, never echo the value */
			snprintf(msg, sizeof(msg), "%.*s", (int)(l > 190 ? 190 : l), err);
		}
		rc = diag_fail(d, err ? -EINVAL : -ENOMEM, "invalid connection string: %s", msg);
		goto out;
	}
	dsn.keys = calloc(DSN_MAX_PAIRS, sizeof(char *));
	dsn.vals = calloc(DSN_MAX_PAIRS, sizeof(char *));
	if (!dsn.keys || !dsn.vals) {
		rc = diag_fail(d, -ENOMEM, "out of memory");
		goto out;
	}
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		if (!o->val)
			continue;
		if ((rc = add_pair(&dsn, &n, o->keyword, o->val)) < 0) {
			diag_set(d, "could not parse connection string: too many options");
			goto out;
		}
	}
	if (app_name && *app_name && !db_dsn_get(&dsn, "application_name") &&
	    (rc = add_pair(&dsn, &n, "application_name", app_name)) < 0)
		goto out;
	if (!db_dsn_get(&dsn, "connect_timeout") && (rc = add_pair(&dsn, &n, "connect_timeout", "5")) < 0)
		goto out;
	*ret = dsn;
	dsn.keys = dsn.vals = NULL;
	rc = 0;
out:
	db_dsn_release(&dsn);
	if (opts)
		PQconninfoFree(opts);
	PQfreemem(err);
	buf_release(&clean);
	return rc;
}

void db_dsn_describe(const struct db_dsn *dsn, char *out, size_t n)
{
	const char *host = db_dsn_get(dsn, "host");
	const char *haddr = db_dsn_get(dsn, "hostaddr");
	const char *port = db_dsn_get(dsn, "port");
	const char *db = db_dsn_get(dsn, "dbname");
	if (!host)
		host = haddr ? haddr : "localhost";
	snprintf(out, n, "%.100s:%.20s/%.100s", host, port ? port : "5432", db ? db : "");
}
