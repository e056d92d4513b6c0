#include "controller/httpd.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

struct httpd {
	int fd;
	int port;
	httpd_handler fn;
	void *ud;
	const atomic_int *stop;
	pthread_t th;
};

static const char *reason(int st)
{
	switch (st) {
	case 200:
		return "OK";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 400:
		return "Bad Request";
	default:
		return "Service Unavailable";
	}
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void serve(struct httpd *h, int c)
{
	char req[8192], path[1024], hdr[256];
	size_t len = 0;
	struct buf body = BUF_INIT;
	const char *ct = "text/plain; charset=utf-8";
	int st;
	struct timeval tv = {2, 0};

	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (len < sizeof(req) - 1) {
		ssize_t n = recv(c, req + len, sizeof(req) - 1 - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
	}
	req[len] = '\0';
	buf_init(&body, 1u << 20);
	if (sscanf(req, "GET %1023s HTTP/1.", path) != 1) {
		st = strncmp(req, "GET ", 4) && len ? 405 : 400;
		buf_puts(&body, st == 405 ? "method not allowed\n" : "bad request\n");
	} else {
		char *q = strchr(path, '?');
		if (q)
			*q = '\0';
		st = h->fn(h->ud, path, &body, &ct);
	}
	snprintf(hdr, sizeof(hdr),
	         "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", st,
	         reason(st), ct, body.len);
	write_all(c, hdr, strlen(hdr));
	if (body.len)
		write_all(c, body.data, body.len);
	buf_release(&body);
}

static void *run(void *arg)
{
	struct httpd *h = arg;
	while (!atomic_load(h->stop)) {
		struct pollfd pfd = {.fd = h->fd, .events = POLLIN};
		int n = poll(&pfd, 1, 200), c;
		if (n <= 0)
			continue;
		c = accept4(h->fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		serve(h, c);
		close(c);
	}
	return NULL;
}

int httpd_start(const char *addr, httpd_handler fn, void *ud, const atomic_int *stop, struct httpd **ret,
                struct diag *d)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE},
	                *ai = NULL;
	char host[256] = "", port[16];
	const char *colon = strrchr(addr, ':');
	struct httpd *h;
	int e, one = 1;

	*ret = NULL;
	if (!colon || strlen(colon + 1) >= sizeof(port))
		return diag_fail(d, -EINVAL, "listen address \"%s\": want [host]:port", addr);
	snprintf(port, sizeof(port), "%s", colon + 1);
	if (addr[0] == '[') {
		if (colon - addr < 2 || colon[-1] != ']' || (size_t)(colon - addr - 2) >= sizeof(host))
			return diag_fail(d, -EINVAL, "listen address \"%s\": bad IPv6 literal", addr);
		memcpy(host, addr + 1, (size_t)(colon - addr - 2));
		host[colon - addr - 2] = '\0';
	} else if ((size_t)(colon - addr) < sizeof(host)) {
		memcpy(host, addr, (size_t)(colon - addr));
		host[colon - addr] = '\0';
	}
	if ((e = getaddrinfo(*host ? host : NULL, port, &hints, &ai)) != 0)
		return diag_fail(d, -EINVAL, "listen address \"%s\": %s", addr, gai_strerror(e));
	if (!(h = calloc(1, sizeof(*h)))) {
		freeaddrinfo(ai);
		return -ENOMEM;
	}
	h->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	if (h->fd < 0 || setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(h->fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(h->fd, 64) < 0) {
		e = -errno;
		diag_set(d, "listen on %s: %s", addr, strerror(errno));
		if (h->fd >= 0)
			close(h->fd);
		free(h);
		freeaddrinfo(ai);
		return e;
	}
	freeaddrinfo(ai);
	{
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		if (getsockname(h->fd, (struct sockaddr *)&ss, &sl) == 0)
			h->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
			                                         : ((struct sockaddr_in *)&ss)->sin_port);
	}
	h->fn = fn;
	h->ud = ud;
	h->stop = stop;
	if ((e = pthread_create(&h->th, NULL, run, h)) != 0) {
		close(h->fd);
		free(h);
		return diag_fail(d, -e, "httpd thread: %s", strerror(e));
	}
	*ret = h;
	return 0;
}

int httpd_port(const struct httpd *h)
{
	return h->port;
}

void httpd_join(struct httpd *h)
{
	if (!h)
		return;
	pthread_join(h->th, NULL);
	close(h->fd);
	free(h);
}
