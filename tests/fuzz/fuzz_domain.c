/*
 * fuzz_domain.c - libFuzzer target for domain_normalise and, on what it
 * returns, domain_is_public_suffix, domain_registrable and domain_parent
 * (domain.h), with the system's public suffix list (domain_init).
 *
 * Checks what domain.h promises: only the four return values, and an
 * empty output on error; on DOMAIN_OK a name of at most DOMAIN_MAX bytes,
 * lower-case LDH labels of 1 to 63 bytes not starting or ending with
 * '-', no trailing dot, a top-level label not all digits, that
 * normalises to itself; a registrable domain that is a label boundary
 * of the name, not itself a public suffix, and absent when the name is
 * a public suffix; parents that are the name past its first label, each
 * a normalised name again, down to a single label.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_domain_init("fuzz_domain");
	return 0;
}

/* A normalised name as domain.h describes it. */
static void
check_normal(const char *s)
{
	const char *label, *p;
	size_t len;
	int alldigits = 1;

	FUZZ_CHECK(s[0] != '\0' && strlen(s) <= DOMAIN_MAX);
	for (label = s; ; label = p + 1) {
		alldigits = 1;
		for (p = label; *p != '\0' && *p != '.'; p++) {
			FUZZ_CHECK((*p >= 'a' && *p <= 'z') ||
			    (*p >= '0' && *p <= '9') || *p == '-');
			if (*p < '0' || *p > '9')
				alldigits = 0;
		}
		len = (size_t)(p - label);
		FUZZ_CHECK(len >= 1 && len <= 63);
		FUZZ_CHECK(label[0] != '-' && label[len - 1] != '-');
		if (*p == '\0')
			break;
	}
	FUZZ_CHECK(!alldigits);
}

static void
check_boundaries(const char *norm)
{
	char again[DOMAIN_MAX + 1];
	const char *reg, *d, *next;
	int is_ps, n;

	is_ps = domain_is_public_suffix(norm);
	FUZZ_CHECK(is_ps == 0 || is_ps == 1);
	reg = domain_registrable(norm);
	if (is_ps)
		FUZZ_CHECK(reg == NULL);
	if (reg != NULL) {
		FUZZ_CHECK(reg >= norm && reg < norm + strlen(norm));
		FUZZ_CHECK(reg == norm || reg[-1] == '.');
		FUZZ_CHECK(!domain_is_public_suffix(reg));
	}

	/* The walk listdb_lookup makes, and further up. */
	for (d = norm, n = 0; d != NULL; d = next, n++) {
		FUZZ_CHECK(n <= DOMAIN_MAX / 2);
		next = domain_parent(d);
		if (strchr(d, '.') == NULL) {
			FUZZ_CHECK(next == NULL);
			break;
		}
		FUZZ_CHECK(next == strchr(d, '.') + 1);
		FUZZ_CHECK(domain_normalise(next, again) == DOMAIN_OK);
		FUZZ_CHECK(strcmp(again, next) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[DOMAIN_MAX + 1], again[DOMAIN_MAX + 1];
	char *in;
	int rc;

	in = fuzz_cstr(data, size);
	memset(out, 'x', sizeof(out));
	rc = domain_normalise(in, out);
	switch (rc) {
	case DOMAIN_OK:
		check_normal(out);
		FUZZ_CHECK(domain_normalise(out, again) == DOMAIN_OK);
		FUZZ_CHECK(strcmp(again, out) == 0);
		check_boundaries(out);
		break;
	case DOMAIN_EINVALID:
	case DOMAIN_ELITERAL:
	case DOMAIN_ENOMEM:
		FUZZ_CHECK(out[0] == '\0');
		break;
	default:
		FUZZ_CHECK(!"a return value domain.h does not list");
	}
	free(in);
	return 0;
}
