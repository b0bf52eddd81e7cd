/*
 * fuzz_listupdate.c - libFuzzer target for what "disposable-ctl update"
 * makes of a downloaded list before it may replace the last good copy:
 * listupdate_sift, listupdate_is_html and listupdate_not_a_list
 * (listupdate.h), on the body as it came from the network.
 *
 * The first byte picks the list's kind and category (a domain list of
 * disposable, relay or allow entries, a fingerprint list, shared
 * infrastructure); the rest is the body.  Checks what listupdate.h
 * promises: 0 or -1 only (no database: only memory can fail); every
 * entry line counted once, kept or under one reason; the kept entries
 * sorted and each once, their count the kept lines less the duplicates;
 * a kept domain entry normalised and no public suffix; the quarantine
 * text NUL-terminated at its length and never quoting a mail address;
 * the HTML and not-a-list answers 0 or 1.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "fuzz.h"
#include "listupdate.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_domain_init("fuzz_listupdate");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct {
		enum list_kind	kind;
		enum category	cat;
	} as[] = {
		{ LIST_DOMAINS, CAT_DISPOSABLE }, { LIST_FINGERPRINTS,
		CAT_DISPOSABLE }, { LIST_INFRA, CAT_ALLOWED }, { LIST_DOMAINS,
		CAT_RELAY }, { LIST_DOMAINS, CAT_ALLOWED },
	};
	struct listupdate_sift s;
	const char *body;
	size_t len, sum = 0, i;
	char err[512], norm[DOMAIN_MAX + 1];
	int k, h;

	if (size == 0)
		return 0;
	k = data[0] % (int)(sizeof(as) / sizeof(as[0]));
	body = (const char *)data + 1;
	len = size - 1;

	h = listupdate_is_html(NULL, body, len);
	FUZZ_CHECK(h == 0 || h == 1);
	h = listupdate_is_html("text/html; charset=utf-8", body, len);
	FUZZ_CHECK(h == 1);

	memset(&s, 0, sizeof(s));
	FUZZ_CHECK(listupdate_sift(as[k].kind, as[k].cat, body, len, NULL,
	    &s, err, sizeof(err)) == 0);
	for (i = 0; i < LU_REASON_COUNT; i++)
		sum += s.count[i];
	FUZZ_CHECK(sum == s.lines);
	FUZZ_CHECK(s.quarantined == s.lines - s.count[LU_KEPT]);
	FUZZ_CHECK(s.kept.n + s.duplicates == s.count[LU_KEPT]);
	for (i = 0; i < s.kept.n; i++) {
		FUZZ_CHECK(s.kept.v[i] != NULL && s.kept.v[i][0] != '\0');
		FUZZ_CHECK(i == 0 || strcmp(s.kept.v[i - 1], s.kept.v[i]) < 0);
		FUZZ_CHECK(strchr(s.kept.v[i], '@') == NULL);
		if (as[k].kind == LIST_DOMAINS) {
			FUZZ_CHECK(domain_normalise(s.kept.v[i], norm) ==
			    DOMAIN_OK && strcmp(norm, s.kept.v[i]) == 0);
			FUZZ_CHECK(!domain_is_public_suffix(s.kept.v[i]));
		}
	}
	FUZZ_CHECK(s.quarantine != NULL);
	FUZZ_CHECK(strlen(s.quarantine) == s.qlen);
	FUZZ_CHECK(strchr(s.quarantine, '@') == NULL);
	h = listupdate_not_a_list(&s);
	FUZZ_CHECK(h == 0 || h == 1);
	listupdate_sift_free(&s);
	return 0;
}
