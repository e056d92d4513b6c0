/* response: building responses, Clair error bodies, the errno -> status table. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "scanner/httpapi/http_int.h"

void http_response_init(struct http_response *w)
{
	w->status = 200;
	buf_init(&w->headers, 1 << 20);
	buf_init(&w->body, 0);
	w->close = 0;
}

void http_response_release(struct http_response *w)
{
	buf_release(&w->headers);
	buf_release(&w->body);
}

void http_response_status(struct http_response *w, int status)
{
	w->status = status;
}

int http_response_header(struct http_response *w, const char *name, const char *value)
{
	if (!name || !*name || !value || strpbrk(name, "\r\n: ") || strpbrk(value, "\r\n"))
		return -EINVAL;
	return buf_printf(&w->headers, "%s: %s\r\n", name, value);
}

/* Finds the line of header name; returns its offset and sets *ret_len (line incl. CRLF). */
static long header_find(const struct buf *h, const char *name, size_t *ret_len)
{
	size_t nl = strlen(name), off = 0;

	while (off < h->len) {
		const char *line = h->data + off;
		const char *e = strstr(line, "\r\n");
		size_t ll = e ? (size_t)(e - line) + 2 : h->len - off;

		if (ll > nl && line[nl] == ':' && strncasecmp(line, name, nl) == 0) {
			*ret_len = ll;
			return (long)off;
		}
		off += ll;
	}
	return -1;
}

void http_response_header_del(struct http_response *w, const char *name)
{
	size_t ll;
	long off;

	while ((off = header_find(&w->headers, name, &ll)) >= 0) {
		memmove(w->headers.data + off, w->headers.data + off + ll,
			w->headers.len - (size_t)off - ll + 1);
		w->headers.len -= ll;
	}
}

const char *http_response_header_get(const struct http_response *w, const char *name, char *buf,
				     size_t n)
{
	size_t ll, nl = strlen(name), vl;
	long off = header_find(&w->headers, name, &ll);
	const char *v;

	if (off < 0 || n == 0)
		return NULL;
	v = w->headers.data + off + nl + 1;
	while (*v == ' ')
		v++;
	vl = (size_t)(w->headers.data + off + ll - 2 - v);
	if (vl >= n)
		vl = n - 1;
	memcpy(buf, v, vl);
	buf[vl] = '\0';
	return buf;
}

int http_response_body(struct http_response *w, const void *p, size_t n)
{
	return buf_append(&w->body, p, n);
}

const char *http_error_code(int status)
{
	switch (status) {
	case 400:
		return "bad-request";
	case 404:
		return "not-found";
	case 405:
		return "method-not-allowed";
	case 410:
		return "gone";
	case 429:
		return "too-many-requests";
	default:
		return "internal-error";
	}
}

void http_response_error(struct http_response *w, int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	msg[0] = '\0';
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
	}
	w->status = status;
	http_response_header_del(w, "Link");
	http_response_header_del(w, "Content-Type");
	http_response_header_del(w, "X-Content-Type-Options");
	http_response_header_del(w, "Trailer");
	http_response_header(w, "Content-Type", "application/json");
	http_response_header(w, "X-Content-Type-Options", "nosniff");
	http_response_header(w, "Trailer", "Clair-Error");
	buf_reset(&w->body);
	buf_puts(&w->body, "{\"code\":");
	buf_put_json_string(&w->body, http_error_code(status), strlen(http_error_code(status)));
	if (msg[0]) {
		buf_puts(&w->body, ",\"message\":");
		buf_put_json_string(&w->body, msg, strlen(msg));
	}
	buf_putc(&w->body, '}');
}

int http_status_from_errno(int e)
{
	switch (e) {
	case 0:
		return 200;
	case -EINVAL:
	case -EBADMSG:
	case -EDOM:
	case -EPROTO:
		return 400;
	case -EACCES:
	case -EPERM:
		return 403;
	case -ENOENT:
		return 404;
	case -EEXIST:
		return 409;
	case -EFBIG:
	case -E2BIG:
		return 413;
	case -ENOTSUP:
		return 415;
	case -EBUSY:
	case -EAGAIN:
		return 429;
	case -ETIMEDOUT:
		return 504;
	default:
		return 500;
	}
}

const char *http_status_text(int s)
{
	switch (s) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 412: return "Precondition Failed";
	case 413: return "Request Entity Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Unknown";
	}
}

const char *http_date_now(void)
{
	static _Thread_local char cached[40];
	static _Thread_local time_t cached_t;
	time_t now = time(NULL);

	if (now != cached_t || !cached[0]) {
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(cached, sizeof(cached), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		cached_t = now;
	}
	return cached;
}

int http_response_serialize(const struct http_response *w, int head_only, int keep_alive,
			    struct buf *out)
{
	int st = w->status ? w->status : 200;
	int bodyless = st < 200 || st == 204 || st == 304;
	int rc;

	rc = buf_reserve(out, 160 + w->headers.len + (head_only || bodyless ? 0 : w->body.len));
	if (rc < 0)
		return rc;
	rc = buf_printf(out, "HTTP/1.1 %d %s\r\n", st, http_status_text(st));
	if (rc >= 0 && w->headers.len)
		rc = buf_append(out, w->headers.data, w->headers.len);
	if (rc >= 0 && !bodyless && w->body.len) {
		size_t ll;
		if (header_find(&w->headers, "Content-Type", &ll) < 0)
			rc = buf_puts(out, "Content-Type: text/plain; charset=utf-8\r\n");
	}
	if (rc >= 0 && !bodyless)
		rc = buf_printf(out, "Content-Length: %zu\r\n", w->body.len);
	if (rc >= 0 && (!keep_alive || w->close))
		rc = buf_puts(out, "Connection: close\r\n");
	if (rc >= 0)
		rc = buf_printf(out, "Date: %s\r\n\r\n", http_date_now());
	if (rc >= 0 && !bodyless && !head_only && w->body.len)
		rc = buf_append(out, w->body.data, w->body.len);
	return rc < 0 ? rc : 0;
}
