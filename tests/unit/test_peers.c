// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * --peers pods (user/agent/peers.c, docs/multinode.md): the DaemonSet's
 * pods, decoded as the API server sends them, to the node table's input:
 * ready pods of the namespace with the label, named by their node, at
 * their IPv4 address; terminating ones draining; the rest left out.
 */
#include "manifest_check.h"
#include "peers.h"

#define POD(name, ns, app, node, ip, extra)				\
	"apiVersion: v1\nkind: Pod\nmetadata:\n  name: " name		\
	"\n  namespace: " ns "\n  labels: {app.kubernetes.io/name: " app	\
	"}\n" extra "spec:\n  nodeName: " node				\
	"\n  containers: [{name: agent}]\nstatus:\n  podIP: " ip		\
	"\n  conditions: [{type: Ready, status: \"True\"}]\n---\n"

static void test_pods(void **state)
{
	struct dp_node n[8];
	size_t cnt;

	(void)state;
	assert_int_equal(decode(
		POD("snilb-a", "snilb-system", "snilb", "gw-a", "10.0.0.11", "")
		POD("snilb-b", "snilb-system", "snilb", "gw-b",
		    "\"2001:db8::12\"\n  podIPs: [{ip: \"2001:db8::12\"}, "
		    "{ip: 10.0.0.12}]", "")
		POD("snilb-c", "snilb-system", "snilb", "gw-c", "10.0.0.13",
		    "  deletionTimestamp: \"2026-01-01T00:00:00Z\"\n")
		POD("other", "snilb-system", "nginx", "gw-a", "10.0.0.99", "")
		POD("snilb-x", "default", "snilb", "gw-x", "10.0.0.98", "")
		POD("snilb-v6", "snilb-system", "snilb", "gw-6",
		    "\"2001:db8::16\"", "")), 0);
	assert_no_diags();
	cnt = peers_of_pods(&M, "snilb-system", n, 8);
	assert_int_equal(cnt, 3);
	assert_string_equal(n[0].name, "gw-a");
	assert_string_equal(n[0].addr, "10.0.0.11");
	assert_false(n[0].draining);
	assert_string_equal(n[1].name, "gw-b");
	assert_string_equal(n[1].addr, "10.0.0.12");
	assert_string_equal(n[2].name, "gw-c");
	assert_true(n[2].draining);
	assert_int_equal(peers_of_pods(&M, "snilb-system", n, 2), 2);
	assert_int_equal(peers_of_pods(&M, "kube-system", n, 8), 0);
}

/* Not ready yet (starting): not a node; it owns nothing until ready. */
static void test_pod_not_ready(void **state)
{
	struct dp_node n[2];

	(void)state;
	assert_int_equal(decode(
		"apiVersion: v1\nkind: Pod\nmetadata:\n  name: snilb-a\n"
		"  namespace: snilb-system\n"
		"  labels: {app.kubernetes.io/name: snilb}\n"
		"spec:\n  nodeName: gw-a\n  containers: [{name: agent}]\n"
		"status:\n  podIP: 10.0.0.11\n"
		"  conditions: [{type: Ready, status: \"False\"}]\n"), 0);
	assert_no_diags();
	assert_int_equal(peers_of_pods(&M, "snilb-system", n, 2), 0);
}

/*
 * A DaemonSet updated with maxSurge: the new pod runs (ready) on the node
 * while the old one terminates: one node, a member; the node drains only
 * when every pod of it terminates. The pods' names sort either way.
 */
static void test_pods_same_node(void **state)
{
	struct dp_node n[4];

	(void)state;
	assert_int_equal(decode(
		POD("snilb-a1", "snilb-system", "snilb", "gw-a", "10.0.0.11",
		    "  deletionTimestamp: \"2026-01-01T00:00:00Z\"\n")
		POD("snilb-a0", "snilb-system", "snilb", "gw-a", "10.0.0.11", "")
		POD("snilb-b0", "snilb-system", "snilb", "gw-b", "10.0.0.12", "")
		POD("snilb-b1", "snilb-system", "snilb", "gw-b", "10.0.0.12",
		    "  deletionTimestamp: \"2026-01-01T00:00:00Z\"\n")
		POD("snilb-c0", "snilb-system", "snilb", "gw-c", "10.0.0.13",
		    "  deletionTimestamp: \"2026-01-01T00:00:00Z\"\n")
		POD("snilb-c1", "snilb-system", "snilb", "gw-c", "10.0.0.13",
		    "  deletionTimestamp: \"2026-01-01T00:00:00Z\"\n")), 0);
	assert_no_diags();
	assert_int_equal(peers_of_pods(&M, "snilb-system", n, 4), 3);
	assert_string_equal(n[0].name, "gw-a");
	assert_false(n[0].draining);
	assert_string_equal(n[1].name, "gw-b");
	assert_false(n[1].draining);
	assert_string_equal(n[2].name, "gw-c");
	assert_true(n[2].draining);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_pods, teardown),
		cmocka_unit_test_teardown(test_pod_not_ready, teardown),
		cmocka_unit_test_teardown(test_pods_same_node, teardown),
	};

	return cmocka_run_group_tests_name("peers", tests, NULL, NULL);
}
