/*
 * addr.c - mail addresses out of the SMTP envelope and out of headers
 * (see addr.h for the contract).
 *
 * SYNOPSIS
 *	int addr_parse_envelope(const char *arg, struct addr *out);
 *	int addr_parse_header_each(const char *value, size_t len,
 *	    addr_visit_fn *fn, void *arg);
 *	int addr_parse_header_list(const char *value, size_t len,
 *	    struct addr_list *out);
 *	int addr_parse_line(const char *line, struct addr *out);
 *
 * DESCRIPTION
 *	The envelope parser follows RFC 5321 Reverse-path (with RFC 6531
 *	UTF-8) character by character: the MTA has already accepted the
 *	command, so anything unusual is a syntax error, not something to
 *	recover.  Two leniencies: a single trailing root dot on the domain
 *	("a@example.com.", as DNS writes it) and ESMTP parameters after the
 *	closing ">".
 *
 *	The header parser is a tokenizer (CFWS skipped, comments nested,
 *	quoted strings and domain literals as single tokens) under a
 *	recursive-descent parser for RFC 5322 address-list with the obsolete
 *	syntax.  A list element that does not parse is re-read by a recovery
 *	pass that keeps angle-addrs if there are any, else every
 *	"local@domain" run of tokens; the field is then flagged malformed.
 *	The tokenizer never looks at value[len] or beyond.  Each address
 *	found goes to a visitor as it is found, from buffers on the
 *	parser's stack: addr_parse_header_each() allocates nothing, and
 *	addr_parse_header_list() is its visitor that copies (up to
 *	ADDR_MAX_COUNT).
 *
 *	addr_parse_line() is a visitor too, that keeps one address and
 *	stops at a second; the CSV reading it falls back on only unquotes
 *	fields and hands each to the header parser.
 *
 * DIAGNOSTICS
 *	Return values only; nothing is logged (the input is a mail address).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"

/* The envelope argument is NUL-terminated but comes from the network;
 * RFC 5321 allows 256 octets of path, SMTPUTF8 and source routes need
 * more.  Beyond this it is not a reverse-path. */
#define ENVELOPE_MAX	2048

/* ------------------------------------------------------------------ */
/* Shared: character classes and bounded output buffers                */
/* ------------------------------------------------------------------ */

/* RFC 5322 atext, extended by RFC 6532 to every non-ASCII byte. */
static int
is_atext(unsigned char c)
{
	if (c >= 0x80)
		return 1;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static int
is_letdig(unsigned char c)
{
	return c >= 0x80 || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* A fixed buffer that remembers it overflowed rather than growing: the
 * limits are small, and an overlong part is dropped anyway. */
struct part {
	char	*buf;
	size_t	 len, max;
	int	 over;
};

static void
part_init(struct part *pt, char *buf, size_t max)
{
	pt->buf = buf;
	pt->len = 0;
	pt->max = max;
	pt->over = 0;
	buf[0] = '\0';
}

static void
part_put(struct part *pt, unsigned char c)
{
	if (pt->len >= pt->max) {
		pt->over = 1;
		return;
	}
	pt->buf[pt->len++] = (char)c;
	pt->buf[pt->len] = '\0';
}

static int
addr_set(struct addr *a, const struct part *local, const struct part *dom)
{
	char	*l, *d;

	if ((l = malloc(local->len + 1)) == NULL)
		return -1;
	if ((d = malloc(dom->len + 1)) == NULL) {
		free(l);
		return -1;
	}
	memcpy(l, local->buf, local->len + 1);
	memcpy(d, dom->buf, dom->len + 1);
	a->local = l;
	a->domain = d;
	a->literal = dom->len > 0 && dom->buf[0] == '[';
	return 0;
}

void
addr_free(struct addr *a)
{
	if (a == NULL)
		return;
	free(a->local);
	free(a->domain);
	a->local = a->domain = NULL;
	a->literal = 0;
}

void
addr_list_free(struct addr_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		addr_free(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
	l->flags = 0;
}

/* ------------------------------------------------------------------ */
/* Envelope: RFC 5321 Reverse-path                                     */
/* ------------------------------------------------------------------ */

/* Dot-string / Quoted-string into local; returns the byte after it or
 * NULL. */
static const unsigned char *
env_local(const unsigned char *p, struct part *local)
{
	if (*p == '"') {
		for (p++; *p != '"'; p++) {
			if (*p == '\\') {
				p++;
				if (*p < 32 || *p > 126)
					return NULL;
			} else if (*p < 32 || *p == 127)
				return NULL;	/* also the missing '"' */
			part_put(local, *p);
		}
		return p + 1;
	}
	for (;;) {
		if (!is_atext(*p))
			return NULL;	/* empty atom: "", ".a", "a..b", "a." */
		while (is_atext(*p))
			part_put(local, *p++);
		if (*p != '.')
			return p;
		part_put(local, *p++);
	}
}

/* Domain or address-literal into dom; returns the byte after it or NULL. */
static const unsigned char *
env_domain(const unsigned char *p, struct part *dom)
{
	if (*p == '[') {
		part_put(dom, *p++);
		if (*p == ']')
			return NULL;
		/* dcontent: %d33-90 / %d94-126 */
		for (; *p != ']'; p++) {
			if (*p < 33 || *p > 126 || *p == '[' || *p == '\\')
				return NULL;
			part_put(dom, *p);
		}
		part_put(dom, *p++);
		return p;
	}
	for (;;) {
		/* sub-domain = Let-dig [Ldh-str]: no hyphen at either end */
		if (!is_letdig(*p))
			return NULL;
		while (is_letdig(*p) || *p == '-')
			part_put(dom, *p++);
		if (p[-1] == '-')
			return NULL;
		if (*p != '.')
			return p;
		part_put(dom, *p++);
		if (!is_letdig(*p))
			return p;	/* root dot, as in DNS */
	}
}

/* Source route "@a,@b:" as in RFC 5321 A-d-l; returns after ':' or NULL. */
static const unsigned char *
env_route(const unsigned char *p)
{
	char		 scratch[ADDR_MAX_DOMAIN + 1];
	struct part	 dom;

	for (;;) {
		if (*p != '@')
			return NULL;
		part_init(&dom, scratch, ADDR_MAX_DOMAIN);
		if ((p = env_domain(p + 1, &dom)) == NULL || dom.over)
			return NULL;
		if (*p == ':')
			return p + 1;
		if (*p != ',')
			return NULL;
		p++;
	}
}

/* What may follow the path: nothing, or SP-separated esmtp-param
 * (keyword ["=" value]) as in "<a@b> SIZE=123". */
static int
env_params_ok(const unsigned char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	while (*p != '\0') {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9')))
			return 0;
		while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-')
			p++;
		if (*p == '=') {
			for (p++; *p > 32 && *p < 127 && *p != '='; p++)
				;
		}
		if (*p != '\0' && *p != ' ' && *p != '\t')
			return 0;
		while (*p == ' ' || *p == '\t')
			p++;
	}
	return 1;
}

int
addr_parse_envelope(const char *arg, struct addr *out)
{
	char			 lbuf[ADDR_MAX_LOCAL + 1];
	char			 dbuf[ADDR_MAX_DOMAIN + 1];
	struct part		 local, dom;
	const unsigned char	*p = (const unsigned char *)arg;
	int			 angle = 0;

	if (arg == NULL || strnlen(arg, ENVELOPE_MAX + 1) > ENVELOPE_MAX)
		return ADDR_ESYNTAX;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return ADDR_NULL;
	if (*p == '<') {
		angle = 1;
		p++;
		if (*p == '>')
			return env_params_ok(p + 1) ? ADDR_NULL : ADDR_ESYNTAX;
		if (*p == '@' && (p = env_route(p)) == NULL)
			return ADDR_ESYNTAX;
	}
	part_init(&local, lbuf, ADDR_MAX_LOCAL);
	part_init(&dom, dbuf, ADDR_MAX_DOMAIN);
	if ((p = env_local(p, &local)) == NULL || *p != '@')
		return ADDR_ESYNTAX;
	if ((p = env_domain(p + 1, &dom)) == NULL)
		return ADDR_ESYNTAX;
	if (angle && *p++ != '>')
		return ADDR_ESYNTAX;
	if (*p != '\0' && *p != ' ' && *p != '\t')
		return ADDR_ESYNTAX;
	if (!env_params_ok(p) || local.over || dom.over)
		return ADDR_ESYNTAX;
	if (addr_set(out, &local, &dom) == -1)
		return ADDR_ENOMEM;
	return ADDR_OK;
}

/* ------------------------------------------------------------------ */
/* Header: tokenizer                                                   */
/* ------------------------------------------------------------------ */

enum {
	T_END = 256,	/* end of input (or of the span being recovered) */
	T_ATOM,		/* run of atext */
	T_QSTR,		/* quoted string, quotes included */
	T_DLIT,		/* domain literal, brackets included */
	T_BAD		/* one byte that starts no token */
};
/* Other token types are the special itself: < > @ , ; : . */

struct tok {
	int			 type;
	const unsigned char	*s, *e;	/* raw span */
};

struct lex {
	const unsigned char	*p, *end;
	int			 flags;
};

static int
is_wsp(unsigned char c)
{
	/* CR and LF too: folding is just whitespace once unfolded, and a
	 * bare LF is how many MTAs hand a folded value over. */
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Skip whitespace and (nested) comments. */
static void
skip_cfws(struct lex *lx)
{
	const unsigned char	*p = lx->p;
	int			 depth;

	for (;;) {
		while (p < lx->end && is_wsp(*p))
			p++;
		if (p == lx->end || *p != '(')
			break;
		for (depth = 0; p < lx->end; p++) {
			if (*p == '\\') {
				if (++p == lx->end)
					break;
				if (*p == '\0')
					lx->flags |= ADDR_F_MALFORMED;
			} else if (*p == '\0')
				lx->flags |= ADDR_F_MALFORMED;
			else if (*p == '(')
				depth++;
			else if (*p == ')' && --depth == 0) {
				p++;
				break;
			}
		}
		if (depth > 0)
			lx->flags |= ADDR_F_MALFORMED;	/* unterminated */
	}
	lx->p = p;
}

/* Scan to the closing byte of a quoted string or domain literal. */
static const unsigned char *
scan_quoted(struct lex *lx, const unsigned char *p, unsigned char close)
{
	for (p++; p < lx->end; p++) {
		if (*p == '\\') {
			if (++p == lx->end)
				break;
			if (*p == '\0')
				lx->flags |= ADDR_F_MALFORMED;
		} else if (*p == '\0')
			lx->flags |= ADDR_F_MALFORMED;
		else if (*p == close)
			return p + 1;
		else if (close == ']' && *p == '[')
			lx->flags |= ADDR_F_MALFORMED;
	}
	lx->flags |= ADDR_F_MALFORMED;	/* unterminated */
	return lx->end;
}

/* The next token, without consuming it. */
static void
peek(struct lex *lx, struct tok *t)
{
	const unsigned char	*p;

	skip_cfws(lx);
	p = t->s = lx->p;
	if (p == lx->end) {
		t->type = T_END;
		t->e = p;
		return;
	}
	if (is_atext(*p)) {
		while (p < lx->end && is_atext(*p))
			p++;
		t->type = T_ATOM;
	} else if (*p == '"') {
		p = scan_quoted(lx, p, '"');
		t->type = T_QSTR;
	} else if (*p == '[') {
		p = scan_quoted(lx, p, ']');
		t->type = T_DLIT;
	} else if (strchr("<>@,;:.", *p) != NULL && *p != '\0') {
		t->type = *p++;
	} else {
		if (*p == '\0')
			lx->flags |= ADDR_F_MALFORMED;
		t->type = T_BAD;
		p++;
	}
	t->e = p;
}

static int
peek_type(struct lex *lx)
{
	struct tok t;

	peek(lx, &t);
	return t.type;
}

static void
take(struct lex *lx, const struct tok *t)
{
	lx->p = t->e;
}

static int
is_word(int type)
{
	return type == T_ATOM || type == T_QSTR;
}

static int
is_delim(int type, int in_group)
{
	return type == T_END || type == ',' || (in_group && type == ';');
}

/* Append a word to local, removing quotes, quoted-pair backslashes and
 * the CR/LF of folding (the WSP after them is content). */
static void
put_word(struct part *pt, const struct tok *t)
{
	const unsigned char	*p = t->s, *e = t->e;

	if (t->type == T_ATOM) {
		while (p < e)
			part_put(pt, *p++);
		return;
	}
	p++;
	if (e > p && e[-1] == '"')
		e--;
	for (; p < e; p++) {
		if (*p == '\\' && p + 1 < e)
			p++;
		else if (*p == '\r' || *p == '\n')
			continue;
		part_put(pt, *p);
	}
}

/* ------------------------------------------------------------------ */
/* Header: parser                                                      */
/* ------------------------------------------------------------------ */

struct found {
	char		lbuf[ADDR_MAX_LOCAL + 1];
	char		dbuf[ADDR_MAX_DOMAIN + 1];
	struct part	local, domain;
};

/* local-part = word *("." word)   (obs-local-part, CFWS anywhere) */
static int
parse_local(struct lex *lx, struct part *local)
{
	struct tok t;

	peek(lx, &t);
	if (!is_word(t.type))
		return -1;
	for (;;) {
		put_word(local, &t);
		take(lx, &t);
		peek(lx, &t);
		if (t.type != '.')
			return 0;
		take(lx, &t);
		part_put(local, '.');
		peek(lx, &t);
		if (!is_word(t.type))
			return -1;
	}
}

/* domain = atom *("." atom) / domain-literal   (obs-domain, CFWS around
 * dots).  A trailing dot is kept and flagged: it is how DNS writes an
 * absolute name and domain_normalise strips it. */
static int
parse_domain(struct lex *lx, struct part *dom)
{
	struct tok		 t;
	const unsigned char	*p;

	peek(lx, &t);
	if (t.type == T_DLIT) {
		for (p = t.s; p < t.e; p++)
			if (*p != '\r' && *p != '\n')
				part_put(dom, *p);
		if (t.e[-1] != ']')
			return -1;	/* unterminated */
		take(lx, &t);
		return 0;
	}
	if (t.type != T_ATOM)
		return -1;
	for (;;) {
		for (p = t.s; p < t.e; p++)
			part_put(dom, *p);
		take(lx, &t);
		peek(lx, &t);
		if (t.type != '.')
			return 0;
		take(lx, &t);
		part_put(dom, '.');
		peek(lx, &t);
		if (t.type != T_ATOM) {
			lx->flags |= ADDR_F_MALFORMED;
			return 0;
		}
	}
}

static int
parse_addr_spec(struct lex *lx, struct found *f)
{
	part_init(&f->local, f->lbuf, ADDR_MAX_LOCAL);
	part_init(&f->domain, f->dbuf, ADDR_MAX_DOMAIN);
	if (parse_local(lx, &f->local) == -1)
		return -1;
	if (peek_type(lx) != '@')
		return -1;
	lx->p++;	/* peek left lx->p at the '@' */
	return parse_domain(lx, &f->domain);
}

/* After "<": [obs-route] addr-spec ">".  With lenient set, a missing ">"
 * at the end of the span is forgiven (recovery). */
static int
parse_angle_inner(struct lex *lx, struct found *f, int lenient)
{
	struct tok	t;
	char		scratch[ADDR_MAX_DOMAIN + 1];
	struct part	route;

	peek(lx, &t);
	if (t.type == '@' || t.type == ',') {
		/* obs-domain-list: the route is parsed and dropped */
		while (t.type == '@' || t.type == ',') {
			take(lx, &t);
			if (t.type == '@') {
				part_init(&route, scratch, ADDR_MAX_DOMAIN);
				if (parse_domain(lx, &route) == -1)
					return -1;
			}
			peek(lx, &t);
		}
		if (t.type != ':')
			return -1;
		take(lx, &t);
	}
	if (parse_addr_spec(lx, f) == -1)
		return -1;
	peek(lx, &t);
	if (t.type == '>') {
		take(lx, &t);
		return 0;
	}
	return lenient && t.type == T_END ? 0 : -1;
}

struct parser {
	struct lex		 lx;
	addr_visit_fn		*fn;
	void			*arg;
	int			 stop;	/* fn said so: parse no further */
};

/* Hand one address to the visitor.  -1: the visitor failed. */
static int
emit(struct parser *ps, const struct found *f)
{
	struct addr	a;
	int		r;

	if (f->local.over || f->domain.over || f->domain.len == 0) {
		ps->lx.flags |= ADDR_F_MALFORMED;
		return 0;
	}
	if (ps->stop)
		return 0;
	a.local = (char *)f->lbuf;
	a.domain = (char *)f->dbuf;
	a.literal = f->dbuf[0] == '[';
	if ((r = ps->fn(ps->arg, &a)) < 0)
		return -1;
	if (r > 0) {
		/* The rest of the field is skipped: nothing more to find. */
		ps->stop = 1;
		ps->lx.p = ps->lx.end;
	}
	return 0;
}

enum mb { MB_OK, MB_EMPTY, MB_GROUP, MB_FAIL };

/* mailbox = name-addr / addr-spec, or the start of a group
 * (display-name ":"), each followed by a list delimiter. */
static enum mb
try_mailbox(struct lex *lx, int in_group, struct found *f)
{
	const unsigned char	*start = lx->p;
	struct tok		 t;
	int			 words = 0;

	if (parse_addr_spec(lx, f) == 0 && is_delim(peek_type(lx), in_group))
		return MB_OK;
	lx->p = start;

	/* display-name = phrase, with obs-phrase's "." */
	for (peek(lx, &t); is_word(t.type) || t.type == '.'; peek(lx, &t)) {
		words++;
		take(lx, &t);
	}
	if (t.type == ':' && !in_group && words > 0) {
		take(lx, &t);
		return MB_GROUP;
	}
	if (t.type != '<')
		return MB_FAIL;
	take(lx, &t);
	if (peek_type(lx) == '>') {
		/* "<>": the null path of Return-Path; no address */
		lx->p++;
		return is_delim(peek_type(lx), in_group) ? MB_EMPTY : MB_FAIL;
	}
	if (parse_angle_inner(lx, f, 0) == -1)
		return MB_FAIL;
	return is_delim(peek_type(lx), in_group) ? MB_OK : MB_FAIL;
}

/* An element that does not parse: keep what looks like an address in it.
 * If it has angle brackets, the angle-addrs are what the sender meant
 * (the display name may hold a bare '@'); otherwise every run of
 * local "@" domain tokens.  Leaves lx->p at the element's delimiter. */
static int
recover(struct parser *ps, const unsigned char *start, int in_group)
{
	struct lex		*lx = &ps->lx;
	const unsigned char	*span_end, *save_end = lx->end, *chain = NULL;
	struct found		 f;
	struct tok		 t;
	int			 angles = 0, last = 0, rc = 0;

	lx->flags |= ADDR_F_MALFORMED;
	lx->p = start;
	for (peek(lx, &t); !is_delim(t.type, in_group); peek(lx, &t)) {
		angles += t.type == '<';
		take(lx, &t);
	}
	span_end = t.s;
	lx->end = span_end;

	lx->p = start;
	for (peek(lx, &t); t.type != T_END; peek(lx, &t)) {
		if (angles > 0) {
			take(lx, &t);
			if (t.type == '<' && parse_angle_inner(lx, &f, 1) == 0 &&
			    (rc = emit(ps, &f)) == -1)
				break;
			continue;
		}
		/* chain: the start of the latest word *("." word) run */
		if (is_word(t.type)) {
			if (last != '.' || chain == NULL)
				chain = t.s;
		} else if (t.type == '.') {
			if (last != T_ATOM)
				chain = NULL;
		} else if (t.type == '@' && chain != NULL && last == T_ATOM) {
			lx->p = chain;
			if (parse_addr_spec(lx, &f) == 0) {
				if ((rc = emit(ps, &f)) == -1)
					break;
				chain = NULL;
				last = 0;
				continue;
			}
			lx->p = t.s;
			chain = NULL;
		} else
			chain = NULL;
		last = is_word(t.type) ? T_ATOM : t.type;
		take(lx, &t);
	}
	lx->end = save_end;
	lx->p = span_end;
	return rc;
}

static int
parse_element(struct parser *ps, int in_group)
{
	struct lex		*lx = &ps->lx;
	const unsigned char	*start = lx->p;
	struct found		 f;
	int			 type;

	switch (try_mailbox(lx, in_group, &f)) {
	case MB_OK:
		return emit(ps, &f);
	case MB_EMPTY:
		return 0;
	case MB_FAIL:
		return recover(ps, start, in_group);
	case MB_GROUP:
		break;
	}
	/* group-list: mailboxes up to ";" */
	for (;;) {
		type = peek_type(lx);
		if (type == ';') {
			lx->p++;
			break;
		}
		if (type == T_END) {
			lx->flags |= ADDR_F_MALFORMED;	/* no ";" */
			return 0;
		}
		if (type == ',') {
			lx->p++;
			continue;
		}
		if (parse_element(ps, 1) == -1)
			return -1;
	}
	if (is_delim(peek_type(lx), 0))
		return 0;
	return recover(ps, lx->p, 0);
}

int
addr_parse_header_each(const char *value, size_t len, addr_visit_fn *fn,
    void *arg)
{
	struct parser	ps;
	int		type;

	memset(&ps, 0, sizeof(ps));
	ps.fn = fn;
	ps.arg = arg;
	if (len > ADDR_MAX_FIELD) {
		len = ADDR_MAX_FIELD;
		ps.lx.flags |= ADDR_F_TRUNCATED;
	}
	ps.lx.p = (const unsigned char *)value;
	ps.lx.end = value == NULL ? ps.lx.p : ps.lx.p + len;
	while ((type = peek_type(&ps.lx)) != T_END) {
		if (type == ',') {
			ps.lx.p++;	/* empty list element (obs-addr-list) */
			continue;
		}
		if (parse_element(&ps, 0) == -1)
			return -1;
	}
	return ps.lx.flags;
}

/* addr_parse_header_list's visitor: a copy of each address, up to
 * ADDR_MAX_COUNT. */
struct keep {
	struct addr_list	*out;
	size_t			 cap;
};

/* *dst = a copy of the visitor's *a.  Returns 0, or -1 (out of memory)
 * with *dst untouched. */
static int
addr_copy(struct addr *dst, const struct addr *a)
{
	struct part	local = { (char *)a->local, strlen(a->local), 0, 0 };
	struct part	dom = { (char *)a->domain, strlen(a->domain), 0, 0 };

	return addr_set(dst, &local, &dom);
}

static int
keep_address(void *arg, const struct addr *a)
{
	struct keep		*k = arg;
	struct addr_list	*out = k->out;
	struct addr		*v;

	if (out->n >= ADDR_MAX_COUNT) {
		out->flags |= ADDR_F_TRUNCATED;
		return 0;
	}
	if (out->n == k->cap) {
		size_t ncap = k->cap ? k->cap * 2 : 4;

		if (ncap > ADDR_MAX_COUNT)
			ncap = ADDR_MAX_COUNT;
		if ((v = realloc(out->v, ncap * sizeof(*v))) == NULL)
			return -1;
		out->v = v;
		k->cap = ncap;
	}
	if (addr_copy(&out->v[out->n], a) != 0)
		return -1;
	out->n++;
	return 0;
}

int
addr_parse_header_list(const char *value, size_t len, struct addr_list *out)
{
	struct keep	k = { out, 0 };
	int		flags;

	memset(out, 0, sizeof(*out));
	if ((flags = addr_parse_header_each(value, len, keep_address,
	    &k)) < 0) {
		addr_list_free(out);
		return ADDR_ENOMEM;
	}
	out->flags |= flags;
	return 0;
}

/* addr_parse_line's visitor: the first address, and whether another
 * (not the same again) followed. */
struct one {
	struct addr	a;
	size_t		n;
};

static int
keep_one(void *arg, const struct addr *a)
{
	struct one *o = arg;

	if (o->n > 0 && strcmp(o->a.local, a->local) == 0 &&
	    strcasecmp(o->a.domain, a->domain) == 0)
		return 0;
	if (++o->n > 1)
		return 1;
	return addr_copy(&o->a, a);
}

/* The line as a CSV record: each field, unquoted, read as a header
 * field.  Returns 0, or -1 (out of memory). */
static int
line_csv_fields(const char *line, struct one *o)
{
	const char	*p = line;
	char		*field, *q;
	int		 rc = 0;

	if ((field = malloc(strlen(line) + 1)) == NULL)
		return -1;
	for (;;) {
		q = field;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '"')
			for (p++; *p != '\0'; p++) {
				if (*p == '"' && p[1] != '"') {
					p++;
					break;
				}
				p += *p == '"';		/* "" */
				*q++ = *p;
			}
		/* An unquoted field, or what follows a closing quote (not
		 * CSV, kept rather than lost). */
		while (*p != '\0' && *p != ',')
			*q++ = *p++;
		if (addr_parse_header_each(field, (size_t)(q - field), keep_one,
		    o) < 0) {
			rc = -1;
			break;
		}
		if (o->n > 1 || *p == '\0')
			break;
		p++;
	}
	free(field);
	return rc;
}

/*
 * The common line, a bare local@domain (a dot-atom, LDH labels, nothing
 * around it), read as addr_parse_envelope reads a path: the same address
 * the header reading gives, in a fraction of its time.  Returns ADDR_OK,
 * ADDR_ENOMEM, or ADDR_ESYNTAX for any other line (the header reading
 * then decides).
 */
static int
bare_line(const char *line, struct addr *out)
{
	char			 lbuf[ADDR_MAX_LOCAL + 1];
	char			 dbuf[ADDR_MAX_DOMAIN + 1];
	struct part		 local, dom;
	const unsigned char	*p = (const unsigned char *)line;

	if (*p == '"')
		return ADDR_ESYNTAX;
	part_init(&local, lbuf, ADDR_MAX_LOCAL);
	part_init(&dom, dbuf, ADDR_MAX_DOMAIN);
	if ((p = env_local(p, &local)) == NULL || *p != '@' || p[1] == '[' ||
	    (p = env_domain(p + 1, &dom)) == NULL || *p != '\0' ||
	    p[-1] == '.' || local.over || dom.over)
		return ADDR_ESYNTAX;
	return addr_set(out, &local, &dom) == -1 ? ADDR_ENOMEM : ADDR_OK;
}

int
addr_parse_line(const char *line, struct addr *out)
{
	struct one	o;
	int		rc;

	if ((rc = bare_line(line, out)) != ADDR_ESYNTAX)
		return rc;
	rc = ADDR_OK;
	memset(&o, 0, sizeof(o));
	if (addr_parse_header_each(line, strlen(line), keep_one, &o) < 0 ||
	    (o.n == 0 && line_csv_fields(line, &o) != 0))
		rc = ADDR_ENOMEM;
	else if (o.n == 0)
		rc = ADDR_ESYNTAX;
	else if (o.n > 1)
		rc = ADDR_EMANY;
	if (rc == ADDR_OK)
		*out = o.a;
	else
		addr_free(&o.a);
	return rc;
}
