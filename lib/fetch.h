/*
 * fetch.h - one remote list fetched with libcurl: the network half of
 * "disposable-ctl update" (listupdate.h judges what comes back).  Only
 * disposable-ctl links it; the daemon never fetches anything.
 *
 * What a fetch allows:
 *   protocols   https:// and file:// (a local mirror); a redirect may go
 *               to https:// only, at most FETCH_MAX_REDIRS of them
 *   TLS         the peer and its name verified, against ca_file when
 *               given, else the system's store
 *   time        the whole transfer within timeout seconds, the
 *               connection within the lesser of that and
 *               FETCH_CONNECT_TIMEOUT
 *   size        at most max_bytes of body: a larger announced length is
 *               refused before the transfer, a larger body during it
 *   conditions  etag and last_modified, when given, are sent as
 *               If-None-Match and If-Modified-Since; a 304 answer is
 *               FETCH_NOT_MODIFIED (and is a failure when neither was
 *               sent)
 *   status      only 200 (or a file:// read) brings a body; any other
 *               status is a failure ("HTTP 404"), its body dropped
 *   signals     none (CURLOPT_NOSIGNAL)
 *
 * The User-Agent is "disposable-milter/VERSION".
 *
 * Results: FETCH_OK (body, its Content-Type and validators),
 * FETCH_NOT_MODIFIED, FETCH_UNREACHABLE (the host could not be resolved or
 * connected to, or the connection timed out: what a machine without a
 * network sees) and FETCH_FAILED (anything else: TLS, a cut transfer, an
 * oversized body, an HTTP status, an unreadable file).  For the last two,
 * error says why, with libcurl's own words where it has some.  A body
 * that was cut mid-transfer is never FETCH_OK.
 */
#ifndef DM_FETCH_H
#define DM_FETCH_H

#include <stddef.h>

#define FETCH_MAX_REDIRS	5
#define FETCH_CONNECT_TIMEOUT	20	/* seconds */

enum fetch_status {
	FETCH_OK = 0,
	FETCH_NOT_MODIFIED,
	FETCH_UNREACHABLE,
	FETCH_FAILED
};

struct fetch_request {
	const char	*url;
	const char	*etag;		/* NULL or "": not sent */
	const char	*last_modified;	/* NULL or "": not sent */
	const char	*ca_file;	/* NULL or "": the system's CAs */
	long		 timeout;	/* seconds, the whole transfer */
	size_t		 max_bytes;
};

struct fetch_result {
	enum fetch_status status;
	long	 http_status;		/* 0 for file:// */
	char	*body;			/* FETCH_OK: malloc'd, NUL-ended */
	size_t	 len;			/* bytes of body, the NUL excluded */
	char	 content_type[128];	/* "" when none was sent */
	char	 etag[256];		/* "" when none, or unusable */
	char	 last_modified[128];
	char	 error[512];		/* FETCH_UNREACHABLE, FETCH_FAILED */
};

/* Once per process before the first fetch (libcurl's global state; not
 * thread-safe).  Returns 0, or -1 with the reason in err. */
int	fetch_init(char *err, size_t errlen);
void	fetch_fini(void);

/* Fetch req->url into *res (fill it anew; free it with
 * fetch_result_free whatever the status). */
void	fetch_url(const struct fetch_request *req, struct fetch_result *res);
void	fetch_result_free(struct fetch_result *);

#endif
