/* metrics: families with a small linear series table each, guarded by one mutex per family. */
#include "scanner/httpapi/metrics.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define MAX_SERIES 10000

enum mtype { M_COUNTER, M_GAUGE, M_HISTOGRAM };

struct series {
	char **values;  /* n_labels strings */
	double value;   /* counter / gauge */
	double sum;     /* histogram */
	unsigned long long count;
	unsigned long long *buckets; /* n_buckets cumulative-at-render counts (non-cumulative) */
};

struct metric {
	struct metrics *reg;
	enum mtype type;
	char *name, *help;
	char *labels[METRICS_MAX_LABELS];
	size_t n_labels;
	double *bounds;
	size_t n_buckets;
	pthread_mutex_t mu;
	struct series *series;
	size_t n_series, cap_series;
	struct metric *next;
};

struct collector {
	metrics_collect_fn fn;
	void *ctx;
	struct collector *next;
};

struct metrics {
	pthread_mutex_t mu; /* family list and collectors */
	struct metric *head, *tail;
	struct collector *collectors;
};

int metrics_new(struct metrics **ret)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	pthread_mutex_init(&m->mu, NULL);
	*ret = m;
	return 0;
}

static void family_free(struct metric *f)
{
	for (size_t i = 0; i < f->n_series; i++) {
		for (size_t j = 0; j < f->n_labels; j++)
			free(f->series[i].values[j]);
		free(f->series[i].values);
		free(f->series[i].buckets);
	}
	free(f->series);
	for (size_t j = 0; j < f->n_labels; j++)
		free(f->labels[j]);
	free(f->bounds);
	free(f->name);
	free(f->help);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	for (struct metric *f = m->head, *n; f; f = n) {
		n = f->next;
		family_free(f);
	}
	for (struct collector *c = m->collectors, *n; c; c = n) {
		n = c->next;
		free(c);
	}
	pthread_mutex_destroy(&m->mu);
	free(m);
}

static int valid_name(const char *s)
{
	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == ':'))
			return 0;
	return 1;
}

static struct metric *family_get(struct metrics *m, enum mtype t, const char *name,
				 const char *help, const char *const *labels, const double *b,
				 size_t nb)
{
	struct metric *f = NULL;
	size_t nl = 0;

	if (!m || !valid_name(name))
		return NULL;
	while (labels && labels[nl])
		if (!valid_name(labels[nl++]))
			return NULL;
	if (nl > METRICS_MAX_LABELS)
		return NULL;
	pthread_mutex_lock(&m->mu);
	for (f = m->head; f; f = f->next) {
		if (strcmp(f->name, name) == 0) {
			if (f->type != t || f->n_labels != nl)
				f = NULL;
			goto out;
		}
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		goto out;
	pthread_mutex_init(&f->mu, NULL);
	f->reg = m;
	f->type = t;
	f->name = strdup(name);
	f->help = strdup(help ? help : "");
	f->n_labels = nl;
	for (size_t i = 0; i < nl; i++)
		if (!(f->labels[i] = strdup(labels[i])))
			goto fail;
	if (nb) {
		f->bounds = malloc(nb * sizeof(double));
		if (!f->bounds)
			goto fail;
		memcpy(f->bounds, b, nb * sizeof(double));
		f->n_buckets = nb;
	}
	if (!f->name || !f->help)
		goto fail;
	if (m->tail)
		m->tail->next = f;
	else
		m->head = f;
	m->tail = f;
	goto out;
fail:
	family_free(f);
	f = NULL;
out:
	pthread_mutex_unlock(&m->mu);
	return f;
}

struct metric *metrics_counter(struct metrics *m, const char *name, const char *help,
			       const char *const *labels)
{
	return family_get(m, M_COUNTER, name, help, labels, NULL, 0);
}

struct metric *metrics_gauge(struct metrics *m, const char *name, const char *help,
			     const char *const *labels)
{
	return family_get(m, M_GAUGE, name, help, labels, NULL, 0);
}

struct metric *metrics_histogram(struct metrics *m, const char *name, const char *help,
				 const char *const *labels, const double *buckets,
				 size_t n_buckets)
{
	for (size_t i = 1; i < n_buckets; i++)
		if (!(buckets[i] > buckets[i - 1]))
			return NULL;
	return family_get(m, M_HISTOGRAM, name, help, labels, buckets, n_buckets);
}

/* Called with f->mu held. */
static struct series *series_get(struct metric *f, const char *const *values)
{
	struct series *s;

	for (size_t i = 0; i < f->n_series; i++) {
		size_t j;
		s = &f->series[i];
		for (j = 0; j < f->n_labels; j++)
			if (strcmp(s->values[j], values[j] ? values[j] : "") != 0)
				break;
		if (j == f->n_labels)
			return s;
	}
	if (f->n_series >= MAX_SERIES)
		return NULL;
	if (f->n_series == f->cap_series) {
		size_t nc = f->cap_series ? f->cap_series * 2 : 4;
		struct series *ns = realloc(f->series, nc * sizeof(*ns));
		if (!ns)
			return NULL;
		f->series = ns;
		f->cap_series = nc;
	}
	s = &f->series[f->n_series];
	memset(s, 0, sizeof(*s));
	s->values = calloc(f->n_labels ? f->n_labels : 1, sizeof(char *));
	if (!s->values)
		return NULL;
	if (f->n_buckets && !(s->buckets = calloc(f->n_buckets, sizeof(*s->buckets))))
		goto fail;
	for (size_t j = 0; j < f->n_labels; j++)
		if (!(s->values[j] = strdup(values[j] ? values[j] : "")))
			goto fail;
	f->n_series++;
	return s;
fail:
	for (size_t j = 0; j < f->n_labels; j++)
		free(s->values[j]);
	free(s->values);
	free(s->buckets);
	return NULL;
}

static int update(struct metric *f, const char *const *values, double v, int op)
{
	struct series *s;
	int rc = 0;

	if (!f)
		return 0;
	if ((op == 2) != (f->type == M_HISTOGRAM) || (op == 1 && f->type != M_GAUGE))
		return -EINVAL;
	pthread_mutex_lock(&f->mu);
	s = series_get(f, values);
	if (!s) {
		rc = f->n_series >= MAX_SERIES ? -E2BIG : -ENOMEM;
		goto out;
	}
	if (op == 0) {
		s->value += v;
	} else if (op == 1) {
		s->value = v;
	} else {
		s->sum += v;
		s->count++;
		for (size_t i = 0; i < f->n_buckets; i++) {
			if (v <= f->bounds[i]) {
				s->buckets[i]++;
				break;
			}
		}
	}
out:
	pthread_mutex_unlock(&f->mu);
	return rc;
}

int metrics_add(struct metric *f, const char *const *values, double v)
{
	return update(f, values, v, 0);
}

int metrics_set(struct metric *f, const char *const *values, double v)
{
	return update(f, values, v, 1);
}

int metrics_observe(struct metric *f, const char *const *values, double v)
{
	return update(f, values, v, 2);
}

int metrics_add_collector(struct metrics *m, metrics_collect_fn fn, void *ctx)
{
	struct collector *c = calloc(1, sizeof(*c)), **pp;

	if (!c)
		return -ENOMEM;
	c->fn = fn;
	c->ctx = ctx;
	pthread_mutex_lock(&m->mu);
	for (pp = &m->collectors; *pp; pp = &(*pp)->next)
		;
	*pp = c;
	pthread_mutex_unlock(&m->mu);
	return 0;
}

int metrics_escape_label(struct buf *out, const char *v)
{
	int rc = 0;

	for (; *v && rc >= 0; v++) {
		if (*v == '\\')
			rc = buf_puts(out, "\\\\");
		else if (*v == '"')
			rc = buf_puts(out, "\\\"");
		else if (*v == '\n')
			rc = buf_puts(out, "\\n");
		else
			rc = buf_putc(out, *v);
	}
	return rc;
}

static int put_help(struct buf *out, const char *help)
{
	int rc = 0;

	for (; *help && rc >= 0; help++) {
		if (*help == '\\')
			rc = buf_puts(out, "\\\\");
		else if (*help == '\n')
			rc = buf_puts(out, "\\n");
		else
			rc = buf_putc(out, *help);
	}
	return rc;
}

static int put_double(struct buf *out, double v)
{
	if (isinf(v))
		return buf_puts(out, v > 0 ? "+Inf" : "-Inf");
	if (isnan(v))
		return buf_puts(out, "NaN");
	if (v == floor(v) && fabs(v) < 1e15)
		return buf_printf(out, "%.0f", v);
	return buf_printf(out, "%.17g", v);
}

/* {a="x",b="y"[,le="..."]} */
static int put_labels(struct buf *out, const struct metric *f, const struct series *s,
		      const char *le)
{
	int rc = 0;

	if (!f->n_labels && !le)
		return 0;
	rc = buf_putc(out, '{');
	for (size_t j = 0; j < f->n_labels && rc >= 0; j++) {
		rc = buf_printf(out, "%s%s=\"", j ? "," : "", f->labels[j]);
		if (rc >= 0)
			rc = metrics_escape_label(out, s->values[j]);
		if (rc >= 0)
			rc = buf_putc(out, '"');
	}
	if (le && rc >= 0)
		rc = buf_printf(out, "%sle=\"%s\"", f->n_labels ? "," : "", le);
	if (rc >= 0)
		rc = buf_putc(out, '}');
	return rc;
}

static int render_family(struct metric *f, struct buf *out)
{
	static const char *const tn[] = {"counter", "gauge", "histogram"};
	int rc;

	pthread_mutex_lock(&f->mu);
	rc = buf_printf(out, "# HELP %s ", f->name);
	if (rc >= 0)
		rc = put_help(out, f->help);
	if (rc >= 0)
		rc = buf_printf(out, "\n# TYPE %s %s\n", f->name, tn[f->type]);
	for (size_t i = 0; i < f->n_series && rc >= 0; i++) {
		struct series *s = &f->series[i];

		if (f->type != M_HISTOGRAM) {
			rc = buf_puts(out, f->name);
			if (rc >= 0)
				rc = put_labels(out, f, s, NULL);
			if (rc >= 0)
				rc = buf_putc(out, ' ');
			if (rc >= 0)
				rc = put_double(out, s->value);
			if (rc >= 0)
				rc = buf_putc(out, '\n');
			continue;
		}
		unsigned long long cum = 0;
		for (size_t b = 0; b <= f->n_buckets && rc >= 0; b++) {
			char le[64];
			if (b < f->n_buckets) {
				struct buf t = BUF_INIT;
				cum += s->buckets[b];
				put_double(&t, f->bounds[b]);
				snprintf(le, sizeof(le), "%s", t.data ? t.data : "0");
				buf_release(&t);
			} else {
				cum = s->count;
				snprintf(le, sizeof(le), "+Inf");
			}
			rc = buf_printf(out, "%s_bucket", f->name);
			if (rc >= 0)
				rc = put_labels(out, f, s, le);
			if (rc >= 0)
				rc = buf_printf(out, " %llu\n", cum);
		}
		if (rc >= 0)
			rc = buf_printf(out, "%s_sum", f->name);
		if (rc >= 0)
			rc = put_labels(out, f, s, NULL);
		if (rc >= 0)
			rc = buf_putc(out, ' ');
		if (rc >= 0)
			rc = put_double(out, s->sum);
		if (rc >= 0)
			rc = buf_printf(out, "\n%s_count", f->name);
		if (rc >= 0)
			rc = put_labels(out, f, s, NULL);
		if (rc >= 0)
			rc = buf_printf(out, " %llu\n", s->count);
	}
	pthread_mutex_unlock(&f->mu);
	return rc;
}

int metrics_render_process(struct buf *out)
{
	char stat[2048];
	FILE *fp;
	size_t n = 0;
	int rc = 0;
	long tck = sysconf(_SC_CLK_TCK), pg = sysconf(_SC_PAGESIZE);
	unsigned long long ut = 0, stt = 0, start = 0, vsize = 0, btime = 0;
	long long rss = 0;
	struct rlimit rl;
	long fds = 0;
	DIR *d;

	fp = fopen("/proc/self/stat", "r");
	if (fp) {
		n = fread(stat, 1, sizeof(stat) - 1, fp);
		fclose(fp);
	}
	stat[n] = '\0';
	{
		/* fields after the ")" of comm: state(3) ... utime(14) stime(15) ...
		 * starttime(22) vsize(23) rss(24) */
		char *p = strrchr(stat, ')');
		if (p && sscanf(p + 2,
				"%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d "
				"%*d %*d %llu %llu %lld",
				&ut, &stt, &start, &vsize, &rss) != 5) {
			ut = stt = start = vsize = 0;
			rss = 0;
		}
	}
	fp = fopen("/proc/stat", "r");
	if (fp) {
		char line[256];
		while (fgets(line, sizeof(line), fp))
			if (sscanf(line, "btime %llu", &btime) == 1)
				break;
		fclose(fp);
	}
	d = opendir("/proc/self/fd");
	if (d) {
		struct dirent *de;
		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				fds++;
		closedir(d);
		fds--; /* the directory stream itself */
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		rl.rlim_cur = 0;
	if (tck <= 0)
		tck = 100;
	rc = buf_printf(out,
			"# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
			"# TYPE process_cpu_seconds_total counter\n"
			"process_cpu_seconds_total %.2f\n"
			"# HELP process_max_fds Maximum number of open file descriptors.\n"
			"# TYPE process_max_fds gauge\n"
			"process_max_fds %llu\n"
			"# HELP process_open_fds Number of open file descriptors.\n"
			"# TYPE process_open_fds gauge\n"
			"process_open_fds %ld\n"
			"# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
			"# TYPE process_resident_memory_bytes gauge\n"
			"process_resident_memory_bytes %lld\n"
			"# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n"
			"# TYPE process_start_time_seconds gauge\n"
			"process_start_time_seconds %.2f\n"
			"# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
			"# TYPE process_virtual_memory_bytes gauge\n"
			"process_virtual_memory_bytes %llu\n",
			(double)(ut + stt) / (double)tck, (unsigned long long)rl.rlim_cur, fds,
			rss * (long long)pg, (double)btime + (double)start / (double)tck, vsize);
	return rc < 0 ? rc : 0;
}

int metrics_render(struct metrics *m, struct buf *out)
{
	int rc = 0;

	pthread_mutex_lock(&m->mu);
	for (struct metric *f = m->head; f && rc >= 0; f = f->next)
		rc = render_family(f, out);
	for (struct collector *c = m->collectors; c && rc >= 0; c = c->next)
		c->fn(c->ctx, out);
	pthread_mutex_unlock(&m->mu);
	if (rc >= 0)
		rc = metrics_render_process(out);
	return rc < 0 ? rc : 0;
}
