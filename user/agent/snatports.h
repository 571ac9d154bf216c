/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * SNAT source ports the node's own connections never take. The data plane
 * claims a backend's packets to the SNAT address by destination port; a
 * connection of the node's from such a port would be taken for a client's
 * flow, or reset by it. The node's stack picks a connection's port from
 * net.ipv4.ip_local_port_range, skipping net.ipv4.ip_local_reserved_ports
 * (both per network namespace, both for IPv4 and IPv6), so a range is safe
 * when each of its ports is outside the first or in the second.
 */
#ifndef SNILB_USER_SNATPORTS_H
#define SNILB_USER_SNATPORTS_H

#include <stddef.h>
#include <stdint.h>

#define SNAT_SYSCTL_DIR	"/proc/sys/net/ipv4"

struct port_range {
	uint16_t lo, hi;	/* inclusive */
};

/* A set of ports, as ip_local_reserved_ports holds one. */
struct port_set {
	uint64_t w[65536 / 64];
};

/* "LO-HI", 1024 <= LO <= HI <= 65535. 0, or -EINVAL with why in @err. */
int snat_ports_parse(const char *s, struct port_range *r, char *err,
		     size_t errlen);

/* The kernel's list ("8080,10000-29999", "" or "\n": none). -EINVAL. */
int port_set_parse(struct port_set *s, const char *text);
/* The same form, NUL-terminated; the length it needs (as snprintf). */
size_t port_set_format(const struct port_set *s, char *buf, size_t len);
void port_set_add(struct port_set *s, struct port_range r);
int port_set_has(const struct port_set *s, uint16_t port);

/*
 * Ports of @r the node may give its own connections: in @eph and not in
 * @res. Returns how many; *@span gets the first and the last of them.
 */
uint32_t snat_ports_exposed(struct port_range r, struct port_range eph,
			    const struct port_set *res,
			    struct port_range *span);

/* What snat_ports_check() found, and what was written. */
struct snat_check {
	struct port_range eph;		/* ip_local_port_range */
	struct port_range exposed;	/* first..last exposed port */
	uint32_t nexposed;		/* before our write */
	int already;			/* every port was reserved */
	int write_err;			/* our write failed: -errno */
	int written;			/* @reserved is in the sysctl */
	char before[4096];		/* the list as found, our form */
	char reserved[4096];		/* the list with @r added */
};

/*
 * Check @r against the node's sysctls in @dir (SNAT_SYSCTL_DIR), writing
 * nothing. Refused (-EADDRINUSE) when some of its ports are ephemeral
 * and not reserved: the node may hold connections on them already, which
 * a reservation made now would not move. Other errors: the sysctls could
 * not be read.
 */
int snat_ports_check(const char *dir, struct port_range r,
		     struct snat_check *c);
/*
 * Add the range to ip_local_reserved_ports, keeping what is there, unless
 * it is there already. A failed write is not fatal (@c->write_err): the
 * node never picks those ports while the ephemeral range stays where it
 * was checked to be.
 */
void snat_ports_write(const char *dir, struct snat_check *c);
/* Both; what the agent did before it checked everything first. */
int snat_ports_prepare(const char *dir, struct port_range r,
		       struct snat_check *c);
/*
 * Undo snat_ports_write(): the list as found, when it is still what we
 * wrote (-ESTALE: changed since, left alone). 0 when nothing was written.
 */
int snat_ports_restore(const char *dir, struct snat_check *c);

/*
 * The agent's start-up steps, each with its log line: the check (before
 * anything is changed; 0: the range may be used), the reservation, and
 * its undo when the start fails later.
 */
int snat_ports_verify(const char *dir, struct port_range r,
		      struct snat_check *c);
void snat_ports_reserve(const char *dir, struct port_range r,
			struct snat_check *c);
void snat_ports_release(const char *dir, struct snat_check *c);

#endif /* SNILB_USER_SNATPORTS_H */
