/*
 * fuzz_envelope.c - libFuzzer target for addr_parse_envelope (addr.h):
 * the MAIL FROM argument, NUL-terminated as the MTA hands it over.
 *
 * Checks what addr.h promises: only the four return values; on ADDR_OK
 * a local part of at most ADDR_MAX_LOCAL bytes, a non-empty domain of at
 * most ADDR_MAX_DOMAIN bytes, and literal set exactly when the domain is
 * an address literal "[...]"; on any other result *out untouched.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct addr a, untouched;
	char *s;
	int rc;

	s = fuzz_cstr(data, size);
	memset(&a, 0xa5, sizeof(a));
	memcpy(&untouched, &a, sizeof(a));
	rc = addr_parse_envelope(s, &a);
	switch (rc) {
	case ADDR_OK:
		FUZZ_CHECK(a.local != NULL && a.domain != NULL);
		FUZZ_CHECK(strlen(a.local) <= ADDR_MAX_LOCAL);
		FUZZ_CHECK(a.domain[0] != '\0');
		FUZZ_CHECK(strlen(a.domain) <= ADDR_MAX_DOMAIN);
		FUZZ_CHECK(a.literal == (a.domain[0] == '['));
		addr_free(&a);
		break;
	case ADDR_ESYNTAX:
	case ADDR_ENOMEM:
		FUZZ_CHECK(memcmp(&a, &untouched, sizeof(a)) == 0);
		break;
	case ADDR_NULL:
		break;
	default:
		FUZZ_CHECK(!"a return value addr.h does not list");
	}
	free(s);
	return 0;
}
