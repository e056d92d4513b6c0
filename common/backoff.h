/* backoff: exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And
 * Jitter"): attempt n waits a uniformly random time in [0, min(max, initial * factor^n)].
 *
 *   struct backoff b;
 *   backoff_init(&b, 100, 30000, 2.0);
 *   while (try() < 0) sleep_ms(backoff_next_ms(&b));
 *   backoff_reset(&b);   // after a success
 *
 * Not thread-safe; one struct per retry loop. */
#ifndef COMMON_BACKOFF_H
#define COMMON_BACKOFF_H

#include <stdint.h>

struct backoff {
	uint64_t initial_ms;
	uint64_t max_ms;
	double factor;
	uint64_t ceiling_ms; /* the bound for the next delay */
	unsigned attempt;    /* delays handed out since init/reset */
	uint64_t rng;        /* xorshift64* state, never 0 */
};

/* 0, or -EINVAL unless 0 < initial_ms <= max_ms and factor >= 1. The generator is seeded from
 * getrandom(2) (falling back to the clock). */
int backoff_init(struct backoff *b, uint64_t initial_ms, uint64_t max_ms, double factor);
/* Makes the sequence reproducible (tests). */
void backoff_seed(struct backoff *b, uint64_t seed);
/* The next delay in [0, ceiling]; then ceiling = min(max, initial * factor^attempts). */
uint64_t backoff_next_ms(struct backoff *b);
/* The bound backoff_next_ms() will draw from next. */
uint64_t backoff_ceiling_ms(const struct backoff *b);
/* Back to the initial ceiling (after a success). */
void backoff_reset(struct backoff *b);

#endif
