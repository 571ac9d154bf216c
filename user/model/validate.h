/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The syntax of the values the decoder checks, as the API server checks
 * them: DNS names, IP addresses, port names, times. Each returns 1 when
 * valid, 0 otherwise (rfc3339_parse: 0 or -1).
 */
#ifndef SNILB_USER_VALIDATE_H
#define SNILB_USER_VALIDATE_H

#include <stdint.h>

/* RFC 1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 characters. */
int valid_dns_label(const char *s);

/* RFC 1123 subdomain: labels joined by dots, at most 253 characters. */
int valid_dns_subdomain(const char *s);

/*
 * A Kubernetes object name that is a "DNS-1123 subdomain" (most kinds'
 * metadata.name; also Gateway API's SectionName): what the API server
 * checks, the characters of RFC 1123 labels joined by dots, at most 253
 * characters, but with no 63-character limit per part.
 */
int valid_object_name(const char *s);

/*
 * A Gateway API Hostname: lower-case RFC 1123 DNS name, at most 253
 * characters, no trailing dot, not an IPv4 literal; with @allow_wildcard a
 * leading "*." label is allowed.
 */
int valid_hostname(const char *h, int allow_wildcard);

/* An IPv4 or IPv6 address. */
int valid_ip(const char *s);

/* An IANA service name (a container port's name): 1-15 of [a-z0-9-], a
 * letter among them, no leading, trailing or double '-'. */
int valid_port_name(const char *s);

/* RFC 3339, YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM), into Unix
 * seconds: 0, or -1 when @s is not one. */
int rfc3339_parse(const char *s, int64_t *out);

#endif /* SNILB_USER_VALIDATE_H */
