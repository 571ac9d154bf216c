// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * snilb detach: the program off each interface's clsact ingress, then
 * every pin under the pin path. The maps outlive the agent, so this is how
 * a node stops being a gateway.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "cmd.h"
#include "defaults.h"
#include "inspect.h"

struct detach_opts {
	const char *ifaces;	/* --iface IF,IF: NULL, the status file's */
	bool force;
};

enum { O_IFACE = INSPECT_OPT, O_FORCE };

static const struct opt detach_opts[] = {
	{ "iface", O_IFACE, "IF,...",
	  "these interfaces (default: the status file's)" },
	{ "force", O_FORCE, NULL,
	  "even while the agent runs, and a foreign program at our tc "
	  "handle" },
	{ 0 },
};

static int detach_opt(struct inspect *c, int key, const char *arg)
{
	struct detach_opts *o = c->priv;

	if (key == O_IFACE)
		o->ifaces = arg;
	else if (key == O_FORCE)
		o->force = true;
	else
		return EXIT_USAGE;	/* not in detach_opts[] */
	return 0;
}

static void say(const struct inspect *c, json_t *log, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A line of what was done: printed, or kept for the JSON answer. */
static void say(const struct inspect *c, json_t *log, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (c->json)
		json_array_append_new(log, json_string(buf));
	else
		printf("%s\n", buf);
}

/* Remove the program from @name's ingress; false if nothing was. */
static bool detach_iface(const struct inspect *c, const char *name,
			 json_t *log)
{
	const struct detach_opts *o = c->priv;
	char state[128];
	uint32_t id;
	bool ours;
	int e;

	ours = pinned_tc_query(name, state, sizeof(state), &id);
	if (!id) {
		say(c, log, "%s: %s, nothing to detach", name, state);
		return false;
	}
	if (!ours && !o->force) {
		say(c, log, "%s: %s: left alone (--force removes it)", name,
		    state);
		return false;
	}
	e = pinned_tc_detach(name);
	if (e) {
		say(c, log, "%s: cannot detach program id %u: %s", name, id,
		    strerror(-e));
		return false;
	}
	say(c, log, "%s: detached program id %u from clsact ingress", name,
	    id);
	return true;
}

/* Unlink every pin under the pin path, then the directory itself. */
static bool remove_pins(const struct inspect *c, json_t *log)
{
	struct statfs sfs;
	struct dirent *de;
	bool ok = true;
	int n = 0;
	DIR *d;

	if (statfs(c->pin_path, &sfs)) {
		say(c, log, "%s: %s, no pins to remove", c->pin_path,
		    strerror(errno));
		return false;
	}
	/* Never unlink files anywhere but on bpffs: a mistyped path must
	 * not cost anyone their data. */
	if (sfs.f_type != BPF_FS_MAGIC) {
		say(c, log, "%s is not on bpffs: left alone", c->pin_path);
		return false;
	}
	d = opendir(c->pin_path);
	if (!d) {
		say(c, log, "%s: %s", c->pin_path, strerror(errno));
		return false;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0)) {
			say(c, log, "%s/%s: %s", c->pin_path, de->d_name,
			    strerror(errno));
			ok = false;
			continue;
		}
		say(c, log, "removed %s/%s", c->pin_path, de->d_name);
		n++;
	}
	closedir(d);
	if (rmdir(c->pin_path)) {
		say(c, log, "%s: %s", c->pin_path, strerror(errno));
		return false;
	}
	say(c, log, "removed %s (%d pins)", c->pin_path, n);
	return ok;
}

static int run_detach(struct inspect *c)
{
	const struct detach_opts *o = c->priv;
	json_t *a = json_object_get(c->st, "agent"), *log = json_array(), *v;
	long long pid = jint(a, "pid", 0);
	char *list = NULL, *tok, *save = NULL;
	bool ok = true;
	size_t i;

	if (pid_alive(pid) && !o->force) {
		inspect_err(c, "the agent (pid %lld) is running and would "
			    "attach again: stop it first, or pass --force",
			    pid);
		json_decref(log);
		return EXIT_NOMATCH;
	}
	if (o->ifaces) {
		list = strdup(o->ifaces);
		for (tok = strtok_r(list, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save))
			ok &= detach_iface(c, tok, log);
		free(list);
	} else if (json_array_size(json_object_get(a, "ifaces"))) {
		json_array_foreach(json_object_get(a, "ifaces"), i, v)
			if (json_is_string(v))
				ok &= detach_iface(c, json_string_value(v),
						   log);
	} else {
		say(c, log, "no interfaces known (no status file): pass "
		    "--iface to detach the program");
		ok = false;
	}
	ok &= remove_pins(c, log);
	if (c->json && inspect_emit(c, json_pack("{s:o, s:b}", "done", log,
						 "ok", ok)))
		return EXIT_USAGE;
	if (!c->json)
		json_decref(log);
	return ok ? 0 : EXIT_NOMATCH;
}

static const struct inspect_cmd detach_cmd = {
	.name = "detach",
	.usage = "[--iface IF[,IF...]] [--force] [OPTIONS]",
	.about =
"Remove the data plane: the program from each interface's clsact\n"
"ingress, then every pin under the pin path. Refuses while the agent\n"
"is running. Established connections through it break.\n",
	.example = "snilb detach --iface eth0,eth1 --pin-path " SNILB_PIN_PATH,
	.opts = detach_opts,
	.pins = PINS_NONE,
	.opt = detach_opt,
	.run = run_detach,
};

int do_detach(int argc, char **argv)
{
	struct detach_opts o = { 0 };

	return inspect_main(&detach_cmd, &o, argc, argv);
}
