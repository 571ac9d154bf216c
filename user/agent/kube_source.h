/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The Kubernetes API server as the agent's source (source.h): the objects
 * its client watches (user/source/kube.h) and, for the one agent that
 * holds the Lease (lease.h), the Gateway API status written back
 * (kstatus.h). It lives with the agent because that status is made of
 * the Gateway API result, a layer above the sources.
 */
#ifndef SNILB_USER_KUBE_SOURCE_H
#define SNILB_USER_KUBE_SOURCE_H

#include "source.h"

struct kube_source_opts {
	const char *kubeconfig;	/* NULL: in-cluster */
	const char *node_name;	/* NULL: $NODE_NAME, else the host name */
	const char *lease_ns;	/* NULL: the pod's namespace in-cluster,
				 * else snilb-system */
	const char *lease_name;	/* NULL: SNILB_LEASE_NAME */
	const char *controller;	/* the GatewayClass controllerName served */
	int no_status;		/* never write status (no Lease either) */
};

/* NULL when out of memory. The strings of @o must outlive the source. */
struct source *kube_source(const struct kube_source_opts *o);

#endif /* SNILB_USER_KUBE_SOURCE_H */
