/*
 * fuzz_header.c - libFuzzer target for addr_parse_header_list (addr.h):
 * the body of a From, Sender or Reply-To field; and for addr_parse_line,
 * the same parser on a line of a subscriber export.
 *
 * The input is handed over as it is, in libFuzzer's exact-size buffer
 * with no NUL after it, so that AddressSanitizer catches a read past
 * len.  Checks what addr.h promises: 0 or ADDR_ENOMEM only; at most
 * ADDR_MAX_COUNT addresses, each with a local part of at most
 * ADDR_MAX_LOCAL bytes, a non-empty domain of at most ADDR_MAX_DOMAIN
 * bytes and literal set exactly for "[...]"; only the ADDR_F_* flags;
 * a field longer than ADDR_MAX_FIELD flagged truncated; and an empty
 * list on ADDR_ENOMEM.  The input NUL-terminated as a line: only
 * addr_parse_line's four return values, one address as above on
 * ADDR_OK, *out untouched otherwise.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "fuzz.h"

/* What addr.h promises of every address it returns. */
static void
check_addr(const struct addr *a)
{
	FUZZ_CHECK(a->local != NULL && a->domain != NULL);
	FUZZ_CHECK(strlen(a->local) <= ADDR_MAX_LOCAL);
	FUZZ_CHECK(a->domain[0] != '\0');
	FUZZ_CHECK(strlen(a->domain) <= ADDR_MAX_DOMAIN);
	FUZZ_CHECK(a->literal == (a->domain[0] == '['));
}

static void
check_line(const uint8_t *data, size_t size)
{
	struct addr a, untouched;
	char *s = fuzz_cstr(data, size);
	int rc;

	memset(&a, 0xa5, sizeof(a));
	memcpy(&untouched, &a, sizeof(a));
	rc = addr_parse_line(s, &a);
	if (rc == ADDR_OK) {
		check_addr(&a);
		addr_free(&a);
	} else {
		FUZZ_CHECK(rc == ADDR_ESYNTAX || rc == ADDR_EMANY ||
		    rc == ADDR_ENOMEM);
		FUZZ_CHECK(memcmp(&a, &untouched, sizeof(a)) == 0);
	}
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct addr_list l;
	size_t i;
	int rc;

	check_line(data, size);

	rc = addr_parse_header_list((const char *)data, size, &l);
	if (rc == ADDR_ENOMEM) {
		FUZZ_CHECK(l.n == 0);
		return 0;
	}
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(l.n <= ADDR_MAX_COUNT);
	FUZZ_CHECK(l.n == 0 || l.v != NULL);
	FUZZ_CHECK((l.flags & ~(ADDR_F_MALFORMED | ADDR_F_TRUNCATED)) == 0);
	for (i = 0; i < l.n; i++)
		check_addr(&l.v[i]);
	if (size > ADDR_MAX_FIELD)
		FUZZ_CHECK(l.flags & ADDR_F_TRUNCATED);
	addr_list_free(&l);
	return 0;
}
