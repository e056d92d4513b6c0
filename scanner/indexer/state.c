#include "scanner/indexer/state.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

static int cmp_scanner(const void *a, const void *b)
{
	const struct indexer_scanner_id *x = a, *y = b;
	int r = strcmp(x->name, y->name);
	if (r)
		return r;
	r = strcmp(x->kind, y->kind);
	return r ? r : strcmp(x->version, y->version);
}

int indexer_state_compute(const struct indexer_scanner_id *scanners, size_t n, char out[33])
{
	static const char hex[] = "0123456789abcdef";
	static const char head[] = "libindex number: 2\n";
	struct indexer_scanner_id *sorted = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;
	int r = -ENOMEM;

	if (n) {
		sorted = malloc(n * sizeof(*sorted));
		if (!sorted)
			return -ENOMEM;
		memcpy(sorted, scanners, n * sizeof(*sorted));
		qsort(sorted, n, sizeof(*sorted), cmp_scanner);
	}
	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1)
		goto out;
	EVP_DigestUpdate(ctx, head, sizeof(head) - 1);
	for (size_t i = 0; i < n; i++) {
		EVP_DigestUpdate(ctx, sorted[i].name, strlen(sorted[i].name));
		EVP_DigestUpdate(ctx, sorted[i].version, strlen(sorted[i].version));
		EVP_DigestUpdate(ctx, sorted[i].kind, strlen(sorted[i].kind));
		EVP_DigestUpdate(ctx, "\n", 1);
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 16)
		goto out;
	for (unsigned i = 0; i < 16; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[32] = '\0';
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	free(sorted);
	return r;
}
