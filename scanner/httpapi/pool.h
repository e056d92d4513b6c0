/* pool: a fixed set of worker threads running queued jobs in FIFO order. */
#ifndef SCANNER_HTTPAPI_POOL_H
#define SCANNER_HTTPAPI_POOL_H

struct http_job {
	struct http_job *next;
	void (*run)(struct http_job *j);
};

struct http_pool;

int http_pool_start(int n_threads, struct http_pool **ret);
void http_pool_submit(struct http_pool *p, struct http_job *j);
/* Runs every queued job, then joins the threads and frees the pool. NULL is fine. */
void http_pool_stop(struct http_pool *p);

#endif
