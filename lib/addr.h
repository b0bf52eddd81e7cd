/*
 * addr.h - mail addresses out of the SMTP envelope and out of headers.
 *
 * Two parsers, both pure functions of their input, both thread-safe:
 *
 * addr_parse_envelope() takes the MAIL FROM argument as an MTA hands it
 * to a milter.  Postfix's smtpd gives the raw argument, "<a@b>" (ESMTP
 * parameters come as separate strings and are not passed here); its
 * cleanup path (non_smtpd_milters) and Sendmail may give a bare address
 * "a@b".  Understood: the null reverse-path ("<>" or the empty string),
 * source routes ("<@relay1,@relay2:a@b>": the route is dropped), quoted
 * local parts ("\"a b\"@c"), address literals ("a@[192.0.2.1]",
 * "a@[IPv6:2001:db8::1]"), and raw UTF-8 (SMTPUTF8).  Surrounding
 * whitespace is ignored.
 *
 * addr_parse_header_each() takes the body of an address header (From,
 * Sender, Reply-To, ...) as it arrives from the MTA: possibly folded with
 * CRLF or bare LF, possibly with raw UTF-8 (RFC 6532) or RFC 2047 encoded
 * words in display names.  It follows RFC 5322 including its obsolete
 * syntax: display names, quoted strings with quoted-pairs, nested comments
 * anywhere, groups (empty ones too), obs-route, several mailboxes per field,
 * empty list elements.  Malformed input yields every address that can be
 * recovered and sets ADDR_F_MALFORMED; it never reads past len bytes.
 * It hands every address to a visitor as it finds it, however many: the
 * caller decides what to keep (for the daemon, lib/senders.h: a bound
 * on distinct domains, not on addresses).  addr_parse_header_list() is
 * the same parser returning a list of copies, for the tools and tests.
 *
 * addr_parse_line() takes one line of a subscriber export (disposable-ctl
 * check): a bare address, "Name <addr>", "\"Anne Person\" <addr>" (what
 * mailman members prints), or a CSV record with the address in one of
 * its fields.  It is the header parser again, not a third one: the line
 * is read as a header field, whose error recovery passes over the fields
 * that hold no address ("anne@example.org,Anne Person"); only when that
 * finds none is the line split as CSV (RFC 4180: fields between commas, a
 * quoted field's "" a quote) and each field, unquoted, read as a header
 * field ("\"anne@example.org\",\"Person, Anne\"").  A line is one
 * address: the same address twice (a display name that is the address)
 * counts once, two different ones are an error, not a guess.
 *
 * Limits (also in the man page): a field longer than ADDR_MAX_FIELD bytes
 * is parsed up to that length and flagged ADDR_F_TRUNCATED; the daemon
 * never sees a longer one (it accepts header packets of at most
 * ADDR_MAX_FIELD - 1 bytes, name included), so for it every field is
 * parsed whole.  addr_parse_header_list returns at most ADDR_MAX_COUNT
 * addresses per field (the rest flagged ADDR_F_TRUNCATED); a local part
 * over ADDR_MAX_LOCAL or a domain over ADDR_MAX_DOMAIN bytes makes that
 * address malformed (dropped, flagged).
 *
 * The strings returned are the local part with quoting removed (quoted
 * pairs resolved, comments and folding whitespace dropped) and the domain
 * as written (comments and CFWS around dots removed, not lower-cased, not
 * IDNA-converted: that is domain_normalise's job).  An address literal's
 * domain is returned with its brackets ("[192.0.2.1]") and literal = 1.
 */
#ifndef DM_ADDR_H
#define DM_ADDR_H

#include <stddef.h>

#define ADDR_MAX_FIELD  1048576 /* bytes of one header field parsed: 1 MiB,
				   ten times Postfix's header_size_limit */
#define ADDR_MAX_COUNT  100     /* addresses addr_parse_header_list keeps
				   from one field */
#define ADDR_MAX_LOCAL  256     /* bytes of a local part (RFC: 64 octets) */
#define ADDR_MAX_DOMAIN 255     /* bytes of a domain as written */

struct addr {
	char	*local;		/* unquoted local part, UTF-8, malloc'd */
	char	*domain;	/* domain as written, malloc'd */
	int	 literal;	/* domain is an address literal [..] */
};

struct addr_list {
	struct addr	*v;	/* n addresses, malloc'd */
	size_t		 n;
	int		 flags;	/* ADDR_F_* */
};

#define ADDR_F_MALFORMED  0x01	/* something could not be parsed */
#define ADDR_F_TRUNCATED  0x02	/* a limit was reached */

/* Return values of addr_parse_envelope. */
#define ADDR_OK       0		/* *out holds an address */
#define ADDR_NULL     1		/* the null reverse-path: nothing to classify */
#define ADDR_ESYNTAX -1		/* not a reverse-path; *out untouched */
#define ADDR_ENOMEM  -2		/* out of memory; *out untouched */
#define ADDR_EMANY   -3		/* addr_parse_line: more than one address */

/* Parse a MAIL FROM argument (NUL-terminated).  Returns ADDR_OK,
 * ADDR_NULL, ADDR_ESYNTAX or ADDR_ENOMEM. */
int	addr_parse_envelope(const char *arg, struct addr *out);

/* What addr_parse_header_each calls for each address, in order.  a and
 * its strings are valid during the call only.  Return 0 to go on, 1 to
 * stop (the rest of the field is not parsed), -1 to fail the parse. */
typedef int addr_visit_fn(void *arg, const struct addr *a);

/* Parse an address header body of len bytes (need not be NUL-terminated)
 * and call fn(arg, address) for each address found, with no limit on
 * their number.  Returns the field's ADDR_F_* flags (>= 0), or -1 when fn
 * returned -1.  Allocates nothing. */
int	addr_parse_header_each(const char *value, size_t len,
	    addr_visit_fn *fn, void *arg);

/* The same parse, into a list of copies of at most ADDR_MAX_COUNT
 * addresses.  Returns 0 with *out filled (possibly n == 0, flags telling
 * why), or ADDR_ENOMEM with *out empty. */
int	addr_parse_header_list(const char *value, size_t len,
	    struct addr_list *out);

/* One address out of a line of a subscriber export (NUL-terminated,
 * without its line end), as the top of this file says.  Returns ADDR_OK
 * with *out filled, ADDR_ESYNTAX when the line holds no address,
 * ADDR_EMANY when it holds more than one, or ADDR_ENOMEM; *out is
 * untouched unless ADDR_OK. */
int	addr_parse_line(const char *line, struct addr *out);

void	addr_free(struct addr *);
void	addr_list_free(struct addr_list *);

#endif
