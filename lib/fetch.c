/*
 * fetch.c - one remote list fetched with libcurl (see fetch.h).
 *
 * The body is collected in memory by the write callback, which also
 * enforces the size limit (CURLOPT_MAXFILESIZE_LARGE only sees a length
 * the server announces).  Response headers are read for ETag and
 * Last-Modified; each new status line (a redirect) starts them afresh, so
 * that only the final response's validators are kept.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "fetch.h"
#include "listupdate.h"
#include "util.h"

struct transfer {
	struct fetch_result	*res;
	size_t			 max;
	size_t			 cap;
	int			 too_big;
	int			 nomem;
};

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct transfer *t = arg;
	struct fetch_result *r = t->res;
	size_t len = size * n;

	if (len > t->max || r->len > t->max - len) {
		t->too_big = 1;
		return 0;
	}
	if (r->len + len + 1 > t->cap) {
		size_t ncap = t->cap ? t->cap : 65536;
		char *nb;

		while (ncap < r->len + len + 1)
			ncap *= 2;
		if ((nb = realloc(r->body, ncap)) == NULL) {
			t->nomem = 1;
			return 0;
		}
		r->body = nb;
		t->cap = ncap;
	}
	memcpy(r->body + r->len, data, len);
	r->len += len;
	r->body[r->len] = '\0';
	return len;
}

/* "Name: value" into dst when the header is name; the value trimmed. */
static void
header_value(const char *h, size_t len, const char *name, char *dst,
    size_t dstlen)
{
	size_t nl = strlen(name);
	char v[512];
	size_t i, e;

	if (len <= nl + 1 || strncasecmp(h, name, nl) != 0 || h[nl] != ':')
		return;
	for (i = nl + 1; i < len && (h[i] == ' ' || h[i] == '\t'); i++)
		;
	for (e = len; e > i && (h[e - 1] == '\r' || h[e - 1] == '\n' ||
	    h[e - 1] == ' ' || h[e - 1] == '\t'); e--)
		;
	if (e - i >= sizeof(v))
		return;
	memcpy(v, h + i, e - i);
	v[e - i] = '\0';
	/* Only what can be sent back in a header is kept. */
	(void)listupdate_state_set_validator(dst, dstlen, v);
}

static size_t
on_header(char *data, size_t size, size_t n, void *arg)
{
	struct fetch_result *r = arg;
	size_t len = size * n;

	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		r->etag[0] = '\0';
		r->last_modified[0] = '\0';
	}
	header_value(data, len, "ETag", r->etag, sizeof(r->etag));
	header_value(data, len, "Last-Modified", r->last_modified,
	    sizeof(r->last_modified));
	return len;
}

int
fetch_init(char *err, size_t errlen)
{
	CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);

	if (rc != CURLE_OK) {
		seterr(err, errlen, "libcurl: %s", curl_easy_strerror(rc));
		return -1;
	}
	return 0;
}

void
fetch_fini(void)
{
	curl_global_cleanup();
}

/* Why a transfer failed, in words, and whether it counts as unreachable
 * (no connection was ever made). */
static enum fetch_status
failure(CURL *h, CURLcode rc, const struct transfer *t, const char *curlerr,
    const struct fetch_request *req, struct fetch_result *r)
{
	const char *what = curlerr[0] != '\0' ? curlerr :
	    curl_easy_strerror(rc);
	curl_off_t connect_us = 0;

	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		snprintf(r->error, sizeof(r->error), "%s", what);
		return FETCH_UNREACHABLE;
	case CURLE_OPERATION_TIMEDOUT:
		(void)curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T,
		    &connect_us);
		snprintf(r->error, sizeof(r->error), "%s", what);
		return connect_us == 0 ? FETCH_UNREACHABLE : FETCH_FAILED;
	case CURLE_PARTIAL_FILE:
		snprintf(r->error, sizeof(r->error), "cut mid-transfer: %s",
		    what);
		return FETCH_FAILED;
	case CURLE_FILESIZE_EXCEEDED:
		snprintf(r->error, sizeof(r->error), "larger than the limit "
		    "of %zu bytes (UpdateMaxSize)", req->max_bytes);
		return FETCH_FAILED;
	case CURLE_WRITE_ERROR:
		if (t->too_big) {
			snprintf(r->error, sizeof(r->error), "larger than the "
			    "limit of %zu bytes (UpdateMaxSize)",
			    req->max_bytes);
			return FETCH_FAILED;
		}
		if (t->nomem) {
			snprintf(r->error, sizeof(r->error), "out of memory");
			return FETCH_FAILED;
		}
		break;
	default:
		break;
	}
	snprintf(r->error, sizeof(r->error), "%s", what);
	return FETCH_FAILED;
}

void
fetch_url(const struct fetch_request *req, struct fetch_result *r)
{
	struct transfer t = { .res = r, .max = req->max_bytes };
	struct curl_slist *hdrs = NULL, *nh;
	char curlerr[CURL_ERROR_SIZE] = "", line[512], v[256];
	const char *ctype = NULL;
	int conditional = 0;
	CURLcode rc;
	CURL *h;

	memset(r, 0, sizeof(*r));
	r->status = FETCH_FAILED;
	if ((h = curl_easy_init()) == NULL) {
		snprintf(r->error, sizeof(r->error), "libcurl: cannot create "
		    "a transfer");
		return;
	}
	/* Validators come from a state file: send them only when they are
	 * what a header may hold. */
	if (req->etag != NULL && listupdate_state_set_validator(v, sizeof(v),
	    req->etag) == 0) {
		snprintf(line, sizeof(line), "If-None-Match: %s", v);
		if ((nh = curl_slist_append(hdrs, line)) != NULL) {
			hdrs = nh;
			conditional = 1;
		}
	}
	if (req->last_modified != NULL && listupdate_state_set_validator(v,
	    sizeof(v), req->last_modified) == 0) {
		snprintf(line, sizeof(line), "If-Modified-Since: %s", v);
		if ((nh = curl_slist_append(hdrs, line)) != NULL) {
			hdrs = nh;
			conditional = 1;
		}
	}
	if (curl_easy_setopt(h, CURLOPT_URL, req->url) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,file") !=
	    CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https") !=
	    CURLE_OK) {
		snprintf(r->error, sizeof(r->error), "libcurl refuses the "
		    "URL or the protocol limits");
		goto out;
	}
	(void)curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	(void)curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curlerr);
	(void)curl_easy_setopt(h, CURLOPT_FAILONERROR, 0L);
	(void)curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	(void)curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)FETCH_MAX_REDIRS);
	(void)curl_easy_setopt(h, CURLOPT_USERAGENT,
	    "disposable-milter/" PACKAGE_VERSION);
	(void)curl_easy_setopt(h, CURLOPT_TIMEOUT, req->timeout);
	(void)curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT,
	    req->timeout < FETCH_CONNECT_TIMEOUT ? req->timeout :
	    (long)FETCH_CONNECT_TIMEOUT);
	(void)curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)req->max_bytes);
	(void)curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	(void)curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (req->ca_file != NULL && req->ca_file[0] != '\0')
		(void)curl_easy_setopt(h, CURLOPT_CAINFO, req->ca_file);
	(void)curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	(void)curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	(void)curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	(void)curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
	(void)curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	(void)curl_easy_setopt(h, CURLOPT_HEADERDATA, r);

	if ((rc = curl_easy_perform(h)) != CURLE_OK) {
		r->status = failure(h, rc, &t, curlerr, req, r);
		goto out;
	}
	(void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->http_status);
	if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ctype) == CURLE_OK &&
	    ctype != NULL)
		snprintf(r->content_type, sizeof(r->content_type), "%s",
		    ctype);
	if (r->http_status == 304 && conditional) {
		r->status = FETCH_NOT_MODIFIED;
		goto out;
	}
	if (r->http_status != 200 && r->http_status != 0) {
		snprintf(r->error, sizeof(r->error), "HTTP %ld%s",
		    r->http_status, r->http_status == 304 ? " without a "
		    "conditional request" : "");
		goto out;
	}
	/* An empty body never called on_body. */
	if (r->body == NULL && (r->body = strdup("")) == NULL) {
		snprintf(r->error, sizeof(r->error), "out of memory");
		goto out;
	}
	r->status = FETCH_OK;
out:
	if (r->status != FETCH_OK) {
		free(r->body);
		r->body = NULL;
		r->len = 0;
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
}

void
fetch_result_free(struct fetch_result *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
}
