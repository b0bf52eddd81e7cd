/*
 * domain.c - domain names: normalisation and the public-suffix boundary
 * (see domain.h).
 *
 * NAME
 *	domain_init, domain_fini, domain_normalise, domain_is_public_suffix,
 *	domain_registrable, domain_within_registrable, domain_parent
 *
 * DESCRIPTION
 *	A plain ASCII host name is lower-cased and checked in one pass
 *	(plain_name); any other ASCII input takes the next path: lower
 *	case, then the LDH checks; only
 *	labels that claim to be A-labels ("xn--") go through libidn2, which
 *	decodes and re-encodes them (its A-label round trip) so that a forged
 *	"xn--" label cannot pass as valid.  Non-ASCII input is mapped with
 *	UTS #46 (non-transitional, NFC) to A-labels, with transitional
 *	processing as a guarded fallback for names IDNA2008 disallows but
 *	DNS serves (emoji labels on public lists).  The result is checked
 *	again as LDH whatever libidn2 returned, because libidn2 without STD3
 *	rules lets "_" and spaces through.
 *
 *	The public suffix list is one global libpsl context, written only
 *	by domain_init() and domain_fini() and read-only in between.
 *
 *	Beside it, domain_init() reads the list's text once more for one
 *	fact libpsl does not offer: which names have a public suffix below
 *	them (amazonaws.com, kawasaki.jp, uk; every proper suffix of a rule,
 *	and the base of a wildcard rule), kept in a Bloom filter (below).
 *	A suffix d of a name that has none below it lies at or below the
 *	name's registrable domain exactly when d itself is not a public
 *	suffix: no longer suffix of the name can be one, since it would end
 *	in ".d".  domain_within_registrable() so asks libpsl about one name
 *	where it would ask about every label down to d.  A false positive of
 *	the filter only sends it the long way; a list it cannot read as text
 *	(a DAFSA file, a rule that does not normalise) leaves the filter
 *	off, and every walk the long way.
 *
 * DIAGNOSTICS
 *	domain_init() names the file it could not load.  Everything else
 *	reports through its return value.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>
#include <libpsl.h>

#include "domain.h"
#include "namefilter.h"
#include "util.h"

/* Longer input cannot be a domain even after UTS #46 mapping has
 * dropped ignorable code points; refusing it early bounds the work. */
#define DOMAIN_INPUT_MAX 1024

static psl_ctx_t *psl;
static struct namefilter below;	/* names with a public suffix below */
static int below_ok;		/* below is complete */

/* Read path's rules into below.  Returns 0, or -1 when the file is not a
 * text list whose every rule normalises (below is then incomplete). */
static int
load_below(const char *path)
{
	char *line = NULL, dom[DOMAIN_MAX + 1];
	size_t cap = 0, lines = 0;
	FILE *f;
	int rc = 0;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (getline(&line, &cap, f) != -1)
		lines++;
	rewind(f);
	/* A rule has at most DOMAIN_MAX / 2 + 1 labels; four a rule is
	 * plenty for the list as it is, and more only adds false
	 * positives. */
	if (namefilter_init(&below, 4 * lines) != 0)
		rc = -1;
	while (rc == 0 && getline(&line, &cap, f) != -1) {
		char *r = line + strspn(line, " \t");
		const char *p;
		int wild = 0;

		r[strcspn(r, " \t\r\n")] = '\0';
		/* Comments, blank lines, and exceptions (which make no
		 * public suffix) add nothing. */
		if (*r == '\0' || strncmp(r, "//", 2) == 0 || *r == '!')
			continue;
		if (strncmp(r, "*.", 2) == 0) {
			r += 2;
			wild = 1;
		} else if (strcmp(r, "*") == 0)
			continue;
		if (domain_normalise(r, dom) != DOMAIN_OK) {
			rc = -1;
			break;
		}
		/* "*.kawasaki.jp": its base has public suffixes below. */
		if (wild)
			namefilter_add(&below, namefilter_hash(dom,
			    strlen(dom)));
		for (p = domain_parent(dom); p != NULL; p = domain_parent(p))
			namefilter_add(&below, namefilter_hash(p, strlen(p)));
	}
	if (ferror(f))
		rc = -1;
	free(line);
	fclose(f);
	return rc;
}

int
domain_init(const char *path, char *err, size_t errlen)
{
	psl_ctx_t *p;

	if (path == NULL)
		path = DM_PSL_FILE;
	if ((p = psl_load_file(path)) == NULL) {
		seterr(err, errlen, "%s: cannot load the public suffix list",
		    path);
		return -1;
	}
	psl_free(psl);
	psl = p;
	namefilter_free(&below);
	below_ok = load_below(path) == 0;
	if (!below_ok)
		namefilter_free(&below);
	return 0;
}

void
domain_fini(void)
{
	psl_free(psl);
	psl = NULL;
	namefilter_free(&below);
	below_ok = 0;
}

/*
 * Without domain_init() fall back to libpsl's compiled-in list (Debian
 * builds it with one); a caller that forgot still gets a boundary.
 */
static const psl_ctx_t *
psl_ctx(void)
{
	return psl != NULL ? psl : psl_builtin();
}

static int
is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

static void
lower_copy(char *dst, const char *src, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') :
		    (char)c;
	}
	dst[n] = '\0';
}

/*
 * UTS #46 non-transitional processing refuses what IDNA2008 disallows,
 * emoji among them, yet such names exist in DNS and on the public lists
 * (xn--o38h.abrdns.com).  When it refuses, transitional processing is
 * the fallback, but only for input without the four deviation characters
 * (sharp s, final sigma, ZWJ, ZWNJ, and capital sharp s which maps to
 * one), where the two differ: "fa\u00df.de" must never become "fass.de".
 */
static int
idn_to_ascii(const char *in, char **out)
{
	static const char *const deviations[] = {
		"\xc3\x9f", "\xcf\x82", "\xe2\x80\x8d", "\xe2\x80\x8c",
		"\xe1\xba\x9e",
	};
	size_t i;
	int rc;

	*out = NULL;
	rc = idn2_to_ascii_8z(in, out, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
	if (rc == IDN2_OK || rc == IDN2_MALLOC)
		return rc;
	idn2_free(*out);
	*out = NULL;
	for (i = 0; i < sizeof(deviations) / sizeof(deviations[0]); i++)
		if (strstr(in, deviations[i]) != NULL)
			return rc;
	return idn2_to_ascii_8z(in, out, IDN2_TRANSITIONAL | IDN2_NFC_INPUT);
}

/*
 * An "xn--" label is valid only if libidn2 decodes it and encodes the
 * result back to the same label.
 */
static int
alabel_valid(const char *label, size_t len)
{
	char buf[64], *o = NULL;
	int rc, ok;

	if (len >= sizeof(buf))
		return DOMAIN_EINVALID;
	memcpy(buf, label, len);
	buf[len] = '\0';
	rc = idn_to_ascii(buf, &o);
	if (rc == IDN2_MALLOC)
		return DOMAIN_ENOMEM;
	ok = rc == IDN2_OK && o != NULL && strcmp(o, buf) == 0;
	idn2_free(o);
	return ok ? DOMAIN_OK : DOMAIN_EINVALID;
}

/* A name made of digits and dots only is an IPv4 address in one of its
 * spellings (1.2.3.4, 010.1.1.1, 16909060), never a host name. */
static int
is_numeric(const char *s)
{
	for (; *s != '\0'; s++)
		if (!(*s == '.' || (*s >= '0' && *s <= '9')))
			return 0;
	return 1;
}

/* The final syntax check on a lower-case ASCII name without the
 * trailing dot. */
static int
check_ldh(const char *s)
{
	const char *label, *p;
	size_t len;
	int rc, alldigits = 1;

	if (*s == '\0' || strlen(s) > DOMAIN_MAX)
		return DOMAIN_EINVALID;
	for (label = s; ; label = p + 1) {
		alldigits = 1;
		for (p = label; *p != '\0' && *p != '.'; p++) {
			if (!((*p >= 'a' && *p <= 'z') || *p == '-' ||
			    (*p >= '0' && *p <= '9')))
				return DOMAIN_EINVALID;
			if (*p < '0' || *p > '9')
				alldigits = 0;
		}
		len = (size_t)(p - label);
		if (len == 0 || len > 63 || label[0] == '-' ||
		    label[len - 1] == '-')
			return DOMAIN_EINVALID;
		if (len >= 4 && strncmp(label, "xn--", 4) == 0 &&
		    (rc = alabel_valid(label, len)) != DOMAIN_OK)
			return rc;
		if (*p == '\0')
			break;
	}
	/* A top-level label is never all digits (RFC 3696 section 2). */
	return alldigits ? DOMAIN_EINVALID : DOMAIN_OK;
}

/*
 * Non-ASCII input that libidn2 refuses as a whole may still be fine
 * label by label: IDNA2008 forbids "--" in positions 3-4 of every label,
 * which disqualifies ASCII labels that are valid host names ("ab--c").
 * Map only the labels that need it.
 */
static int
idn_by_label(const char *in, size_t len, char *buf, size_t buflen)
{
	char *copy, *label, *next, *o;
	size_t used = 0, n;
	int rc = DOMAIN_OK;

	if ((copy = malloc(len + 1)) == NULL)
		return DOMAIN_ENOMEM;
	memcpy(copy, in, len);
	copy[len] = '\0';
	for (label = copy; label != NULL; label = next) {
		if ((next = strchr(label, '.')) != NULL)
			*next++ = '\0';
		if (is_ascii(label)) {
			n = strlen(label);
			if (used + n + 1 >= buflen) {
				rc = DOMAIN_EINVALID;
				break;
			}
			lower_copy(buf + used, label, n);
		} else {
			rc = idn_to_ascii(label, &o);
			if (rc != IDN2_OK) {
				idn2_free(o);
				rc = rc == IDN2_MALLOC ? DOMAIN_ENOMEM :
				    DOMAIN_EINVALID;
				break;
			}
			n = strlen(o);
			if (used + n + 1 >= buflen) {
				idn2_free(o);
				rc = DOMAIN_EINVALID;
				break;
			}
			memcpy(buf + used, o, n + 1);
			idn2_free(o);
		}
		used += n;
		if (next != NULL)
			buf[used++] = '.';
		buf[used] = '\0';
	}
	free(copy);
	return rc;
}

/*
 * The common case in one pass: a plain host name of ASCII letters,
 * digits and hyphens, any case, at most one trailing dot, no "xn--"
 * label, a last label not all digits.  Writes it lower-cased to out and
 * returns 1; returns 0 for anything else, which domain_normalise() then
 * takes the long way, with the same result for what this accepts.
 */
static int
plain_name(const char *in, char *out)
{
	size_t i = 0, label = 0;
	int digits = 1;

	for (;; i++) {
		unsigned char c = (unsigned char)in[i];

		if (i > DOMAIN_MAX)
			return 0;
		if (c == '.' || c == '\0') {
			size_t len = i - label;

			if (len == 0 || len > 63 || in[label] == '-' ||
			    in[i - 1] == '-' || (len >= 4 &&
			    (in[label] | 0x20) == 'x' &&
			    (in[label + 1] | 0x20) == 'n' &&
			    in[label + 2] == '-' && in[label + 3] == '-'))
				return 0;
			if (c == '\0' || in[i + 1] == '\0')
				break;
			out[i] = '.';
			label = i + 1;
			digits = 1;
			continue;
		}
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-'))
			return 0;
		if (c < '0' || c > '9')
			digits = 0;
		out[i] = (char)c;
	}
	if (digits)
		return 0;
	out[i] = '\0';
	return 1;
}

int
domain_normalise(const char *in, char *out)
{
	char buf[DOMAIN_MAX + 2], *o;
	struct in6_addr a6;
	size_t len;
	int rc;

	out[0] = '\0';
	if (in == NULL)
		return DOMAIN_EINVALID;
	if (plain_name(in, out))
		return DOMAIN_OK;
	out[0] = '\0';
	len = strnlen(in, DOMAIN_INPUT_MAX + 1);
	if (len == 0 || len > DOMAIN_INPUT_MAX)
		return DOMAIN_EINVALID;
	if (in[0] == '[')
		return DOMAIN_ELITERAL;

	if (is_ascii(in)) {
		/* One trailing dot is allowed beyond DOMAIN_MAX. */
		if (len > DOMAIN_MAX + 1)
			return DOMAIN_EINVALID;
		lower_copy(buf, in, len);
	} else {
		rc = idn_to_ascii(in, &o);
		if (rc == IDN2_MALLOC)
			return DOMAIN_ENOMEM;
		if (rc == IDN2_OK) {
			len = strlen(o);
			if (len > DOMAIN_MAX + 1) {
				idn2_free(o);
				return DOMAIN_EINVALID;
			}
			lower_copy(buf, o, len);
			idn2_free(o);
		} else {
			idn2_free(o);
			if ((rc = idn_by_label(in, len, buf, sizeof(buf))) !=
			    DOMAIN_OK)
				return rc;
			len = strlen(buf);
		}
	}
	if (len > 0 && buf[len - 1] == '.')
		buf[--len] = '\0';

	if (strchr(buf, ':') != NULL)
		return inet_pton(AF_INET6, buf, &a6) == 1 ? DOMAIN_ELITERAL :
		    DOMAIN_EINVALID;
	if (len > 0 && is_numeric(buf) && buf[0] != '.' &&
	    strstr(buf, "..") == NULL)
		return DOMAIN_ELITERAL;
	if ((rc = check_ldh(buf)) != DOMAIN_OK)
		return rc;
	memcpy(out, buf, len + 1);
	return DOMAIN_OK;
}

int
domain_is_public_suffix(const char *ascii)
{
	const psl_ctx_t *p = psl_ctx();

	if (ascii == NULL || *ascii == '\0')
		return 1;
	if (p == NULL)
		return strchr(ascii, '.') == NULL;
	return psl_is_public_suffix(p, ascii) ? 1 : 0;
}

const char *
domain_registrable(const char *ascii)
{
	const psl_ctx_t *p = psl_ctx();
	const char *s, *prev;

	if (ascii == NULL || *ascii == '\0')
		return NULL;
	if (p != NULL)
		return psl_registrable_domain(p, ascii);
	/* No list at all: the "*" rule alone, the last two labels. */
	if ((s = strrchr(ascii, '.')) == NULL)
		return NULL;
	for (prev = s; prev > ascii && prev[-1] != '.'; prev--)
		;
	return prev;
}

int
domain_within_registrable(const char *ascii, const char *d,
    const char **from)
{
	const char *s = *from, *dot;

	if (ascii == NULL || d == NULL || s == NULL || d < ascii)
		return 0;
	/* Nothing below d is a public suffix: d alone decides (above). */
	if (below_ok && s <= d && (dot = strchr(d, '.')) != NULL &&
	    !namefilter_maybe(&below, namefilter_hash(d, strlen(d)))) {
		if (domain_is_public_suffix(d))
			return 0;
		*from = dot + 1;
		return 1;
	}
	for (; s <= d; s = dot + 1) {
		/* The last label alone is always a public suffix ("*"). */
		if ((dot = strchr(s, '.')) == NULL || domain_is_public_suffix(s))
			return 0;
		*from = dot + 1;
	}
	return 1;
}

const char *
domain_parent(const char *ascii)
{
	const char *dot;

	if (ascii == NULL || (dot = strchr(ascii, '.')) == NULL ||
	    dot[1] == '\0')
		return NULL;
	return dot + 1;
}
