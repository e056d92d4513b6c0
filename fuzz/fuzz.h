/* fuzz: helpers shared by the fuzz targets (header-only, file-local functions). */
#ifndef FUZZ_FUZZ_H
#define FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A heap NUL-terminated copy of data[0..n) (embedded NULs truncate it as a C string would);
 * NULL on OOM. */
static inline char *fuzz_strndup(const uint8_t *data, size_t n)
{
	char *s = malloc(n + 1);

	if (!s)
		return NULL;
	if (n)
		memcpy(s, data, n);
	s[n] = '\0';
	return s;
}

/* Splits data at the first byte equal to '\0' or '\n': [0..*ret_a_len) and the rest after it.
 * When there is no separator the second part is empty. */
static inline void fuzz_split(const uint8_t *data, size_t size, size_t *ret_a_len, size_t *ret_b_off)
{
	size_t i;

	for (i = 0; i < size; i++)
		if (data[i] == '\0' || data[i] == '\n')
			break;
	*ret_a_len = i;
	*ret_b_off = i < size ? i + 1 : size;
}

#endif
