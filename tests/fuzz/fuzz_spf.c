/*
 * fuzz_spf.c - libFuzzer target for the screen every SPF record passes
 * before libspf2 sees it, and for what it lets through: spf_is_record,
 * spf_screen and spf_parse (spf.h), which hands a screened record to
 * libspf2's compiler and walks the compiled form.
 *
 * The input is a TXT record as a C string (up to its first NUL, as the
 * DNS layer hands it over).  Checks what spf.h promises: spf_is_record is
 * "v=spf1" then a space or the end; a record the screen passes is at
 * most SPF_RECORD_MAX bytes of printable ASCII without '%', with CIDR
 * lengths of at most three digits and at most SPF_MAX_TERMS terms, and
 * a refusal names one of its rules;
 * spf_parse refuses whatever the screen refuses and what is not an SPF
 * record, and on failure leaves a reason and empty terms; what it
 * returns stays within SPF_MAX_INCLUDES includes and SPF_MAX_RANGES
 * ranges, with lower-case names that occur in the record, and prefixes
 * within their family's width.
 */
#include "config.h"

#include <sys/socket.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "spf.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	(void)argc;
	(void)argv;
	if (spf_init(err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_spf: %s\n", err);
		abort();
	}
	return 0;
}

static void
check_screened(const char *rec)
{
	size_t len = strlen(rec), terms = 0, i;
	int in_term = 0;

	FUZZ_CHECK(len <= SPF_RECORD_MAX);
	FUZZ_CHECK(strchr(rec, '%') == NULL);
	for (i = 0; i < len; i++) {
		FUZZ_CHECK(rec[i] >= 0x20 && rec[i] <= 0x7e);
		if (rec[i] == '/')
			FUZZ_CHECK(strspn(rec + i + 1, "0123456789") <= 3);
		if (rec[i] == ' ')
			in_term = 0;
		else if (!in_term) {
			in_term = 1;
			terms++;
		}
	}
	FUZZ_CHECK(terms <= SPF_MAX_TERMS + (size_t)spf_is_record(rec));
}

/* A name spf_parse reports: lower case, and in the record. */
static void
check_name(const char *name, const char *lower_rec)
{
	size_t len = strnlen(name, DNS_NAME_MAX);

	FUZZ_CHECK(len > 0 && len < DNS_NAME_MAX);
	for (size_t i = 0; i < len; i++)
		FUZZ_CHECK(!(name[i] >= 'A' && name[i] <= 'Z'));
	FUZZ_CHECK(strstr(lower_rec, name) != NULL);
}

static void
check_terms(const struct spf_terms *t, const char *rec)
{
	char *lower;
	size_t i;

	FUZZ_CHECK(t->ninclude <= SPF_MAX_INCLUDES);
	FUZZ_CHECK(t->nrange <= SPF_MAX_RANGES);
	FUZZ_CHECK(t->truncated == 0 || t->truncated == 1);
	if ((lower = strdup(rec)) == NULL)
		abort();
	for (i = 0; lower[i] != '\0'; i++)
		lower[i] = (char)tolower((unsigned char)lower[i]);
	for (i = 0; i < t->ninclude; i++)
		check_name(t->include[i], lower);
	if (t->redirect[0] != '\0')
		check_name(t->redirect, lower);
	for (i = 0; i < t->nrange; i++) {
		const struct spf_range *r = &t->range[i];

		if (r->addr.family == AF_INET) {
			FUZZ_CHECK(r->prefix >= 0 && r->prefix <= 32);
			FUZZ_CHECK(strstr(lower, "ip4:") != NULL);
		} else {
			FUZZ_CHECK(r->addr.family == AF_INET6);
			FUZZ_CHECK(r->prefix >= 0 && r->prefix <= 128);
			FUZZ_CHECK(strstr(lower, "ip6:") != NULL);
		}
	}
	free(lower);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct spf_terms empty;
	struct spf_terms *t;
	const char *why = "unset";
	char *rec, err[256];
	int is_rec, screened, rc;

	rec = fuzz_cstr(data, size);

	is_rec = spf_is_record(rec);
	FUZZ_CHECK(is_rec == (strncasecmp(rec, "v=spf1", 6) == 0 &&
	    (rec[6] == '\0' || rec[6] == ' ')));

	screened = spf_screen(rec, &why);
	if (screened == 0) {
		check_screened(rec);
	} else {
		FUZZ_CHECK(screened == -1);
		FUZZ_CHECK(why != NULL);
		FUZZ_CHECK(strcmp(why, "macro") == 0 ||
		    strcmp(why, "too long") == 0 ||
		    strcmp(why, "too many terms") == 0 ||
		    strcmp(why, "bad character") == 0 ||
		    strcmp(why, "bad cidr length") == 0);
	}

	/* Heap, not stack: the terms are 7 KiB, and ASan sees an overrun
	 * of a heap block at once. */
	if ((t = malloc(sizeof(*t))) == NULL)
		abort();
	memset(t, 0xa5, sizeof(*t));
	err[0] = '\0';
	rc = spf_parse(rec, t, err, sizeof(err));
	if (rc == 0) {
		FUZZ_CHECK(screened == 0 && is_rec);
		check_terms(t, rec);
	} else {
		FUZZ_CHECK(rc == -1);
		FUZZ_CHECK(err[0] != '\0' && memchr(err, '\0', sizeof(err)));
		FUZZ_CHECK(memcmp(t, &empty, sizeof(*t)) == 0);
	}
	free(t);
	free(rec);
	return 0;
}
