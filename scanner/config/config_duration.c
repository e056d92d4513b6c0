/* Go time.ParseDuration / Duration.String, and the mode enum. */
#include "scanner/config/config.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

static const char *const mode_names[] = {"combo", "indexer", "matcher", "notifier"};

int config_parse_mode(const char *s, enum clair_mode *ret)
{
	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++) {
		if (strcasecmp(s, mode_names[i]) == 0) {
			*ret = (enum clair_mode)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *config_mode_name(enum clair_mode m)
{
	if ((unsigned)m < sizeof(mode_names) / sizeof(mode_names[0]))
		return mode_names[m];
	return "unknown";
}

static uint64_t unit_ns(const char *u, size_t n)
{
	static const struct {
		const char *name;
		uint64_t ns;
	} units[] = {
		{"ns", 1},
		{"us", 1000},
		{"\xc2\xb5s", 1000}, /* U+00B5 micro sign */
		{"\xce\xbcs", 1000}, /* U+03BC greek mu */
		{"ms", 1000000},
		{"s", 1000000000ull},
		{"m", 60ull * 1000000000ull},
		{"h", 3600ull * 1000000000ull},
	};
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strlen(units[i].name) == n && memcmp(units[i].name, u, n) == 0)
			return units[i].ns;
	return 0;
}

int config_parse_duration(const char *s, int64_t *ret_ns)
{
	const uint64_t lim = (uint64_t)1 << 63;
	uint64_t d = 0;
	int neg = 0;

	if (!s)
		return -EINVAL;
	if (*s == '-' || *s == '+') {
		neg = *s == '-';
		s++;
	}
	if (!strcmp(s, "0")) {
		*ret_ns = 0;
		return 0;
	}
	if (!*s)
		return -EINVAL;
	while (*s) {
		uint64_t v = 0, f = 0, unit;
		double scale = 1;
		int pre = 0, post = 0, fover = 0;
		size_t ul;

		if (!(*s == '.' || (*s >= '0' && *s <= '9')))
			return -EINVAL;
		while (*s >= '0' && *s <= '9') {
			if (v > (lim - 1) / 10)
				return -ERANGE;
			v = v * 10 + (uint64_t)(*s - '0');
			if (v > lim)
				return -ERANGE;
			s++;
			pre = 1;
		}
		if (*s == '.') {
			s++;
			while (*s >= '0' && *s <= '9') {
				post = 1;
				if (!fover) {
					if (f > (lim - 1) / 10) {
						fover = 1;
					} else {
						uint64_t y = f * 10 + (uint64_t)(*s - '0');
						if (y > lim)
							fover = 1;
						else {
							f = y;
							scale *= 10;
						}
					}
				}
				s++;
			}
		}
		if (!pre && !post)
			return -EINVAL;
		ul = 0;
		while (s[ul] && s[ul] != '.' && !(s[ul] >= '0' && s[ul] <= '9'))
			ul++;
		if (ul == 0)
			return -EINVAL; /* missing unit */
		unit = unit_ns(s, ul);
		if (!unit)
			return -EINVAL; /* unknown unit */
		s += ul;
		if (v > lim / unit)
			return -ERANGE;
		v *= unit;
		if (f > 0) {
			v += (uint64_t)((double)f * ((double)unit / scale));
			if (v > lim)
				return -ERANGE;
		}
		d += v;
		if (d > lim)
			return -ERANGE;
	}
	if (neg) {
		*ret_ns = d == lim ? INT64_MIN : -(int64_t)d;
		return 0;
	}
	if (d > lim - 1)
		return -ERANGE;
	*ret_ns = (int64_t)d;
	return 0;
}

static size_t fmt_frac(char *buf, size_t w, uint64_t *v, int prec)
{
	int print = 0;
	for (int i = 0; i < prec; i++) {
		unsigned digit = (unsigned)(*v % 10);
		print = print || digit != 0;
		if (print)
			buf[--w] = (char)('0' + digit);
		*v /= 10;
	}
	if (print)
		buf[--w] = '.';
	return w;
}

static size_t fmt_int(char *buf, size_t w, uint64_t v)
{
	if (v == 0) {
		buf[--w] = '0';
		return w;
	}
	while (v > 0) {
		buf[--w] = (char)('0' + v % 10);
		v /= 10;
	}
	return w;
}

char *config_format_duration(int64_t ns, char *out, size_t outlen)
{
	char buf[40];
	size_t w = sizeof(buf);
	uint64_t u = (uint64_t)ns;
	int neg = ns < 0;

	if (neg)
		u = -u;
	if (u < 1000000000ull) {
		int prec;
		buf[--w] = 's';
		if (u == 0) {
			buf[--w] = '0';
			goto done;
		} else if (u < 1000) {
			prec = 0;
			buf[--w] = 'n';
		} else if (u < 1000000) {
			prec = 3;
			buf[--w] = '\xb5';
			buf[--w] = '\xc2';
		} else {
			prec = 6;
			buf[--w] = 'm';
		}
		w = fmt_frac(buf, w, &u, prec);
		w = fmt_int(buf, w, u);
	} else {
		buf[--w] = 's';
		w = fmt_frac(buf, w, &u, 9);
		w = fmt_int(buf, w, u % 60);
		u /= 60;
		if (u > 0) {
			buf[--w] = 'm';
			w = fmt_int(buf, w, u % 60);
			u /= 60;
			if (u > 0) {
				buf[--w] = 'h';
				w = fmt_int(buf, w, u);
			}
		}
	}
done:
	if (neg)
		buf[--w] = '-';
	if (outlen) {
		size_t n = sizeof(buf) - w;
		if (n >= outlen)
			n = outlen - 1;
		memcpy(out, buf + w, n);
		out[n] = '\0';
	}
	return out;
}
