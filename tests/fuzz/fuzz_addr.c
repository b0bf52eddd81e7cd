/*
 * fuzz_addr.c - libFuzzer target for both address parsers.  Not part of
 * the default build.  From the top of a configured build directory
 * (for config.h), with SRC the source tree:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -fno-sanitize-recover=all -I. -I$SRC/lib \
 *       $SRC/tests/fuzz/fuzz_addr.c $SRC/lib/addr.c -o fuzz_addr
 *   ./fuzz_addr -max_total_time=180 -max_len=4096 corpus/
 *
 * The header parser gets the input as is, in an exact-size buffer (no
 * NUL after it: ASan catches a read past len); the envelope parser gets
 * a NUL-terminated copy.  Beside "no crash", it checks what addr.h
 * promises about every result.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct addr_list	 l;
	struct addr		 a;
	char			*s;
	size_t			 i;
	int			 rc;

	if (addr_parse_header_list((const char *)data, size, &l) == 0) {
		if (l.n > ADDR_MAX_COUNT)
			abort();
		for (i = 0; i < l.n; i++) {
			if (strlen(l.v[i].local) > ADDR_MAX_LOCAL ||
			    strlen(l.v[i].domain) > ADDR_MAX_DOMAIN ||
			    l.v[i].domain[0] == '\0' ||
			    l.v[i].literal != (l.v[i].domain[0] == '['))
				abort();
		}
		if (size > ADDR_MAX_FIELD && !(l.flags & ADDR_F_TRUNCATED))
			abort();
		addr_list_free(&l);
	}

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	rc = addr_parse_envelope(s, &a);
	if (rc == ADDR_OK) {
		if (strlen(a.local) > ADDR_MAX_LOCAL ||
		    strlen(a.domain) > ADDR_MAX_DOMAIN || a.domain[0] == '\0')
			abort();
		addr_free(&a);
	} else if (rc != ADDR_NULL && rc != ADDR_ESYNTAX && rc != ADDR_ENOMEM)
		abort();
	free(s);
	return 0;
}
