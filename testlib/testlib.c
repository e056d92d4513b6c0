#include "testlib/testlib.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

const char *tl_env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

char *tl_fmt(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s)
		abort();
	return s;
}

char *tl_mkdtemp(void)
{
	const char *base = tl_env("TEST_TMPDIR");
	char *t = tl_fmt("%s/t.XXXXXX", base ? base : "/tmp");
	if (!mkdtemp(t))
		abort();
	return t;
}

char *tl_write_file(const char *dir, const char *name, const char *text)
{
	char *path = tl_fmt("%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
	return path;
}

int tl_free_port(void)
{
	struct sockaddr_in a = {0};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		abort();
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

char *tl_bin(const char *name)
{
	const char *d = tl_env("CLAIR_BIN_DIR");
	return tl_fmt("%s/%s", d ? d : "bin", name);
}

int tl_spawn(struct tl_proc *p, char *const argv[], char *const envp_extra[])
{
	char *dir = tl_mkdtemp();
	size_t n = 0, m = 0;
	char **envp;
	pid_t pid;

	p->log_path = tl_fmt("%s/proc.log", dir);
	free(dir);
	while (environ[n])
		n++;
	while (envp_extra && envp_extra[m])
		m++;
	envp = calloc(n + m + 1, sizeof(*envp));
	if (!envp)
		return -ENOMEM;
	/* extra entries override inherited ones of the same name */
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		int shadowed = 0;
		const char *eq = strchr(environ[i], '=');
		size_t kl = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
		for (size_t j = 0; j < m; j++)
			if (strncmp(envp_extra[j], environ[i], kl) == 0 && envp_extra[j][kl] == '=')
				shadowed = 1;
		if (!shadowed)
			envp[k++] = environ[i];
	}
	for (size_t j = 0; j < m; j++)
		envp[k++] = envp_extra[j];
	envp[k] = NULL;
	pid = fork();
	if (pid < 0) {
		free(envp);
		return -errno;
	}
	if (pid == 0) {
		int fd = open(p->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execve(argv[0], argv, envp);
		_exit(127);
	}
	free(envp);
	p->pid = pid;
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int tl_wait_exit(struct tl_proc *p, int timeout_ms)
{
	long end = now_ms() + timeout_ms;
	int st;
	if (p->pid <= 0)
		return -1;
	for (;;) {
		pid_t r = waitpid(p->pid, &st, WNOHANG);
		if (r == p->pid) {
			p->pid = 0;
			if (WIFEXITED(st))
				return WEXITSTATUS(st);
			return 128 + WTERMSIG(st);
		}
		if (now_ms() > end)
			return -1;
		usleep(10000);
	}
}

int tl_stop(struct tl_proc *p, int sig, int timeout_ms)
{
	int rc;
	if (p->pid <= 0)
		return -1;
	kill(p->pid, sig);
	rc = tl_wait_exit(p, timeout_ms);
	if (rc < 0 && p->pid > 0) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
		p->pid = 0;
	}
	return rc;
}

char *tl_proc_log(const struct tl_proc *p)
{
	FILE *f = fopen(p->log_path, "r");
	char *s;
	long n;
	if (!f)
		return strdup("");
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	s = calloc((size_t)n + 1, 1);
	if (s && fread(s, 1, (size_t)n, f) != (size_t)n)
		s[0] = '\0';
	fclose(f);
	return s;
}

void tl_proc_release(struct tl_proc *p)
{
	if (p->pid > 0)
		tl_stop(p, SIGKILL, 5000);
	free(p->log_path);
	p->log_path = NULL;
}

struct sink {
	char *data;
	size_t len;
};

static size_t sink_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct sink *s = ud;
	size_t n = size * nmemb;
	char *d = realloc(s->data, s->len + n + 1);
	if (!d)
		return 0;
	memcpy(d + s->len, ptr, n);
	s->data = d;
	s->len += n;
	d[s->len] = '\0';
	return n;
}

static size_t header_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct sink *s = ud;
	size_t n = size * nmemb;
	/* keep only the last response's headers */
	if (n > 5 && strncmp(ptr, "HTTP/", 5) == 0)
		s->len = 0;
	return sink_write(ptr, size, nmemb, ud);
}

int tl_http(const char *method, const char *url, const char *const headers[], const char *body,
	    size_t body_len, struct tl_resp *ret)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hl = NULL;
	struct sink b = {0}, h = {0};
	CURLcode rc;

	memset(ret, 0, sizeof(*ret));
	if (!c)
		return -1;
	for (size_t i = 0; headers && headers[i]; i++)
		hl = curl_slist_append(hl, headers[i]);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_write);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &ret->status);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	ret->body = b.data ? b.data : strdup("");
	ret->body_len = b.len;
	ret->headers = h.data ? h.data : strdup("");
	return rc == CURLE_OK ? 0 : -1;
}

char *tl_resp_header(const struct tl_resp *r, const char *name)
{
	size_t nl = strlen(name);
	const char *p = r->headers;
	while (p && *p) {
		const char *eol = strstr(p, "\r\n");
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;
			while (*v == ' ')
				v++;
			return strndup(v, (size_t)(p + len - v));
		}
		p = eol ? eol + 2 : NULL;
	}
	return NULL;
}

void tl_resp_release(struct tl_resp *r)
{
	free(r->body);
	free(r->headers);
	memset(r, 0, sizeof(*r));
}

int tl_wait_http(const char *url, long want_status, int timeout_ms)
{
	long end = now_ms() + timeout_ms;
	while (now_ms() < end) {
		struct tl_resp r;
		int ok = tl_http("GET", url, NULL, NULL, 0, &r) == 0 && r.status == want_status;
		tl_resp_release(&r);
		if (ok)
			return 0;
		usleep(50000);
	}
	return -1;
}
