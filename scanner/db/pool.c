/* pool: a fixed-size, lazily connecting libpq connection pool (mutex + condvar). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "scanner/db/db_int.h"

struct db_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct db_dsn dsn;
	char *app_name;
	char where[256]; /* host:port/db for messages */
	int max;
	int open;
	int in_use;
	int nidle;
	PGconn **idle; /* stack of max entries */
	uint64_t acquire_count;
	uint64_t acquire_wait_count;
	uint64_t acquire_ns;
	uint64_t connect_errors;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int default_max(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	if (n > 64)
		n = 64;
	int m = (int)(2 * n + 2);
	return m < 4 ? 4 : m;
}

int db_pool_new(const char *dsn, int max_conns, const char *app_name, struct db_pool **ret, struct diag *d)
{
	struct db_pool *p = NULL;
	pthread_condattr_t ca;
	int rc;

	*ret = NULL;
	if (max_conns < 0)
		return diag_fail(d, -EINVAL, "invalid pool size %d", max_conns);
	p = calloc(1, sizeof(*p));
	if (!p)
		return diag_fail(d, -ENOMEM, "out of memory");
	if ((rc = db_dsn_parse(dsn, app_name, &p->dsn, d)) < 0) {
		free(p);
		return rc;
	}
	p->max = p->dsn.pool_max_conns > 0 ? p->dsn.pool_max_conns : max_conns > 0 ? max_conns : default_max();
	p->app_name = strdup(app_name ? app_name : "");
	p->idle = calloc((size_t)p->max, sizeof(PGconn *));
	if (!p->app_name || !p->idle) {
		db_dsn_release(&p->dsn);
		free(p->app_name);
		free(p->idle);
		free(p);
		return diag_fail(d, -ENOMEM, "out of memory");
	}
	db_dsn_describe(&p->dsn, p->where, sizeof(p->where));
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cv, &ca);
	pthread_condattr_destroy(&ca);
	*ret = p;
	return 0;
}

void db_pool_free(struct db_pool *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->nidle; i++)
		PQfinish(p->idle[i]);
	if (p->in_use)
		log_warn("db", "pool freed with connections in use", "{s:i}", "in_use", p->in_use);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	db_dsn_release(&p->dsn);
	free(p->idle);
	free(p->app_name);
	free(p);
}

const char *db_pool_app_name(const struct db_pool *p)
{
	return p->app_name;
}

static void notice_quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* An idle connection is alive if its socket has nothing to say. A server that went away leaves
 * EOF or a FATAL message (57P01 on shutdown/terminate) to read; pooled connections do not LISTEN,
 * so any unsolicited input means the connection is not to be trusted: drop it, a new one is cheap. */
static int conn_alive(PGconn *c)
{
	if (PQstatus(c) != CONNECTION_OK || PQtransactionStatus(c) != PQTRANS_IDLE)
		return 0;
	int fd = PQsocket(c);
	if (fd < 0)
		return 0;
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	int n = poll(&pfd, 1, 0);
	return n == 0;
}

static int connect_one(struct db_pool *p, PGconn **ret, struct diag *d)
{
	PGconn *c = PQconnectdbParams((const char *const *)p->dsn.keys, (const char *const *)p->dsn.vals, 0);
	if (!c)
		return diag_fail(d, -ENOMEM, "could not connect to \"%s\": out of memory", p->where);
	if (PQstatus(c) != CONNECTION_OK) {
		char msg[300];
		const char *e = PQerrorMessage(c);
		size_t l = strlen(e);
		while (l && (e[l - 1] == '\n' || e[l - 1] == ' '))
			l--;
		snprintf(msg, sizeof(msg), "%.*s", (int)(l > 290 ? 290 : l), e);
		for (char *q = msg; *q; q++)
			if (*q == '\n')
				*q = ' ';
		PQfinish(c);
		return diag_fail(d, -ECONNREFUSED, "could not connect to \"%s\": %s", p->where, msg);
	}
	PQsetNoticeProcessor(c, notice_quiet, NULL);
	*ret = c;
	return 0;
}

int db_acquire(struct db_pool *p, int timeout_ms, PGconn **ret, struct diag *d)
{
	uint64_t t0 = now_ns();
	struct timespec deadline;
	int waited = 0, rc = 0;

	*ret = NULL;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	if (timeout_ms > 0) {
		deadline.tv_sec += timeout_ms / 1000;
		deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
	}
	pthread_mutex_lock(&p->mu);
	p->acquire_count++;
	for (;;) {
		if (p->nidle > 0) {
			PGconn *c = p->idle[--p->nidle];
			p->in_use++;
			pthread_mutex_unlock(&p->mu);
			if (conn_alive(c)) {
				*ret = c;
				goto done;
			}
			PQfinish(c);
			pthread_mutex_lock(&p->mu);
			p->in_use--;
			p->open--;
			continue;
		}
		if (!waited) {
			waited = 1;
			p->acquire_wait_count++;
		}
		if (p->open < p->max) {
			p->open++;
			p->in_use++;
			pthread_mutex_unlock(&p->mu);
			PGconn *c = NULL;
			rc = connect_one(p, &c, d);
			if (rc == 0) {
				*ret = c;
				goto done;
			}
			pthread_mutex_lock(&p->mu);
			p->open--;
			p->in_use--;
			p->connect_errors++;
			pthread_cond_signal(&p->cv);
			break;
		}
		if (timeout_ms == 0) {
			rc = diag_fail(d, -ETIMEDOUT, "no database connection available (pool of %d in use)", p->max);
			break;
		}
		int w = timeout_ms < 0 ? pthread_cond_wait(&p->cv, &p->mu)
				       : pthread_cond_timedwait(&p->cv, &p->mu, &deadline);
		if (w == ETIMEDOUT && p->nidle == 0 && p->open >= p->max) {
			rc = diag_fail(d, -ETIMEDOUT, "timed out after %d ms waiting for a database connection (pool of %d in use)",
				       timeout_ms, p->max);
			break;
		}
	}
	p->acquire_ns += now_ns() - t0;
	pthread_mutex_unlock(&p->mu);
	return rc;
done:
	pthread_mutex_lock(&p->mu);
	p->acquire_ns += now_ns() - t0;
	pthread_mutex_unlock(&p->mu);
	return 0;
}

void db_discard(struct db_pool *p, PGconn *c)
{
	if (!c)
		return;
	PQfinish(c);
	pthread_mutex_lock(&p->mu);
	p->open--;
	p->in_use--;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

void db_release(struct db_pool *p, PGconn *c)
{
	if (!c)
		return;
	int keep = PQstatus(c) == CONNECTION_OK;
	if (keep) {
		PGTransactionStatusType ts = PQtransactionStatus(c);
		if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) {
			PGresult *r = PQexec(c, "ROLLBACK");
			keep = r && PQresultStatus(r) == PGRES_COMMAND_OK && PQtransactionStatus(c) == PQTRANS_IDLE;
			PQclear(r);
		} else if (ts != PQTRANS_IDLE) {
			keep = 0; /* a query still running or a broken state */
		}
	}
	if (!keep) {
		db_discard(p, c);
		return;
	}
	pthread_mutex_lock(&p->mu);
	p->in_use--;
	p->idle[p->nidle++] = c;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

void db_pool_stats(struct db_pool *p, struct db_pool_stats *ret)
{
	pthread_mutex_lock(&p->mu);
	ret->max = p->max;
	ret->open = p->open;
	ret->in_use = p->in_use;
	ret->idle = p->nidle;
	ret->acquire_count = p->acquire_count;
	ret->acquire_wait_count = p->acquire_wait_count;
	ret->acquire_wait_ns = p->acquire_ns;
	ret->connect_errors = p->connect_errors;
	pthread_mutex_unlock(&p->mu);
}

void db_pool_metrics(void *pool, struct buf *out)
{
	struct db_pool *p = pool;
	struct db_pool_stats s;
	struct buf lbl = BUF_INIT;
	const char *an = p->app_name;

	db_pool_stats(p, &s);
	buf_init(&lbl, 1024);
	buf_puts(&lbl, "{application_name=\"");
	for (; *an; an++) {
		if (*an == '"' || *an == '\\')
			buf_putc(&lbl, '\\');
		if (*an == '\n')
			buf_puts(&lbl, "\\n");
		else
			buf_putc(&lbl, *an);
	}
	buf_puts(&lbl, "\"}");
	const char *l = lbl.data ? lbl.data : "";
	buf_printf(out,
		   "# HELP pgxpool_max_conns Maximum size of the pool.\n# TYPE pgxpool_max_conns gauge\n"
		   "pgxpool_max_conns%s %d\n"
		   "# HELP pgxpool_total_conns Total number of resources currently in the pool.\n# TYPE pgxpool_total_conns gauge\n"
		   "pgxpool_total_conns%s %d\n"
		   "# HELP pgxpool_acquired_conns Number of currently acquired connections in the pool.\n# TYPE pgxpool_acquired_conns gauge\n"
		   "pgxpool_acquired_conns%s %d\n"
		   "# HELP pgxpool_idle_conns Number of currently idle conns in the pool.\n# TYPE pgxpool_idle_conns gauge\n"
		   "pgxpool_idle_conns%s %d\n"
		   "# HELP pgxpool_acquire_count Cumulative count of successful acquires from the pool.\n# TYPE pgxpool_acquire_count counter\n"
		   "pgxpool_acquire_count%s %llu\n"
		   "# HELP pgxpool_empty_acquire Cumulative count of successful acquires from the pool that waited for a resource to be released or constructed because the pool was empty.\n# TYPE pgxpool_empty_acquire counter\n"
		   "pgxpool_empty_acquire%s %llu\n"
		   "# HELP pgxpool_acquire_duration_seconds_total Total duration of all successful acquires from the pool.\n# TYPE pgxpool_acquire_duration_seconds_total counter\n"
		   "pgxpool_acquire_duration_seconds_total%s %.9f\n"
		   "# HELP pgxpool_connect_errors_total Cumulative count of failed connection attempts.\n# TYPE pgxpool_connect_errors_total counter\n"
		   "pgxpool_connect_errors_total%s %llu\n",
		   l, s.max, l, s.open, l, s.in_use, l, s.idle, l, (unsigned long long)s.acquire_count, l,
		   (unsigned long long)s.acquire_wait_count, l, (double)s.acquire_wait_ns / 1e9, l,
		   (unsigned long long)s.connect_errors);
	buf_release(&lbl);
}
