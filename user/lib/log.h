/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * One line per event on stderr, logfmt (ts=... level=... msg="..." k=v)
 * or JSON ({"ts":...,"level":...,"msg":...,"k":"v"}), so that a log
 * shipper can parse every line without knowing snilb.
 */
#ifndef SNILB_USER_LOG_H
#define SNILB_USER_LOG_H

enum log_format { LOG_LOGFMT = 0, LOG_JSON };

void log_set_format(enum log_format f);

/*
 * log_event("error", "sync failed", "file", path, "line", "12", NULL):
 * @msg, then key/value string pairs up to a NULL key.
 */
void log_event(const char *level, const char *msg, ...)
	__attribute__((sentinel));

#endif /* SNILB_USER_LOG_H */
