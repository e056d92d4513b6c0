#include "common/backoff.h"

#include <errno.h>
#include <math.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

void backoff_seed(struct backoff *b, uint64_t seed)
{
	/* splitmix64 scrambles the seed so that small seeds give unrelated streams */
	uint64_t z = seed + 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	b->rng = z ? z : 0x2545f4914f6cdd1dull;
}

int backoff_init(struct backoff *b, uint64_t initial_ms, uint64_t max_ms, double factor)
{
	uint64_t seed = 0;

	if (initial_ms == 0 || max_ms < initial_ms || !(factor >= 1.0) || isinf(factor))
		return -EINVAL;
	b->initial_ms = initial_ms;
	b->max_ms = max_ms;
	b->factor = factor;
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed)) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed = (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 32 ^ (uint64_t)getpid() << 16 ^
		       (uint64_t)(uintptr_t)b;
	}
	backoff_seed(b, seed);
	backoff_reset(b);
	return 0;
}

void backoff_reset(struct backoff *b)
{
	b->ceiling_ms = b->initial_ms;
	b->attempt = 0;
}

uint64_t backoff_ceiling_ms(const struct backoff *b)
{
	return b->ceiling_ms;
}

static uint64_t backoff_rand(struct backoff *b)
{
	uint64_t x = b->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	b->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

uint64_t backoff_next_ms(struct backoff *b)
{
	uint64_t ceil = b->ceiling_ms, delay;
	double next;

	/* uniform in [0, ceil]; the modulo bias is below 2^-40 for any sane ceiling */
	delay = ceil == UINT64_MAX ? backoff_rand(b) : backoff_rand(b) % (ceil + 1);
	if (b->attempt < UINT32_MAX)
		b->attempt++;
	/* initial * factor^attempt, computed afresh so small factors do not stall on rounding */
	next = (double)b->initial_ms * pow(b->factor, (double)b->attempt);
	b->ceiling_ms = !(next < (double)b->max_ms) ? b->max_ms : (uint64_t)next;
	if (b->ceiling_ms < ceil)
		b->ceiling_ms = ceil;
	return delay;
}
