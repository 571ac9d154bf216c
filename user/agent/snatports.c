// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* SNAT source ports against the node's own: see snatports.h. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "snatports.h"

#define SYSCTL_MAX	65536	/* the longest list we read */

/* A decimal number from *@s up to 65535, no sign or blank; advances @s. */
static int port_num(const char **s, uint32_t *v)
{
	const char *p = *s;

	*v = 0;
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	while (isdigit((unsigned char)*p)) {
		*v = *v * 10 + (uint32_t)(*p++ - '0');
		if (*v > 65535)
			return -ERANGE;
	}
	*s = p;
	return 0;
}

int snat_ports_parse(const char *s, struct port_range *r, char *err,
		     size_t errlen)
{
	const char *p = s;
	uint32_t lo, hi;
	int e;

	e = port_num(&p, &lo);
	if (!e && *p++ != '-')
		e = -EINVAL;
	if (!e)
		e = port_num(&p, &hi);
	if (e == -ERANGE || (!e && (lo < 1024 || hi < 1024))) {
		snprintf(err, errlen, "want ports within 1024-65535 (below "
			 "1024 they are privileged)");
		return -EINVAL;
	}
	if (e || *p) {
		snprintf(err, errlen, "want LO-HI, two port numbers");
		return -EINVAL;
	}
	if (lo > hi) {
		snprintf(err, errlen, "LO %u is above HI %u", lo, hi);
		return -EINVAL;
	}
	r->lo = (uint16_t)lo;
	r->hi = (uint16_t)hi;
	return 0;
}

int port_set_has(const struct port_set *s, uint16_t port)
{
	return (s->w[port / 64] >> (port % 64)) & 1;
}

void port_set_add(struct port_set *s, struct port_range r)
{
	uint32_t p;

	for (p = r.lo; p <= r.hi; p++)
		s->w[p / 64] |= 1ull << (p % 64);
}

int port_set_parse(struct port_set *s, const char *text)
{
	const char *p = text;

	memset(s, 0, sizeof(*s));
	while (*p && *p != '\n') {
		uint32_t lo, hi;

		if (port_num(&p, &lo))
			return -EINVAL;
		hi = lo;
		if (*p == '-' && (p++, port_num(&p, &hi) || hi < lo))
			return -EINVAL;
		port_set_add(s, (struct port_range){ (uint16_t)lo,
						     (uint16_t)hi });
		if (*p == ',')
			p++;
		else if (*p && *p != '\n')
			return -EINVAL;
	}
	return 0;
}

size_t port_set_format(const struct port_set *s, char *buf, size_t len)
{
	size_t n = 0;
	uint32_t p = 0, q;

	if (len)
		buf[0] = 0;
	while (p <= 65535) {
		if (!port_set_has(s, (uint16_t)p)) {
			p++;
			continue;
		}
		for (q = p; q < 65535 && port_set_has(s, (uint16_t)(q + 1));)
			q++;
		n += (size_t)snprintf(n < len ? buf + n : NULL,
				      n < len ? len - n : 0,
				      q > p ? "%s%u-%u" : "%s%u",
				      n ? "," : "", p, q);
		p = q + 1;
	}
	return n;
}

uint32_t snat_ports_exposed(struct port_range r, struct port_range eph,
			    const struct port_set *res,
			    struct port_range *span)
{
	uint32_t lo = r.lo > eph.lo ? r.lo : eph.lo;
	uint32_t hi = r.hi < eph.hi ? r.hi : eph.hi;
	uint32_t p, n = 0;

	for (p = lo; p <= hi; p++) {
		if (port_set_has(res, (uint16_t)p))
			continue;
		if (!n++)
			span->lo = (uint16_t)p;
		span->hi = (uint16_t)p;
	}
	return n;
}

/* The whole of sysctl @dir/@name into @buf (NUL-terminated). */
static int sysctl_read(const char *dir, const char *name, char *buf,
		       size_t len)
{
	char path[4096];
	ssize_t got = 0;
	size_t n = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (n < len - 1 && (got = read(fd, buf + n, len - 1 - n)) > 0)
		n += (size_t)got;
	got = got < 0 ? -errno : 0;
	close(fd);
	buf[n] = 0;
	return (int)got;
}

/* Write @text, then a newline, as one write: the kernel replaces the
 * list with what one write says (a second write at an offset would add
 * to it). */
static int sysctl_write(const char *dir, const char *name, const char *text)
{
	char path[4096], line[4096];
	ssize_t n, want;
	int fd, e = 0;

	want = snprintf(line, sizeof(line), "%s\n", text);
	if (want >= (ssize_t)sizeof(line))
		return -E2BIG;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, line, (size_t)want);
	if (n < 0)
		e = -errno;
	else if (n != want)
		e = -EIO;
	close(fd);
	return e;
}

static int read_state(const char *dir, struct port_range *eph,
		      struct port_set *res)
{
	char *buf = malloc(SYSCTL_MAX);
	unsigned int lo, hi;
	int e;

	if (!buf)
		return -ENOMEM;
	e = sysctl_read(dir, "ip_local_port_range", buf, SYSCTL_MAX);
	if (!e && (sscanf(buf, "%u %u", &lo, &hi) != 2 || lo > hi ||
		   hi > 65535))
		e = -EINVAL;
	if (!e) {
		eph->lo = (uint16_t)lo;
		eph->hi = (uint16_t)hi;
		e = sysctl_read(dir, "ip_local_reserved_ports", buf,
				SYSCTL_MAX);
	}
	if (!e)
		e = port_set_parse(res, buf);
	free(buf);
	return e;
}

int snat_ports_check(const char *dir, struct port_range r,
		     struct snat_check *c)
{
	struct port_set *res = malloc(sizeof(*res));
	struct port_range any = { 0, 65535 }, unres;
	int e;

	memset(c, 0, sizeof(*c));
	if (!res)
		return -ENOMEM;
	e = read_state(dir, &c->eph, res);
	if (e)
		goto out;
	port_set_format(res, c->before, sizeof(c->before));
	c->already = !snat_ports_exposed(r, any, res, &unres);
	c->nexposed = snat_ports_exposed(r, c->eph, res, &c->exposed);
	port_set_add(res, r);
	if (port_set_format(res, c->reserved, sizeof(c->reserved)) >=
	    sizeof(c->reserved)) {
		c->reserved[0] = 0;
		c->write_err = -E2BIG;
	}
	if (c->nexposed)
		e = -EADDRINUSE;
out:
	free(res);
	return e;
}

void snat_ports_write(const char *dir, struct snat_check *c)
{
	if (c->already || c->write_err)
		return;
	c->write_err = sysctl_write(dir, "ip_local_reserved_ports",
				    c->reserved);
	c->written = !c->write_err;
}

int snat_ports_prepare(const char *dir, struct port_range r,
		       struct snat_check *c)
{
	int e = snat_ports_check(dir, r, c);

	if (!e)
		snat_ports_write(dir, c);
	return e;
}

/* The list as it is now, in our form; 0 or -errno. */
static int read_reserved(const char *dir, char *buf, size_t len)
{
	struct port_set *now = malloc(sizeof(*now));
	char *text = malloc(SYSCTL_MAX);
	int e = now && text ? 0 : -ENOMEM;

	if (!e)
		e = sysctl_read(dir, "ip_local_reserved_ports", text,
				SYSCTL_MAX);
	if (!e)
		e = port_set_parse(now, text);
	if (!e && port_set_format(now, buf, len) >= len)
		e = -E2BIG;
	free(now);
	free(text);
	return e;
}

int snat_ports_restore(const char *dir, struct snat_check *c)
{
	char *now;
	int e;

	if (!c->written)
		return 0;
	now = malloc(sizeof(c->reserved));
	if (!now)
		return -ENOMEM;
	e = read_reserved(dir, now, sizeof(c->reserved));
	if (!e && strcmp(now, c->reserved))
		e = -ESTALE;	/* changed since: someone else's now */
	if (!e)
		e = sysctl_write(dir, "ip_local_reserved_ports", c->before);
	if (!e)
		c->written = 0;
	free(now);
	return e;
}

static void fmt_range(char *buf, size_t len, struct port_range r)
{
	snprintf(buf, len, "%u-%u", r.lo, r.hi);
}

int snat_ports_verify(const char *dir, struct port_range r,
		      struct snat_check *c)
{
	char range[16], eph[16], exposed[16], fix[4600];
	int e = snat_ports_check(dir, r, c);

	fmt_range(range, sizeof(range), r);
	fmt_range(eph, sizeof(eph), c->eph);
	fmt_range(exposed, sizeof(exposed), c->exposed);
	if (e == -EADDRINUSE) {
		snprintf(fix, sizeof(fix), "reserve them before the node "
			 "uses them (sysctl -w net.ipv4.ip_local_reserved_"
			 "ports=%s, at boot: /etc/sysctl.d), or pick "
			 "--snat-ports outside %s", c->reserved, eph);
		log_event("error", "SNAT ports overlap the node's ephemeral "
			  "ports", "snat_ports", range, "ip_local_port_range",
			  eph, "not_reserved", exposed, "why", "a connection "
			  "of the node's own to a backend could hold one: "
			  "snilb would take it over or reset it", "fix", fix,
			  NULL);
	} else if (e) {
		log_event("error", "cannot read the node's port sysctls",
			  "dir", dir, "error", strerror(-e), NULL);
	}
	return e;
}

void snat_ports_reserve(const char *dir, struct port_range r,
			struct snat_check *c)
{
	char range[16], eph[16], fix[4600];

	snat_ports_write(dir, c);
	fmt_range(range, sizeof(range), r);
	fmt_range(eph, sizeof(eph), c->eph);
	if (c->already) {
		log_event("info", "SNAT ports reserved already", "snat_ports",
			  range, NULL);
	} else if (!c->write_err) {
		log_event("info", "SNAT ports reserved", "snat_ports", range,
			  "ip_local_reserved_ports", c->reserved, NULL);
	} else {
		snprintf(fix, sizeof(fix), "sysctl -w net.ipv4.ip_local_"
			 "reserved_ports=%s on the node", c->reserved);
		log_event("warn", "cannot reserve the SNAT ports",
			  "snat_ports", range, "error",
			  strerror(-c->write_err), "effect", "none while "
			  "net.ipv4.ip_local_port_range stays clear of them",
			  "ip_local_port_range", eph, "fix", fix, NULL);
	}
}

void snat_ports_release(const char *dir, struct snat_check *c)
{
	int e;

	if (!c->written)
		return;
	e = snat_ports_restore(dir, c);
	if (!e)
		log_event("info", "SNAT ports released",
			  "ip_local_reserved_ports", c->before, NULL);
	else
		log_event("warn", "cannot release the SNAT ports", "error",
			  e == -ESTALE ? "changed by someone else since" :
			  strerror(-e), "kept", c->reserved, NULL);
}
