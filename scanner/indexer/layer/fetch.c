/* fetch.c: the HTTP(S) source (libcurl multi, pulled by the tar reader), options, retries. */
#include "scanner/indexer/layer/layer_int.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/backoff.h"
#include <jansson.h>

#include "common/log.h"

#define HTTP_HIGH_WATER (1024 * 1024) /* pause the transfer above this many unread bytes */

void layer_fetch_opts_default(struct layer_fetch_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->connect_timeout_ms = 10000;
	o->read_timeout_ms = 60000;
	o->retries = 3;
	o->retry_initial_ms = 500;
	o->max_layer_bytes = 16ULL << 30;
	o->max_tar_bytes = 64ULL << 30;
	o->max_entries = 1000000;
	o->max_file_bytes = (size_t)256 << 20;
	o->max_total_buffered = (size_t)1 << 30;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct http_src {
	struct layer_src base;
	const struct layer_fetch_opts *o;
	CURLM *multi;
	CURL *easy;
	struct curl_slist *hdrs;
	unsigned char *buf;
	size_t off, len, cap;
	int paused, done, airgap_refused, bad_status;
	long status;
	CURLcode result;
	uint64_t last_ms;
	char errbuf[CURL_ERROR_SIZE];
};

static size_t http_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct http_src *h = ud;
	size_t n = size * nmemb;
	if (!h->status) {
		long code = 0;
		curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &code);
		h->status = code;
		if (code != 200) {
			h->bad_status = 1;
			return 0; /* abort: the body of an error is not a layer */
		}
	}
	if (h->len - h->off >= HTTP_HIGH_WATER) {
		h->paused = 1;
		return CURL_WRITEFUNC_PAUSE;
	}
	if (h->off && h->len + n > h->cap) {
		memmove(h->buf, h->buf + h->off, h->len - h->off);
		h->len -= h->off;
		h->off = 0;
	}
	if (h->len + n > h->cap) {
		size_t ncap = h->cap ? h->cap : 64 * 1024;
		while (ncap < h->len + n)
			ncap *= 2;
		unsigned char *nb = realloc(h->buf, ncap);
		if (!nb)
			return 0;
		h->buf = nb;
		h->cap = ncap;
	}
	memcpy(h->buf + h->len, ptr, n);
	h->len += n;
	h->last_ms = now_ms();
	return n;
}

static size_t http_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct http_src *h = ud;
	(void)ptr;
	h->last_ms = now_ms();
	return size * nmemb;
}

static int addr_allowed(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		uint32_t a = ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr);
		return (a >> 24) == 127 || (a >> 24) == 10 || (a >> 20) == (172u << 4 | 1) ||
		       (a >> 16) == (192u << 8 | 168) || (a >> 16) == (169u << 8 | 254) ||
		       (a >> 22) == (100u << 2 | 1); /* 100.64/10 */
	}
	if (sa->sa_family == AF_INET6) {
		const unsigned char *b = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
		static const unsigned char loop[16] = {[15] = 1};
		static const unsigned char v4m[12] = {[10] = 0xff, [11] = 0xff};
		if (memcmp(b, loop, 16) == 0)
			return 1;
		if ((b[0] & 0xfe) == 0xfc) /* fc00::/7 */
			return 1;
		if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) /* fe80::/10 */
			return 1;
		if (memcmp(b, v4m, 12) == 0) {
			struct sockaddr_in s4 = {.sin_family = AF_INET};
			memcpy(&s4.sin_addr, b + 12, 4);
			return addr_allowed((const struct sockaddr *)&s4);
		}
	}
	return 0;
}

static curl_socket_t http_opensocket(void *ud, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct http_src *h = ud;
	(void)purpose;
	if (h->o->airgap && !addr_allowed(&addr->addr)) {
		h->airgap_refused = 1;
		return CURL_SOCKET_BAD;
	}
	int fd = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
	return fd < 0 ? CURL_SOCKET_BAD : fd;
}

static CURLcode http_sslctx(CURL *curl, void *sslctx, void *ud)
{
	struct http_src *h = ud;
	(void)curl;
	if (h->o->extra_ca_file && SSL_CTX_load_verify_locations(sslctx, h->o->extra_ca_file, NULL) != 1)
		return CURLE_SSL_CACERT_BADFILE;
	return CURLE_OK;
}

/* Maps a finished transfer to -errno + diag; sets transient. */
static int http_error(struct http_src *h, struct diag *d)
{
	long code = h->status;
	if (!code)
		curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &code);
	h->base.transient = 0;
	if (h->airgap_refused)
		return diag_fail(d, -EACCES, "address not allowed in airgap mode");
	if (h->bad_status || (h->result == CURLE_OK && code != 200)) {
		if (code >= 500 || code == 429 || code == 408) {
			h->base.transient = 1;
			return diag_fail(d, -EIO, "HTTP %ld", code);
		}
		if (code == 404 || code == 410)
			return diag_fail(d, -ENOENT, "HTTP %ld", code);
		if (code == 401 || code == 403)
			return diag_fail(d, -EACCES, "HTTP %ld", code);
		return diag_fail(d, -EIO, "HTTP %ld", code);
	}
	const char *msg = h->errbuf[0] ? h->errbuf : curl_easy_strerror(h->result);
	switch (h->result) {
	case CURLE_OK:
		return 0;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		h->base.transient = 1;
		return diag_fail(d, -ECONNREFUSED, "%s", msg);
	case CURLE_OPERATION_TIMEDOUT:
		h->base.transient = 1;
		return diag_fail(d, -ETIMEDOUT, "%s", msg);
	case CURLE_OUT_OF_MEMORY:
		return diag_fail(d, -ENOMEM, "%s", msg);
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_TOO_MANY_REDIRECTS:
		return diag_fail(d, -EINVAL, "%s", msg);
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		return diag_fail(d, -EIO, "%s", msg);
	default:
		h->base.transient = 1; /* partial file, reset, nothing received, ... */
		return diag_fail(d, -EIO, "%s", msg);
	}
}

static ssize_t http_src_read(struct layer_src *s, void *out, size_t n, struct diag *d)
{
	struct http_src *h = (struct http_src *)s;
	/* time spent by the reader (inflating, buffering) between calls is not the server's */
	uint64_t wait_start = now_ms();
	while (h->off == h->len) {
		h->off = h->len = 0;
		if (h->done) {
			int err = http_error(h, d);
			return err < 0 ? err : 0;
		}
		if (h->paused) {
			h->paused = 0;
			h->last_ms = now_ms();
			curl_easy_pause(h->easy, CURLPAUSE_CONT); /* may deliver data right here */
			continue;
		}
		int running = 0;
		CURLMcode mc = curl_multi_perform(h->multi, &running);
		if (mc != CURLM_OK) {
			h->base.transient = 1;
			return diag_fail(d, -EIO, "%s", curl_multi_strerror(mc));
		}
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(h->multi, &left)))
			if (msg->msg == CURLMSG_DONE) {
				h->done = 1;
				h->result = msg->data.result;
			}
		if (h->off < h->len || h->done || h->paused)
			continue;
		uint64_t since = h->last_ms > wait_start ? h->last_ms : wait_start;
		uint64_t idle = now_ms() - since;
		if ((long)idle >= h->o->read_timeout_ms) {
			h->base.transient = 1;
			return diag_fail(d, -ETIMEDOUT, "no data for %ld ms", h->o->read_timeout_ms);
		}
		long wait = h->o->read_timeout_ms - (long)idle;
		if (wait > 1000)
			wait = 1000;
		mc = curl_multi_poll(h->multi, NULL, 0, (int)wait, NULL);
		if (mc != CURLM_OK) {
			h->base.transient = 1;
			return diag_fail(d, -EIO, "%s", curl_multi_strerror(mc));
		}
	}
	size_t k = h->len - h->off;
	if (k > n)
		k = n;
	memcpy(out, h->buf + h->off, k);
	h->off += k;
	return (ssize_t)k;
}

static void http_src_release(struct http_src *h)
{
	if (h->multi && h->easy)
		curl_multi_remove_handle(h->multi, h->easy);
	if (h->easy)
		curl_easy_cleanup(h->easy);
	if (h->multi)
		curl_multi_cleanup(h->multi);
	curl_slist_free_all(h->hdrs);
	free(h->buf);
	memset(h, 0, sizeof(*h));
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_init_rc;
static void curl_init_once(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -ENOMEM;
}

static int http_src_open(struct http_src *h, const struct layer_desc *desc, const struct layer_fetch_opts *o,
                         struct diag *d)
{
	memset(h, 0, sizeof(*h));
	h->base.read = http_src_read;
	h->o = o;
	pthread_once(&curl_once, curl_init_once);
	if (curl_init_rc < 0)
		return diag_fail(d, -ENOMEM, "curl init failed");
	h->multi = curl_multi_init();
	h->easy = curl_easy_init();
	if (!h->multi || !h->easy)
		return diag_fail(d, -ENOMEM, "out of memory");
	for (size_t i = 0; i < desc->n_headers; i++) {
		struct curl_slist *nl = curl_slist_append(h->hdrs, desc->headers[i]);
		if (!nl)
			return diag_fail(d, -ENOMEM, "out of memory");
		h->hdrs = nl;
	}
	CURL *c = h->easy;
	int bad = 0;
	bad |= curl_easy_setopt(c, CURLOPT_URL, desc->uri) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->hdrs) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_UNRESTRICTED_AUTH, 0L) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_write) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_WRITEDATA, h) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, http_header) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_HEADERDATA, h) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, http_opensocket) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, h) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf) != CURLE_OK;
	if (o->extra_ca_file) {
		bad |= curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, http_sslctx) != CURLE_OK;
		bad |= curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, h) != CURLE_OK;
	}
	if (bad)
		return diag_fail(d, -EINVAL, "could not set up the transfer");
	if (curl_multi_add_handle(h->multi, c) != CURLM_OK)
		return diag_fail(d, -ENOMEM, "could not start the transfer");
	h->last_ms = now_ms();
	return 0;
}

static int desc_check(const struct layer_desc *desc, const struct layer_fetch_opts *o, struct diag *d)
{
	if (!desc->uri || !desc->uri[0])
		return diag_fail(d, -EINVAL, "empty uri");
	if (strncasecmp(desc->uri, "http://", 7) != 0 && strncasecmp(desc->uri, "https://", 8) != 0 &&
	    !(o->allow_file && strncmp(desc->uri, "file://", 7) == 0))
		return diag_fail(d, -EINVAL, "unsupported uri scheme");
	for (size_t i = 0; i < desc->n_headers; i++) {
		const char *hd = desc->headers[i];
		if (!hd || strpbrk(hd, "\r\n") || !strchr(hd, ':') || hd[0] == ':')
			return diag_fail(d, -EINVAL, "bad header %zu", i);
	}
	return 0;
}

static int fetch_file(const struct layer_desc *desc, const struct layer_digest *dg, const struct layer_fetch_opts *o,
                      layer_want_fn want, void *want_ctx, struct layer_files *ret, struct diag *d)
{
	const char *path = desc->uri + 7;
	if (strncmp(path, "localhost/", 10) == 0)
		path += 9;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		return diag_fail(d, -e, "layer \"%s\": open: %s", dg->str, strerror(e));
	}
	int err = layer_scan_fd(fd, dg->str, o, want, want_ctx, ret, d);
	close(fd);
	return err;
}

int layer_fetch_scan(const struct layer_desc *desc, const struct layer_fetch_opts *o, layer_want_fn want,
                     void *want_ctx, struct layer_files *ret, struct diag *d)
{
	struct layer_digest dg;
	struct layer_fetch_opts def;
	struct backoff bo;
	int err;

	diag_clear(d);
	memset(ret, 0, sizeof(*ret));
	if (!o) {
		layer_fetch_opts_default(&def);
		o = &def;
	}
	err = layer_digest_parse(desc->digest, &dg, d);
	if (err < 0) {
		diag_prefix(d, "layer \"%s\"", desc->digest ? desc->digest : "");
		return err;
	}
	err = desc_check(desc, o, d);
	if (err < 0) {
		diag_prefix(d, "layer \"%s\"", dg.str);
		return err;
	}
	if (strncmp(desc->uri, "file://", 7) == 0)
		return fetch_file(desc, &dg, o, want, want_ctx, ret, d);
	uint64_t initial = o->retry_initial_ms > 0 ? (uint64_t)o->retry_initial_ms : 500;
	if (backoff_init(&bo, initial, initial > 30000 ? initial : 30000, 2.0) < 0)
		return diag_fail(d, -EINVAL, "layer \"%s\": bad retry settings", dg.str);
	for (int attempt = 0;; attempt++) {
		struct http_src h;
		int transient = 0;
		diag_clear(d);
		err = http_src_open(&h, desc, o, d);
		if (err < 0) {
			diag_prefix(d, "layer \"%s\"", dg.str);
			http_src_release(&h);
			return err;
		}
		err = layer_scan_src(&h.base, dg.str, &dg, o, want, want_ctx, ret, d, &transient);
		http_src_release(&h);
		if (err >= 0 || !transient || attempt >= o->retries)
			break;
		uint64_t wait = backoff_next_ms(&bo);
		log_info("indexer/layer", "layer fetch failed, retrying", "{s:s,s:s,s:i,s:I}", "layer", dg.str, "error",
		         d ? d->msg : "", "attempt", attempt + 1, "wait_ms", (json_int_t)wait);
		struct timespec ts = {.tv_sec = (time_t)(wait / 1000), .tv_nsec = (long)(wait % 1000) * 1000000};
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	return err;
}
