/* STOMP 1.2 deliverer (TCP or TLS) and framing. */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "scanner/notifier/notifier_int.h"

#define STOMP_IO_TIMEOUT_S 15

/* ---- framing ---- */

static int put_escaped(struct buf *b, const char *s, int escape)
{
	for (; *s; s++) {
		int rc;
		if (!escape) {
			rc = buf_putc(b, *s);
		} else {
			switch (*s) {
			case '\\': rc = buf_puts(b, "\\\\"); break;
			case '\n': rc = buf_puts(b, "\\n"); break;
			case '\r': rc = buf_puts(b, "\\r"); break;
			case ':': rc = buf_puts(b, "\\c"); break;
			default: rc = buf_putc(b, *s); break;
			}
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

int ntf_stomp_encode(struct buf *out, const char *command, const char *const *headers, const char *body,
		     size_t body_len)
{
	int esc = strcmp(command, "CONNECT") != 0 && strcmp(command, "STOMP") != 0 && strcmp(command, "CONNECTED") != 0;
	int rc;

	if (strpbrk(command, "\r\n:") || !*command)
		return -EINVAL;
	if ((rc = buf_puts(out, command)) < 0 || (rc = buf_putc(out, '\n')) < 0)
		return rc;
	for (size_t i = 0; headers && headers[i] && headers[i + 1]; i += 2) {
		if ((rc = put_escaped(out, headers[i], esc)) < 0 || (rc = buf_putc(out, ':')) < 0 ||
		    (rc = put_escaped(out, headers[i + 1], esc)) < 0 || (rc = buf_putc(out, '\n')) < 0)
			return rc;
	}
	if (body_len > 0 && (rc = buf_printf(out, "content-length:%zu\n", body_len)) < 0)
		return rc;
	if ((rc = buf_putc(out, '\n')) < 0)
		return rc;
	if (body_len > 0 && (rc = buf_append(out, body, body_len)) < 0)
		return rc;
	return buf_append(out, "", 1);
}

void ntf_stomp_frame_release(struct ntf_stomp_frame *f)
{
	free(f->command);
	for (size_t i = 0; i < f->nh; i++) {
		free(f->h[i].name);
		free(f->h[i].value);
	}
	free(f->body);
	memset(f, 0, sizeof(*f));
}

const char *ntf_stomp_header_get(const struct ntf_stomp_frame *f, const char *name)
{
	for (size_t i = 0; i < f->nh; i++)
		if (strcmp(f->h[i].name, name) == 0)
			return f->h[i].value;
	return NULL;
}

/* Copies p[0..n) unescaping STOMP 1.2 sequences; NULL on a bad escape or OOM. */
static char *unescape(const char *p, size_t n, int escape)
{
	char *o = malloc(n + 1), *q = o;
	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (!escape || p[i] != '\\') {
			*q++ = p[i];
			continue;
		}
		if (++i >= n)
			goto bad;
		switch (p[i]) {
		case '\\': *q++ = '\\'; break;
		case 'n': *q++ = '\n'; break;
		case 'r': *q++ = '\r'; break;
		case 'c': *q++ = ':'; break;
		default: goto bad;
		}
	}
	*q = 0;
	return o;
bad:
	free(o);
	return NULL;
}

long ntf_stomp_parse(const char *p, size_t n, struct ntf_stomp_frame *f)
{
	size_t i = 0, eol, start;
	const char *cl;
	int esc;

	memset(f, 0, sizeof(*f));
	while (i < n && (p[i] == '\n' || (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')))
		i += p[i] == '\r' ? 2 : 1;
	if (i >= n)
		return 0;
	/* command + headers: up to an empty line */
	start = i;
	for (;;) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t len;
		if (!nl) {
			ntf_stomp_frame_release(f);
			return (n - start > NTF_STOMP_MAX_FRAME) ? -EBADMSG : 0;
		}
		eol = (size_t)(nl - p);
		len = eol - i;
		if (len && p[eol - 1] == '\r')
			len--;
		if (!f->command) {
			if (!len || !(f->command = unescape(p + i, len, 0)))
				goto bad;
		} else if (len == 0) {
			i = eol + 1;
			break;
		} else {
			const char *colon = memchr(p + i, ':', len);
			esc = strcmp(f->command, "CONNECTED") != 0;
			if (!colon)
				goto bad;
			if (f->nh < NTF_STOMP_MAX_HEADERS) {
				f->h[f->nh].name = unescape(p + i, (size_t)(colon - (p + i)), esc);
				f->h[f->nh].value = unescape(colon + 1, len - (size_t)(colon - (p + i)) - 1, esc);
				if (!f->h[f->nh].name || !f->h[f->nh].value) {
					f->nh++;
					goto bad;
				}
				f->nh++;
			}
		}
		i = eol + 1;
		if (i - start > NTF_STOMP_MAX_FRAME)
			goto bad;
	}
	cl = ntf_stomp_header_get(f, "content-length");
	if (cl) {
		char *end = NULL;
		unsigned long long L;
		errno = 0;
		L = strtoull(cl, &end, 10);
		if (errno || !*cl || *end || L > NTF_STOMP_MAX_FRAME)
			goto bad;
		if (n - i < L + 1) {
			ntf_stomp_frame_release(f);
			return 0;
		}
		if (p[i + L] != 0)
			goto bad;
		f->body_len = (size_t)L;
	} else {
		const char *z = memchr(p + i, 0, n - i);
		if (!z) {
			ntf_stomp_frame_release(f);
			return (n - start > NTF_STOMP_MAX_FRAME) ? -EBADMSG : 0;
		}
		f->body_len = (size_t)(z - (p + i));
	}
	f->body = malloc(f->body_len + 1);
	if (!f->body)
		goto bad;
	memcpy(f->body, p + i, f->body_len);
	f->body[f->body_len] = 0;
	return (long)(i + f->body_len + 1);
bad:
	ntf_stomp_frame_release(f);
	return -EBADMSG;
}

/* ---- connection ---- */

struct stomp_conn {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	struct buf in;
};

static void conn_close(struct stomp_conn *c)
{
	if (c->ssl) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	if (c->ctx)
		SSL_CTX_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
	buf_release(&c->in);
	c->fd = -1;
	c->ssl = NULL;
	c->ctx = NULL;
}

static int split_hostport(const char *uri, char *host, size_t hn, char *port, size_t pn)
{
	const char *s = uri, *colon;
	if (strncmp(s, "tcp://", 6) == 0)
		s += 6;
	else if (strncmp(s, "stomp://", 8) == 0)
		s += 8;
	colon = strrchr(s, ':');
	if (!colon || colon == s || !colon[1])
		return -EINVAL;
	if (s[0] == '[' && colon[-1] == ']')
		snprintf(host, hn, "%.*s", (int)(colon - s - 2), s + 1);
	else
		snprintf(host, hn, "%.*s", (int)(colon - s), s);
	snprintf(port, pn, "%s", colon + 1);
	return 0;
}

static int conn_open(struct stomp_conn *c, const char *host, const char *port, const struct config_tls *tls,
		     struct diag *d)
{
	struct addrinfo hints = {0}, *res = NULL, *ai;
	struct timeval tv = {STOMP_IO_TIMEOUT_S, 0};
	int rc;

	c->fd = -1;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0)
		return diag_fail(d, -EHOSTUNREACH, "stomp %s:%s: %s", host, port, gai_strerror(rc));
	for (ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			c->fd = fd;
			break;
		}
		close(fd);
	}
	freeaddrinfo(res);
	if (c->fd < 0)
		return diag_fail(d, -ECONNREFUSED, "stomp %s:%s: could not connect", host, port);
	if (tls && tls->set) {
		c->ctx = SSL_CTX_new(TLS_client_method());
		if (!c->ctx)
			return diag_fail(d, -ENOMEM, "stomp: SSL_CTX_new failed");
		SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
		if (tls->root_ca ? SSL_CTX_load_verify_locations(c->ctx, tls->root_ca, NULL) != 1
				 : SSL_CTX_set_default_verify_paths(c->ctx) != 1)
			return diag_fail(d, -EINVAL, "stomp: could not load the CA");
		SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
		if (tls->cert && tls->key &&
		    (SSL_CTX_use_certificate_chain_file(c->ctx, tls->cert) != 1 ||
		     SSL_CTX_use_PrivateKey_file(c->ctx, tls->key, SSL_FILETYPE_PEM) != 1))
			return diag_fail(d, -EINVAL, "stomp: could not load the client certificate");
		c->ssl = SSL_new(c->ctx);
		if (!c->ssl)
			return diag_fail(d, -ENOMEM, "stomp: SSL_new failed");
		SSL_set_tlsext_host_name(c->ssl, host);
		SSL_set1_host(c->ssl, host);
		SSL_set_fd(c->ssl, c->fd);
		if (SSL_connect(c->ssl) != 1) {
			char e[256];
			ERR_error_string_n(ERR_get_error(), e, sizeof(e));
			return diag_fail(d, -EPROTO, "stomp %s:%s: TLS handshake: %s", host, port, e);
		}
	}
	buf_init(&c->in, NTF_STOMP_MAX_FRAME + 4096);
	return 0;
}

static int conn_write(struct stomp_conn *c, const struct buf *b, struct diag *d)
{
	size_t off = 0;
	while (off < b->len) {
		long w = c->ssl ? SSL_write(c->ssl, b->data + off, (int)(b->len - off))
				: send(c->fd, b->data + off, b->len - off, MSG_NOSIGNAL);
		if (w <= 0) {
			if (!c->ssl && w < 0 && errno == EINTR)
				continue;
			return diag_fail(d, -EIO, "stomp: write failed");
		}
		off += (size_t)w;
	}
	return 0;
}

/* Reads the next frame (heartbeats skipped). */
static int conn_read_frame(struct stomp_conn *c, struct ntf_stomp_frame *f, struct diag *d)
{
	for (;;) {
		char tmp[4096];
		long r;
		long used = c->in.len ? ntf_stomp_parse(c->in.data, c->in.len, f) : 0;
		if (used < 0)
			return diag_fail(d, -EBADMSG, "stomp: malformed frame from the broker");
		if (used > 0) {
			memmove(c->in.data, c->in.data + used, c->in.len - (size_t)used);
			c->in.len -= (size_t)used;
			c->in.data[c->in.len] = 0;
			return 0;
		}
		r = c->ssl ? SSL_read(c->ssl, tmp, sizeof(tmp)) : recv(c->fd, tmp, sizeof(tmp), 0);
		if (r <= 0) {
			if (!c->ssl && r < 0 && errno == EINTR)
				continue;
			return diag_fail(d, -EIO, "stomp: connection closed or timed out waiting for the broker");
		}
		if (buf_append(&c->in, tmp, (size_t)r) < 0)
			return diag_fail(d, -EBADMSG, "stomp: frame from the broker too large");
	}
}

/* Sends frame b and waits for RECEIPT receipt-id == rid (ERROR -> failure). */
static int send_wait(struct stomp_conn *c, const struct buf *b, const char *rid, struct diag *d)
{
	int rc = conn_write(c, b, d);
	while (rc == 0) {
		struct ntf_stomp_frame f;
		if ((rc = conn_read_frame(c, &f, d)) < 0)
			break;
		if (strcmp(f.command, "ERROR") == 0) {
			const char *m = ntf_stomp_header_get(&f, "message");
			rc = diag_fail(d, -EPROTO, "stomp broker error: %s %.200s", m ? m : "", f.body);
		} else if (strcmp(f.command, "RECEIPT") == 0 && rid) {
			const char *r = ntf_stomp_header_get(&f, "receipt-id");
			if (r && strcmp(r, rid) == 0) {
				ntf_stomp_frame_release(&f);
				return 0;
			}
		} else if (strcmp(f.command, "CONNECTED") == 0 && !rid) {
			ntf_stomp_frame_release(&f);
			return 0;
		}
		ntf_stomp_frame_release(&f);
	}
	return rc;
}

/* ---- deliverer ---- */

struct stomp_dl {
	struct ntf_deliverer base;
	const struct config_stomp *cfg;
	unsigned long seq;
};

static int stomp_session(struct stomp_dl *s, struct stomp_conn *c, char *host, size_t hn, struct diag *d)
{
	const struct config_stomp *cfg = s->cfg;
	struct buf b = BUF_INIT;
	int rc = -ECONNREFUSED;

	diag_set(d, "stomp: no uris");
	for (size_t i = 0; i < cfg->uris.n; i++) {
		char port[16];
		if (split_hostport(cfg->uris.v[i], host, hn, port, sizeof(port)) < 0) {
			rc = diag_fail(d, -EINVAL, "stomp: bad uri \"%s\" (want host:port)", cfg->uris.v[i]);
			continue;
		}
		rc = conn_open(c, host, port, &cfg->tls, d);
		if (rc < 0) {
			conn_close(c);
			continue;
		}
		/* host = the virtual host: "/" (RabbitMQ maps the host header to a vhost and refuses
		 * an unknown one; Clair sends the URI's host name there, which RabbitMQ rejects) */
		const char *h[] = {"accept-version", "1.2", "host", "/", "heart-beat", "0,0",
				   cfg->user.login ? "login" : NULL, cfg->user.login, "passcode",
				   cfg->user.passcode ? cfg->user.passcode : "", NULL};
		buf_reset(&b);
		rc = ntf_stomp_encode(&b, "CONNECT", h, NULL, 0);
		if (rc == 0)
			rc = send_wait(c, &b, NULL, d);
		if (rc == 0)
			break;
		diag_prefix(d, "stomp CONNECT to %s", cfg->uris.v[i]);
		conn_close(c);
	}
	buf_release(&b);
	return rc;
}

static int stomp_deliver(struct ntf_deliverer *dl, const char *id, const json_t *notifs, struct diag *d)
{
	struct stomp_dl *s = (struct stomp_dl *)dl;
	const struct config_stomp *cfg = s->cfg;
	struct stomp_conn c = {.fd = -1};
	struct buf b = BUF_INIT;
	char host[256], rid[80], tx[80];
	char *text = NULL;
	int rc;

	if ((rc = stomp_session(s, &c, host, sizeof(host), d)) < 0)
		goto out;
	snprintf(rid, sizeof(rid), "%s-%lu", id, ++s->seq);
	if (!cfg->direct) {
		text = ntf_callback_body(cfg->callback, id);
		if (!text) {
			rc = diag_fail(d, -ENOMEM, "out of memory");
			goto out;
		}
		const char *h[] = {"destination", cfg->destination, "content-type", "application/json", "receipt", rid, NULL};
		if ((rc = ntf_stomp_encode(&b, "SEND", h, text, strlen(text))) == 0)
			rc = send_wait(&c, &b, rid, d);
		goto out;
	}
	/* direct: BEGIN, SEND arrays of <= rollup, COMMIT with a receipt */
	{
		size_t roll = cfg->rollup > 0 ? (size_t)cfg->rollup : 1, total = json_array_size(notifs);
		snprintf(tx, sizeof(tx), "tx-%s-%lu", id, s->seq);
		const char *bh[] = {"transaction", tx, NULL};
		if ((rc = ntf_stomp_encode(&b, "BEGIN", bh, NULL, 0)) < 0)
			goto out;
		for (size_t off = 0; off < total; off += roll) {
			json_t *batch = json_array();
			for (size_t i = off; batch && i < total && i < off + roll; i++)
				json_array_append(batch, json_array_get(notifs, i));
			free(text);
			text = batch ? json_dumps(batch, JSON_COMPACT) : NULL;
			json_decref(batch);
			if (!text) {
				rc = diag_fail(d, -ENOMEM, "out of memory");
				goto out;
			}
			const char *h[] = {"destination", cfg->destination, "content-type", "application/json",
					   "transaction", tx, NULL};
			if ((rc = ntf_stomp_encode(&b, "SEND", h, text, strlen(text))) < 0)
				goto out;
			if (b.len > (size_t)8 << 20) { /* flush big transactions as they go */
				if ((rc = conn_write(&c, &b, d)) < 0)
					goto out;
				buf_reset(&b);
			}
		}
		const char *ch[] = {"transaction", tx, "receipt", rid, NULL};
		if ((rc = ntf_stomp_encode(&b, "COMMIT", ch, NULL, 0)) < 0)
			goto out;
		rc = send_wait(&c, &b, rid, d);
	}
out:
	if (c.fd >= 0 && rc == 0) {
		struct buf x = BUF_INIT;
		if (ntf_stomp_encode(&x, "DISCONNECT", NULL, NULL, 0) == 0) {
			struct diag dd;
			conn_write(&c, &x, &dd);
		}
		buf_release(&x);
	}
	conn_close(&c);
	buf_release(&b);
	free(text);
	return rc;
}

static void stomp_free(struct ntf_deliverer *dl)
{
	free(dl);
}

int ntf_stomp_new(const struct clair_config *cfg, struct ntf_deliverer **ret, struct diag *d)
{
	struct stomp_dl *s;
	if (!cfg->notifier.stomp.uris.n || !cfg->notifier.stomp.destination)
		return diag_fail(d, -EINVAL, "notifier.stomp: uris and destination are required");
	s = calloc(1, sizeof(*s));
	if (!s)
		return diag_fail(d, -ENOMEM, "out of memory");
	s->base.name = "stomp";
	s->base.direct = cfg->notifier.stomp.direct;
	s->base.deliver = stomp_deliver;
	s->base.free = stomp_free;
	s->cfg = &cfg->notifier.stomp;
	*ret = &s->base;
	return 0;
}
