/* Helpers for the layer tests only: build tar layers in memory with libarchive's writer, hash
 * them, hand them out as file descriptors. All static inline so each test binary takes what it
 * uses. */
#ifndef SCANNER_INDEXER_LAYER_TESTUTIL_H
#define SCANNER_INDEXER_LAYER_TESTUTIL_H

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct tbuf {
	unsigned char *p;
	size_t len, cap;
};

static inline void tbuf_add(struct tbuf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t nc = b->cap ? b->cap : 4096;
		while (nc < b->len + n)
			nc *= 2;
		b->p = realloc(b->p, nc);
		if (!b->p)
			abort();
		b->cap = nc;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static inline la_ssize_t tbuf_archive_write(struct archive *a, void *ud, const void *p, size_t n)
{
	(void)a;
	tbuf_add(ud, p, n);
	return (la_ssize_t)n;
}

struct tarb {
	struct archive *a;
	struct tbuf out;
};

/* filter: "gzip", "zstd", "bzip2", "none" */
static inline void tarb_begin(struct tarb *t, const char *filter)
{
	memset(t, 0, sizeof(*t));
	t->a = archive_write_new();
	archive_write_set_format_pax_restricted(t->a);
	if (strcmp(filter, "gzip") == 0)
		archive_write_add_filter_gzip(t->a);
	else if (strcmp(filter, "zstd") == 0)
		archive_write_add_filter_zstd(t->a);
	else if (strcmp(filter, "bzip2") == 0)
		archive_write_add_filter_bzip2(t->a);
	archive_write_set_bytes_in_last_block(t->a, 1);
	if (archive_write_open2(t->a, &t->out, NULL, tbuf_archive_write, NULL, NULL) != ARCHIVE_OK)
		abort();
}

static inline void tarb_entry(struct tarb *t, const char *path, int type, const char *link, int hard, const void *data,
                              size_t len, int64_t size)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, (unsigned)type);
	archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
	archive_entry_set_size(e, type == AE_IFREG && !hard ? size : 0);
	if (link && hard)
		archive_entry_set_hardlink(e, link);
	else if (link)
		archive_entry_set_symlink(e, link);
	if (archive_write_header(t->a, e) != ARCHIVE_OK) {
		fprintf(stderr, "tarb: %s\n", archive_error_string(t->a));
		abort();
	}
	if (data && len)
		archive_write_data(t->a, data, len);
	archive_entry_free(e);
}

static inline void tarb_file(struct tarb *t, const char *path, const char *text)
{
	tarb_entry(t, path, AE_IFREG, NULL, 0, text, strlen(text), (int64_t)strlen(text));
}

/* A file of size zero bytes written in chunks (bombs, big files). */
static inline void tarb_zeros(struct tarb *t, const char *path, size_t size)
{
	static const unsigned char z[65536];
	tarb_entry(t, path, AE_IFREG, NULL, 0, NULL, 0, (int64_t)size);
	for (size_t done = 0; done < size;) {
		size_t k = size - done < sizeof(z) ? size - done : sizeof(z);
		archive_write_data(t->a, z, k);
		done += k;
	}
}

static inline void tarb_symlink(struct tarb *t, const char *path, const char *target)
{
	tarb_entry(t, path, AE_IFLNK, target, 0, NULL, 0, 0);
}

static inline void tarb_hardlink(struct tarb *t, const char *path, const char *target)
{
	tarb_entry(t, path, AE_IFREG, target, 1, NULL, 0, 0);
}

static inline void tarb_dir(struct tarb *t, const char *path)
{
	tarb_entry(t, path, AE_IFDIR, NULL, 0, NULL, 0, 0);
}

static inline struct tbuf tarb_end(struct tarb *t)
{
	archive_write_close(t->a);
	archive_write_free(t->a);
	return t->out;
}

/* "sha256:<hex>" / "sha512:<hex>" of p (static buffer per call site is not needed: out given). */
static inline void tdigest(const char *algo, const void *p, size_t n, char *out, size_t outn)
{
	unsigned char sum[EVP_MAX_MD_SIZE];
	unsigned int sl = 0;
	EVP_Digest(p, n, sum, &sl, strcmp(algo, "sha512") == 0 ? EVP_sha512() : EVP_sha256(), NULL);
	size_t o = (size_t)snprintf(out, outn, "%s:", algo);
	for (unsigned i = 0; i < sl && o + 3 <= outn; i++)
		o += (size_t)snprintf(out + o, outn - o, "%02x", sum[i]);
}

/* A readable fd holding p (memfd). */
static inline int tfd(const void *p, size_t n)
{
	int fd = memfd_create("layer", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	const unsigned char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w <= 0)
			abort();
		c += w;
		n -= (size_t)w;
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/* want: ctx is a NULL-terminated list of paths; a trailing "/" in the list means a directory. */
static inline int twant(const char *path, int is_dir, void *ctx)
{
	const char *const *l = ctx;
	for (; l && *l; l++) {
		size_t n = strlen(*l);
		if (n && (*l)[n - 1] == '/') {
			if (is_dir && strlen(path) == n - 1 && strncmp(path, *l, n - 1) == 0)
				return 1;
		} else if (!is_dir && strcmp(path, *l) == 0) {
			return 1;
		}
	}
	return 0;
}

#endif
