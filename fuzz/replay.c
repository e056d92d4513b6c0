/* replay: runs LLVMFuzzerTestOneInput once on every regular file of the directories (or files)
 * given as arguments -- FUZZ_CORPUS_DIR when there are none -- and prints cmocka-compatible
 * summary lines, one "test" per input, so hack/run-tests.sh counts them. A crash, sanitizer
 * report or abort() ends the process non-zero (the runner reports that as a failure); an input
 * that cannot be read counts as a failed test. Files are visited in lexical order. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz/fuzz.h"

#ifndef FUZZ_CORPUS_DIR
#define FUZZ_CORPUS_DIR "fuzz/corpus"
#endif

#define REPLAY_MAX_INPUT (16u << 20)

struct replay_stats {
	size_t run;
	size_t failed;
};

static int replay_read(const char *path, uint8_t **ret, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p = NULL;
	size_t len = 0, cap = 0;
	int rc = 0;

	if (!f)
		return -errno;
	for (;;) {
		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			uint8_t *np;
			if (ncap > REPLAY_MAX_INPUT) {
				rc = -EFBIG;
				goto out;
			}
			np = realloc(p, ncap);
			if (!np) {
				rc = -ENOMEM;
				goto out;
			}
			p = np;
			cap = ncap;
		}
		size_t n = fread(p + len, 1, cap - len, f);
		len += n;
		if (n == 0) {
			if (ferror(f))
				rc = -EIO;
			break;
		}
	}
out:
	fclose(f);
	if (rc < 0) {
		free(p);
		return rc;
	}
	/* an exact-size copy so reads past the end are caught by ASan */
	*ret = malloc(len ? len : 1);
	if (!*ret) {
		free(p);
		return -ENOMEM;
	}
	if (len)
		memcpy(*ret, p, len);
	free(p);
	*ret_len = len;
	return 0;
}

static void replay_file(const char *path, struct replay_stats *st)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int rc;

	st->run++;
	printf("[ RUN      ] %s\n", path);
	fflush(stdout);
	rc = replay_read(path, &data, &len);
	if (rc < 0) {
		printf("[  ERROR   ] %s: could not read: %s\n", path, strerror(-rc));
		printf("[  FAILED  ] %s\n", path);
		st->failed++;
		return;
	}
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	printf("[       OK ] %s\n", path);
}

static int replay_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void replay_path(const char *path, struct replay_stats *st)
{
	struct stat sb;
	DIR *dir = NULL;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (stat(path, &sb) < 0) {
		printf("[  ERROR   ] %s: %s\n", path, strerror(errno));
		st->run++;
		st->failed++;
		return;
	}
	if (!S_ISDIR(sb.st_mode)) {
		replay_file(path, st);
		return;
	}
	dir = opendir(path);
	if (!dir) {
		printf("[  ERROR   ] %s: %s\n", path, strerror(errno));
		st->run++;
		st->failed++;
		return;
	}
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			char **nn = realloc(names, ncap * sizeof(*names));
			if (!nn)
				break;
			names = nn;
			cap = ncap;
		}
		size_t l = strlen(path) + strlen(de->d_name) + 2;
		names[n] = malloc(l);
		if (!names[n])
			break;
		snprintf(names[n], l, "%s/%s", path, de->d_name);
		n++;
	}
	closedir(dir);
	if (n)
		qsort(names, n, sizeof(*names), replay_cmp);
	for (size_t i = 0; i < n; i++) {
		if (stat(names[i], &sb) == 0 && S_ISREG(sb.st_mode))
			replay_file(names[i], st);
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	struct replay_stats st = {0, 0};

	if (argc < 2) {
		replay_path(FUZZ_CORPUS_DIR, &st);
	} else {
		for (int i = 1; i < argc; i++)
			replay_path(argv[i], &st);
	}
	if (st.run == 0) {
		/* an empty corpus is a broken setup, not a pass */
		printf("[  ERROR   ] no inputs found\n");
		st.run = 1;
		st.failed = 1;
	}
	printf("[==========] %zu test(s) run.\n", st.run);
	printf("[  PASSED  ] %zu test(s).\n", st.run - st.failed);
	if (st.failed)
		printf("[  FAILED  ] %zu test(s)\n", st.failed);
	return st.failed ? 1 : 0;
}
