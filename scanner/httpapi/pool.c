/* pool: mutex + condition variable job queue; threads are created once at start. */
#include "scanner/httpapi/pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct http_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct http_job *head, *tail;
	int stop;
	int n;
	pthread_t *threads;
};

static void *pool_main(void *arg)
{
	struct http_pool *p = arg;

	for (;;) {
		struct http_job *j;

		pthread_mutex_lock(&p->mu);
		while (!p->head && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		j = p->head;
		if (!j) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		p->head = j->next;
		if (!p->head)
			p->tail = NULL;
		pthread_mutex_unlock(&p->mu);
		j->next = NULL;
		j->run(j);
	}
}

int http_pool_start(int n_threads, struct http_pool **ret)
{
	struct http_pool *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	if (n_threads < 1)
		n_threads = 1;
	p->threads = calloc((size_t)n_threads, sizeof(pthread_t));
	if (!p->threads) {
		free(p);
		return -ENOMEM;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	for (int i = 0; i < n_threads; i++) {
		int rc = pthread_create(&p->threads[i], NULL, pool_main, p);
		if (rc) {
			p->n = i;
			http_pool_stop(p);
			return -rc;
		}
		p->n = i + 1;
	}
	*ret = p;
	return 0;
}

void http_pool_submit(struct http_pool *p, struct http_job *j)
{
	j->next = NULL;
	pthread_mutex_lock(&p->mu);
	if (p->tail)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

void http_pool_stop(struct http_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->n; i++)
		pthread_join(p->threads[i], NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p->threads);
	free(p);
}
