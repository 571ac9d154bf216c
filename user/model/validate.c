// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The syntax of names, addresses and times (validate.h). */
#include <arpa/inet.h>
#include <stddef.h>
#include <string.h>

#include "validate.h"

/* [a-z0-9]([-a-z0-9]*[a-z0-9])?, @len characters, any length. */
static int label_chars(const char *s, size_t len)
{
	size_t i;

	if (!len || s[0] == '-' || s[len - 1] == '-')
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

/* RFC 1123 label: the characters above, at most 63 of them. */
static int dns_label_n(const char *s, size_t len)
{
	return len <= 63 && label_chars(s, len);
}

int valid_dns_label(const char *s)
{
	return dns_label_n(s, strlen(s));
}

/* Parts joined by dots, each valid by @part, at most 253 characters. */
static int dotted(const char *s, int (*part)(const char *, size_t))
{
	const char *dot;

	if (strlen(s) > 253)
		return 0;
	while ((dot = strchr(s, '.'))) {
		if (!part(s, (size_t)(dot - s)))
			return 0;
		s = dot + 1;
	}
	return part(s, strlen(s));
}

int valid_dns_subdomain(const char *s)
{
	return dotted(s, dns_label_n);
}

int valid_object_name(const char *s)
{
	return dotted(s, label_chars);
}

int valid_hostname(const char *h, int allow_wildcard)
{
	struct in_addr a;

	if (strlen(h) > 253)
		return 0;
	if (allow_wildcard && h[0] == '*' && h[1] == '.')
		h += 2;
	return valid_dns_subdomain(h) && inet_pton(AF_INET, h, &a) != 1;
}

int valid_ip(const char *s)
{
	unsigned char a[16];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

int valid_port_name(const char *s)
{
	size_t len = strlen(s);

	if (len > 15 || !valid_dns_label(s) || strstr(s, "--"))
		return 0;
	return strspn(s, "0123456789-") != len;
}

static int num(const char **s, int n)
{
	int v = 0;

	for (; n; n--, (*s)++) {
		if (**s < '0' || **s > '9')
			return -1;
		v = v * 10 + (**s - '0');
	}
	return v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int dd)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + dd - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int rfc3339_parse(const char *s, int64_t *out)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
				     30, 31 };
	int y, mo, dd, h, mi, sec, oh = 0, om = 0, sign = 0, leap;

	y = num(&s, 4);
	if (y < 0 || *s++ != '-' || (mo = num(&s, 2)) < 1 || mo > 12 ||
	    *s++ != '-' || (dd = num(&s, 2)) < 1)
		return -1;
	if (*s != 'T' && *s != 't')
		return -1;
	s++;
	if ((h = num(&s, 2)) < 0 || h > 23 || *s++ != ':' ||
	    (mi = num(&s, 2)) < 0 || mi > 59 || *s++ != ':' ||
	    (sec = num(&s, 2)) < 0 || sec > 59)
		return -1;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (dd > mdays[mo - 1] || (mo == 2 && dd == 29 && !leap))
		return -1;
	if (*s == '.') {
		if (*++s < '0' || *s > '9')
			return -1;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s++ == '+' ? 1 : -1;
		if ((oh = num(&s, 2)) < 0 || oh > 23 || *s++ != ':' ||
		    (om = num(&s, 2)) < 0 || om > 59)
			return -1;
	} else {
		return -1;
	}
	if (*s)
		return -1;
	*out = days_from_civil(y, mo, dd) * 86400 + h * 3600 + mi * 60 + sec -
	       sign * (oh * 3600 + om * 60);
	return 0;
}
