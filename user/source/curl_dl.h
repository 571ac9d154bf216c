/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* libcurl, loaded when first called (curl_dl.c, user/lib/dl.h). */
#ifndef SNILB_USER_SOURCE_CURL_DL_H
#define SNILB_USER_SOURCE_CURL_DL_H

/* Why libcurl could not be loaded; "" while it could (or was not yet). */
const char *curl_dl_error(void);

#endif /* SNILB_USER_SOURCE_CURL_DL_H */
