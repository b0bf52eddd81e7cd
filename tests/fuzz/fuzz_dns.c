/*
 * fuzz_dns.c - libFuzzer target for the answers DNS servers send: the
 * resolver's wire parser (dns_parse_answer in dns.h: libresolv's
 * ns_initparse/ns_parserr under our CNAME walk and record decoding).
 * Any domain's owner controls what its name servers answer.
 *
 * The first input byte picks the query type (A, AAAA, MX, NS, TXT,
 * CNAME), the rest is the answer as it comes off the wire, asked for
 * "fuzz.example.test".  Checks what dns.h promises: a status of the enum
 * or -1 (the chain leaves the answer); records only with DNS_OK, at most
 * DNS_MAX_RR of them; names lower case, no trailing dot, within
 * DNS_NAME_MAX; A and AAAA of their family; a TXT string within
 * DNS_TXT_MAX and without NUL; the CNAME end within DNS_NAME_MAX.
 */
#include "config.h"

#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "fuzz.h"

static const int types[] = { DNS_T_A, DNS_T_AAAA, DNS_T_MX, DNS_T_NS,
	DNS_T_TXT, DNS_T_CNAME };

static void
check_name(const char *n)
{
	size_t len = strnlen(n, DNS_NAME_MAX);

	FUZZ_CHECK(len < DNS_NAME_MAX);
	FUZZ_CHECK(len == 0 || n[len - 1] != '.');
	for (size_t i = 0; i < len; i++)
		FUZZ_CHECK(!(n[i] >= 'A' && n[i] <= 'Z'));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_answer a;
	int type, st;

	if (size < 1 || size > 65536)
		return 0;
	type = types[data[0] % (sizeof(types) / sizeof(types[0]))];
	st = dns_parse_answer("fuzz.example.test", type, data + 1,
	    (int)(size - 1), &a);
	FUZZ_CHECK(st == -1 || (st >= DNS_OK && st <= DNS_ERROR));
	FUZZ_CHECK(a.n <= DNS_MAX_RR);
	FUZZ_CHECK(a.n == 0 || st == DNS_OK);
	FUZZ_CHECK(a.type == type);
	check_name(a.qname);
	check_name(a.cname);
	for (size_t i = 0; i < a.n; i++) {
		const struct dns_rr *r = &a.rr[i];

		switch (type) {
		case DNS_T_A:
			FUZZ_CHECK(r->addr.family == AF_INET);
			break;
		case DNS_T_AAAA:
			FUZZ_CHECK(r->addr.family == AF_INET6);
			break;
		case DNS_T_MX:
		case DNS_T_NS:
		case DNS_T_CNAME:
			check_name(r->name);
			break;
		case DNS_T_TXT:
			FUZZ_CHECK(r->txt != NULL);
			FUZZ_CHECK(strlen(r->txt) < DNS_TXT_MAX);
			break;
		}
	}
	dns_answer_clear(&a);
	return 0;
}
