/* metrics: a thread-safe Prometheus registry (counters, gauges, histograms with labels, plus
 * collector callbacks) rendered in the text exposition format 0.0.4.
 *
 *   struct metrics *m; metrics_new(&m);
 *   static const char *const lbl[] = {"handler", "code", "method", NULL};
 *   struct metric *c = metrics_counter(m, "clair_x_total", "Things.", lbl);
 *   metrics_add(c, (const char *[]){"/a", "200", "get"}, 1);
 *   struct buf out = BUF_INIT; metrics_render(m, &out);
 */
#ifndef SCANNER_HTTPAPI_METRICS_H
#define SCANNER_HTTPAPI_METRICS_H

#include <stddef.h>

#include "common/buf.h"

#define METRICS_MAX_LABELS 6

struct metrics;
struct metric;

/* Appends complete exposition lines (with their own HELP/TYPE) at scrape time. */
typedef void (*metrics_collect_fn)(void *ctx, struct buf *out);

int metrics_new(struct metrics **ret);
void metrics_free(struct metrics *m);

/* Families. labels: NULL-terminated names (may be NULL). Registering an existing name with the
 * same type returns the existing family. NULL on OOM, bad name or type clash. */
struct metric *metrics_counter(struct metrics *m, const char *name, const char *help,
			       const char *const *labels);
struct metric *metrics_gauge(struct metrics *m, const char *name, const char *help,
			     const char *const *labels);
/* buckets: strictly increasing upper bounds (+Inf is implicit). */
struct metric *metrics_histogram(struct metrics *m, const char *name, const char *help,
				 const char *const *labels, const double *buckets,
				 size_t n_buckets);

/* values: one per label name (NULL for a family without labels). A NULL family is ignored.
 * Returns 0, -ENOMEM, or -E2BIG when the family already has too many series. */
int metrics_add(struct metric *f, const char *const *values, double v);     /* counter, gauge */
int metrics_set(struct metric *f, const char *const *values, double v);     /* gauge */
int metrics_observe(struct metric *f, const char *const *values, double v); /* histogram */

int metrics_add_collector(struct metrics *m, metrics_collect_fn fn, void *ctx);
/* Renders every family, then the collectors, then process_* metrics from /proc/self. */
int metrics_render(struct metrics *m, struct buf *out);
/* Just the process_* metrics. */
int metrics_render_process(struct buf *out);
/* Appends v escaped as a label value (backslash, double quote, newline). */
int metrics_escape_label(struct buf *out, const char *v);

#endif
