/*
 * cmd-lists.c - the list database: build it from the List and
 * Fingerprints files, explain a verdict (lookup), show a domain's
 * infrastructure (fingerprint), propose fingerprints (mine), and stats.
 *
 * lookup and stats find their facts first and then print them, as text
 * or, with --json, as JSON (json.c) with the same facts.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "classify.h"
#include "ctl.h"
#include "dns.h"
#include "domain.h"
#include "infra.h"
#include "listbuild.h"
#include "listdb.h"
#include "mine.h"
#include "util.h"

/* Every error, and the first warnings unless all are asked for: public
 * lists that disagree with the allowlists give thousands, and a daily
 * update would bury its one line of news under them. */
struct build_diags {
	size_t	warnings, limit;	/* limit 0: no limit */
};

static void
build_diag(void *arg, int is_error, const char *line)
{
	struct build_diags *d = arg;

	if (!is_error && d->limit > 0 && d->warnings++ >= d->limit)
		return;
	fprintf(stderr, "%s: %s\n", is_error ? "error" : "warning", line);
}

/* Build out from the lists in and print the summary.  Returns 0, or 1
 * when no database was written (the reasons on stderr). */
static int
build_report(const struct ctl *ctl, const char *out,
    const struct listdb_input *in, size_t nin, int flags)
{
	struct listdb_build_report rep;
	struct build_diags d = { 0, ctl->all_warnings ? 0 :
	    CTL_BUILD_WARNINGS };
	int rc;

	rc = listdb_build(out, in, nin, flags, build_diag, &d, &rep);
	if (d.limit > 0 && d.warnings > d.limit)
		fprintf(stderr, "warning: %zu more warnings not shown "
		    "(disposable-ctl build --all-warnings shows them)\n",
		    d.warnings - d.limit);
	if (rc != 0) {
		fprintf(stderr, "disposable-ctl: %s not written (%zu errors)\n",
		    out, rep.errors);
		return 1;
	}
	printf("%s: %zu disposable, %zu relay, %zu allowed, %zu "
	    "fingerprints, %zu shared infrastructure (%zu warnings, %zu "
	    "entries skipped)\n", out,
	    rep.per_category[CAT_DISPOSABLE], rep.per_category[CAT_RELAY],
	    rep.per_category[CAT_ALLOWED], rep.fingerprints,
	    rep.infrastructure, rep.warnings, rep.errors);
	for (size_t j = 0; j < rep.nsources; j++)
		printf("  source %-24s %-10s %-14s %-9s %zu\n",
		    rep.source[j].name, category_name(rep.source[j].category),
		    list_kind_name(rep.source[j].kind),
		    tier_name(rep.source[j].tier), rep.source[j].entries);
	return 0;
}

int
ctl_build_configured(struct ctl *ctl, const char *out, int flags)
{
	struct listdb_input in[CONFIG_MAX_LISTS];
	size_t nin = 0;

	for (size_t j = 0; j < ctl->cfg.nlists; j++) {
		const struct config_list *l = &ctl->cfg.lists[j];

		/* A remote list builds from its last good copy, and
		 * without it until there is one. */
		in[nin++] = (struct listdb_input){ .path = l->path,
		    .category = l->category, .source = l->source,
		    .kind = l->kind, .tier = l->tier,
		    .optional = l->url[0] != '\0' };
	}
	if (nin == 0) {
		fprintf(stderr, "disposable-ctl: no lists: name them with "
		    "List in the configuration or on the command line\n");
		return 1;
	}
	return build_report(ctl, out != NULL ? out : ctl->cfg.database, in,
	    nin, flags);
}

/* A list named on build's command line: [fp:]category:source:path or
 * infra:source:path, curated.  Returns 0 with *in filled (arg cut up),
 * or a usage error (arg untouched). */
static int
list_arg(struct ctl *ctl, char *arg, struct listdb_input *in)
{
	enum list_kind kind = LIST_DOMAINS;
	char *cat = arg, *src, *path, name[16];
	int c;

	if (strncmp(arg, "fp:", 3) == 0) {
		kind = LIST_FINGERPRINTS;
		cat += 3;
	} else if (strncmp(arg, "infra:", 6) == 0)
		kind = LIST_INFRA;
	src = kind == LIST_INFRA ? arg + 6 : strchr(cat, ':');
	if (src == NULL || (path = strchr(src + (kind != LIST_INFRA),
	    ':')) == NULL)
		return ctl_usage_error(ctl, "'%s': expected "
		    "[fp:]category:source:path or infra:source:path", arg);
	snprintf(name, sizeof(name), "%.*s", kind == LIST_INFRA ? 5 :
	    (int)(src - cat), kind == LIST_INFRA ? "allow" : cat);
	c = kind == LIST_INFRA || (size_t)(src - cat) < sizeof(name) ?
	    category_byname(name) : -1;
	if (c < 0 || !listdb_category_listable((enum category)c, kind))
		return ctl_usage_error(ctl, "'%s': bad category '%s' (%s)",
		    arg, name, kind == LIST_FINGERPRINTS ?
		    "disposable or relay" : "disposable, relay or allow");
	if (kind != LIST_INFRA)
		*src++ = '\0';
	*path++ = '\0';
	*in = (struct listdb_input){ .path = path,
	    .category = (enum category)c, .source = src,
	    .kind = kind, .tier = TIER_CURATED };
	return 0;
}

int
cmd_build(struct ctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "skip-bad", no_argument, NULL, 's' },
		{ "all-warnings", no_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 }
	};
	struct listdb_input in[LISTDB_BUILD_MAX_INPUTS];
	const char *out = ctl->cfg.database;
	size_t nin = 0;
	int ch, flags = 0;

	while ((ch = ctl_getopt(ctl, argc, argv, "o:", longopts)) != -1) {
		switch (ch) {
		case 's': flags |= LISTDB_BUILD_SKIP_BAD; break;
		case 'w': ctl->all_warnings = 1; break;
		case 'o': out = optarg; break;
		default: return CTL_EXIT_ERROR;
		}
	}
	for (int i = optind; i < argc; i++) {
		if (nin == sizeof(in) / sizeof(in[0]))
			return ctl_usage_error(ctl, "more than %zu lists",
			    nin);
		if (list_arg(ctl, argv[i], &in[nin++]) != 0)
			return CTL_EXIT_ERROR;
	}
	if (nin == 0)
		return ctl_build_configured(ctl, out, flags);
	return build_report(ctl, out, in, nin, flags);
}

static void
print_sources(const struct listdb_match *m)
{
	for (size_t i = 0; i < m->nsources; i++)
		printf("%s%s (%s%s%s)", i ? ", " : "", m->sources[i],
		    m->category == CAT_ALLOWED ? "" :
		    category_name((enum category)m->source_category[i]),
		    m->category == CAT_ALLOWED ? "" : ", ",
		    tier_name((enum tier)m->source_tier[i]));
}

/* The quorum as configured: "curated 1, community 2". */
static const char *
quorum_text(const struct listdb_trust *t, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < TIER_COUNT && off < len; i++) {
		int n;

		if (t->quorum[i] == 0)
			continue;
		n = snprintf(buf + off, len - off, "%s%s %d", off ? ", " : "",
		    tier_name((enum tier)i), t->quorum[i]);
		if (n > 0)
			off += (size_t)n;
	}
	if (off == 0)
		snprintf(buf, len, "none: no listing decides");
	return buf;
}

/* What a list match means, and why (listdb.h, trust). */
static void
explain_match(const struct ctl *ctl, const struct listdb_match *m)
{
	char sup[128], q[128];

	listdb_support_text(m->support, sup, sizeof(sup));
	quorum_text(&ctl->cfg.trust, q, sizeof(q));
	if (m->category == CAT_ALLOWED)
		printf("  category:    allowed (action %s)\n",
		    action_name(ctl->cfg.policy.action[CAT_ALLOWED]));
	else if (m->decided)
		printf("  category:    %s (action %s)\n",
		    category_name(m->category),
		    action_name(ctl->cfg.policy.action[m->category]));
	else
		printf("  category:    suspicious (listed %s, action %s)\n",
		    category_name(m->category),
		    action_name(ctl->cfg.policy.action[CAT_SUSPICIOUS]));
	printf("  match:       %s (%s)\n", m->entry,
	    m->level == 0 ? "exact" : "parent domain");
	if (m->level > 0)
		printf("  level:       %d label%s up\n", m->level,
		    m->level == 1 ? "" : "s");
	printf("  sources:     ");
	print_sources(m);
	printf("\n");
	if (m->category != CAT_ALLOWED) {
		printf("  trust:       %s; the quorum is %s: %s\n", sup, q,
		    m->decided ? "it decides" : "too few to decide, a weak "
		    "signal");
		if (m->infra)
			printf("  shared:      %s is the domain of shared mail "
			    "infrastructure: only a curated source decides\n",
			    m->entry);
		if (m->conflict)
			printf("  conflict:    its sources disagree on "
			    "disposable and relay; the better supported "
			    "side wins, relay on a tie: %s\n",
			    category_name(m->category));
		if (m->allow_lost)
			printf("  overrides:   allow entry %s (a more trusted "
			    "source blocks it)\n", m->allow_entry);
	} else if (m->overridden)
		printf("  overrides:   block entry %s (the allow entry's "
		    "sources are as trusted or more)\n", m->block_entry);
}

void
ctl_json_sources(struct json *j, const struct listdb_match *m)
{
	json_open(j, "sources", '[');
	for (size_t i = 0; i < m->nsources; i++) {
		json_open(j, NULL, '{');
		json_str(j, "name", m->sources[i]);
		json_str(j, "category", m->category == CAT_ALLOWED ? "allowed" :
		    category_name((enum category)m->source_category[i]));
		json_str(j, "tier", tier_name((enum tier)m->source_tier[i]));
		json_close(j, '}');
	}
	json_close(j, ']');
}

/* explain_match's facts as JSON: "list": {...}. */
static void
json_match(struct json *j, const struct ctl *ctl, const struct listdb_match *m)
{
	char sup[128], q[128];

	json_open(j, "list", '{');
	json_str(j, "listed", category_name(m->category));
	json_str(j, "entry", m->entry);
	json_num(j, "level", (unsigned)m->level);
	ctl_json_sources(j, m);
	if (m->category == CAT_ALLOWED)
		json_str(j, "overrides_block", m->overridden ?
		    m->block_entry : NULL);
	else {
		listdb_support_text(m->support, sup, sizeof(sup));
		json_str(j, "support", sup);
		json_str(j, "quorum", quorum_text(&ctl->cfg.trust, q,
		    sizeof(q)));
		json_bool(j, "decides", m->decided);
		json_bool(j, "shared_infrastructure", m->infra);
		json_bool(j, "conflict", m->conflict);
		json_str(j, "overrides_allow", m->allow_lost ?
		    m->allow_entry : NULL);
	}
	json_close(j, '}');
}

/* Gather one domain's infrastructure on a session of its own. */
static int
gather(const char *domain, struct infra *inf)
{
	struct dns_session *sess;
	char err[256];

	if ((sess = dns_session_new(0, err, sizeof(err))) == NULL) {
		fprintf(stderr, "disposable-ctl: %s\n", err);
		return -1;
	}
	infra_start(sess, domain, 1, inf);
	(void)dns_wait(sess);
	dns_session_free(sess);
	return 0;
}

static const char *const dns_status_names[] = {
	"ok", "no data", "NXDOMAIN", "SERVFAIL", "timeout", "error"
};


static void
print_facts(const struct infra *inf)
{
	char a[64];

	if (inf->nxdomain)
		printf("  dns:         %s does not exist (NXDOMAIN)\n",
		    inf->domain);
	if (inf->null_mx)
		printf("  mx:          null MX (RFC 7505: receives no mail)\n");
	else if (inf->implicit_mx)
		printf("  mx:          none; the domain's own address is its "
		    "mail server\n");
	else if (inf->mx_status != DNS_OK && !inf->nxdomain)
		printf("  mx:          lookup failed (%s)\n",
		    dns_status_names[inf->mx_status]);
	for (size_t i = 0; i < inf->nmx; i++)
		printf("  mx:          %s\n", inf->mx[i]);
	for (size_t i = 0; i < inf->naddr; i++)
		printf("  address:     %s\n",
		    dns_addr_str(&inf->addr[i], a, sizeof(a)));
	for (size_t i = 0; i < inf->nns; i++)
		printf("  ns:          %s\n", inf->ns[i]);
	if (inf->ns_status != DNS_OK && inf->ns_status != DNS_NXDOMAIN)
		printf("  ns:          lookup failed or none (%s)\n",
		    dns_status_names[inf->ns_status]);
	if (!inf->has_spf)
		printf("  spf:         no record\n");
	for (size_t i = 0; i < inf->nspf; i++)
		printf("  spf:         includes or redirects to %s\n",
		    inf->spf[i]);
	for (size_t i = 0; i < inf->nrange; i++)
		printf("  spf range:   %s/%d\n",
		    dns_addr_str(&inf->range[i].addr, a, sizeof(a)),
		    inf->range[i].prefix);
	if (inf->spf_screened)
		printf("  spf:         %d record(s) with macros skipped "
		    "(screened, never handed to libspf2)\n",
		    inf->spf_screened);
	if (inf->spf_bad_prefix)
		printf("  spf:         %d CIDR length(s) no address family has "
		    "(ranges dropped or records refused)\n",
		    inf->spf_bad_prefix);
	if (inf->spf_loop)
		printf("  spf:         include loop cut\n");
	if (inf->spf_limit)
		printf("  spf:         walk cut at its limits\n");
	if (inf->incomplete)
		printf("  dns:         incomplete: a lookup %s\n",
		    inf->timed_out ? "timed out" : "failed");
}

/* The options of a command that has none but --help. */
static const struct option no_options[] = { { NULL, 0, NULL, 0 } };

static void
json_names(struct json *j, const char *key, size_t n,
    const char (*v)[DNS_NAME_MAX])
{
	json_open(j, key, '[');
	for (size_t i = 0; i < n; i++)
		json_str(j, NULL, v[i]);
	json_close(j, ']');
}

/* print_facts' facts as JSON, the members of an open object. */
static void
json_facts(struct json *j, const struct infra *inf)
{
	char a[64], r[80];

	json_str(j, "domain", inf->domain);
	json_bool(j, "nxdomain", inf->nxdomain);
	json_bool(j, "null_mx", inf->null_mx);
	json_bool(j, "implicit_mx", inf->implicit_mx);
	json_str(j, "mx_status", dns_status_names[inf->mx_status]);
	json_names(j, "mx", inf->nmx, inf->mx);
	json_open(j, "addresses", '[');
	for (size_t i = 0; i < inf->naddr; i++)
		json_str(j, NULL, dns_addr_str(&inf->addr[i], a, sizeof(a)));
	json_close(j, ']');
	json_str(j, "ns_status", dns_status_names[inf->ns_status]);
	json_names(j, "ns", inf->nns, inf->ns);
	json_bool(j, "spf", inf->has_spf);
	json_names(j, "spf_includes", inf->nspf, inf->spf);
	json_open(j, "spf_ranges", '[');
	for (size_t i = 0; i < inf->nrange; i++) {
		snprintf(r, sizeof(r), "%s/%d", dns_addr_str(
		    &inf->range[i].addr, a, sizeof(a)), inf->range[i].prefix);
		json_str(j, NULL, r);
	}
	json_close(j, ']');
	json_num(j, "spf_screened", (unsigned)inf->spf_screened);
	json_num(j, "spf_bad_prefix", (unsigned)inf->spf_bad_prefix);
	json_bool(j, "spf_loop", inf->spf_loop);
	json_bool(j, "spf_limit", inf->spf_limit);
	json_bool(j, "incomplete", inf->incomplete);
	json_bool(j, "timed_out", inf->timed_out);
}

int
cmd_fingerprint(struct ctl *ctl, int argc, char **argv)
{
	int rc = CTL_EXIT_OK;

	if (ctl_getopt(ctl, argc, argv, "", no_options) != -1)
		return CTL_EXIT_ERROR;
	if (optind == argc)
		return ctl_usage_error(ctl, "no domain given");
	if (ctl_init_dns(ctl) != 0)
		return CTL_EXIT_ERROR;
	for (int i = optind; i < argc; i++) {
		struct infra *inf;
		char dom[DOMAIN_MAX + 1];

		if (domain_normalise(argv[i], dom) != DOMAIN_OK) {
			fprintf(stderr, "%s: not a valid domain name\n",
			    argv[i]);
			rc = CTL_EXIT_FOUND;
			continue;
		}
		if ((inf = calloc(1, sizeof(*inf))) == NULL ||
		    gather(dom, inf) != 0) {
			free(inf);
			return CTL_EXIT_ERROR;
		}
		printf("%s\n", dom);
		print_facts(inf);
		free(inf);
	}
	return rc;
}

/* What lookup found for one argument. */
struct lookup {
	int			 argno;		/* 1 for the first */
	const char		*typed;		/* a domain as typed; NULL for
						   an address, shown by its
						   domain only */
	const char		*invalid;	/* why it is invalid, or NULL */
	int			 parsed;	/* an address that parsed, or a
						   domain */
	char			 dom[DOMAIN_MAX + 1];	/* normalised */
	const char		*registrable;	/* NULL: a public suffix */
	struct listdb_match	 m;
	int			 weak;		/* listed, not deciding */
	struct infra		*inf;		/* NULL: DNS not asked */
	struct infra_verdict	*iv;
	enum category		 category;	/* the verdict */
};

/* Classify argument arg as the daemon would, into *r.  Returns 0, or -1
 * having said why on stderr (a database or DNS error). */
static int
lookup_one(struct listdb *db, int use_dns, const char *arg,
    struct lookup *r)
{
	struct addr a = { 0 };
	const char *raw = arg;
	char err[256];
	int st;

	r->category = CAT_INVALID;
	if (strchr(arg, '@') == NULL)
		r->typed = arg;
	else if (addr_parse_envelope(arg, &a) != ADDR_OK) {
		r->invalid = "not a mail address";
		return 0;
	} else
		raw = a.domain;
	r->parsed = 1;
	st = domain_normalise(raw, r->dom);
	addr_free(&a);
	if (st != DOMAIN_OK) {
		r->invalid = st == DOMAIN_ELITERAL ? "address literal or IP" :
		    "not a valid domain name";
		return 0;
	}
	r->registrable = domain_registrable(r->dom);
	if (listdb_lookup(db, r->dom, &r->m, err, sizeof(err)) != 0) {
		fprintf(stderr, "disposable-ctl: %s\n", err);
		return -1;
	}
	r->weak = r->m.category != CAT_CLEAN && r->m.category != CAT_ALLOWED &&
	    !r->m.decided;
	r->category = r->weak ? CAT_SUSPICIOUS : r->m.category;
	/* A listing that does not decide leaves the infrastructure to
	 * speak, as it does for a domain on no list. */
	if (!use_dns || (r->m.category != CAT_CLEAN && !r->weak))
		return 0;
	r->inf = calloc(1, sizeof(*r->inf));
	r->iv = calloc(1, sizeof(*r->iv));
	if (r->inf == NULL || r->iv == NULL) {
		fprintf(stderr, "disposable-ctl: out of memory\n");
		return -1;
	}
	if (gather(r->dom, r->inf) != 0)
		return -1;
	if (infra_match(db, r->inf, r->iv, err, sizeof(err)) != 0) {
		fprintf(stderr, "disposable-ctl: %s\n", err);
		return -1;
	}
	if (classify_infra_decides(r->weak, r->iv))
		r->category = r->iv->category;
	return 0;
}

/* The infrastructure part of lookup: each fact, and what it matched. */
static void
print_infra(const struct lookup *r)
{
	const struct infra_verdict *iv = r->iv;

	printf("  infra:       the infrastructure of %s:\n", r->dom);
	print_facts(r->inf);
	for (size_t i = 0; i < iv->nsignals; i++)
		printf("  signal:      %s (%s, %s%s%s)\n", iv->signal[i].what,
		    category_name(iv->signal[i].category),
		    iv->signal[i].strong ? "strong" : "weak",
		    iv->signal[i].sources[0] ? "; sources " : "",
		    iv->signal[i].sources);
	if (iv->shared)
		printf("  shared:      %s: mail goes to shared "
		    "infrastructure, no signal decides\n", iv->shared_what);
	if (!classify_infra_decides(r->weak, iv))
		printf("  dns:         no strong signal: it stays "
		    "suspicious\n");
	else
		printf("  %s %s (confidence %s%s%s)\n", r->weak ?
		    "dns decides:" : "category:   ",
		    category_name(iv->category), iv->confidence,
		    iv->match[0] ? ", match " : "", iv->match);
}

static void
print_lookup(const struct ctl *ctl, const struct lookup *r)
{
	/* An address is shown by its domain only: this output and its
	 * errors end up in the logs of cron jobs. */
	if (!r->parsed) {
		fprintf(stderr, "disposable-ctl: argument %d: %s\n", r->argno,
		    r->invalid);
		return;
	}
	if (r->typed == NULL)
		printf("(an address at) %s\n", r->invalid == NULL ? r->dom :
		    "an unusable domain");
	else
		printf("%s\n", r->typed);
	if (r->invalid != NULL) {
		printf("  category:    invalid (%s)\n", r->invalid);
		return;
	}
	printf("  domain:      %s\n", r->dom);
	printf("  registrable: %s\n", r->registrable != NULL ?
	    r->registrable : "(none: a public suffix)");
	if (r->m.category != CAT_CLEAN)
		explain_match(ctl, &r->m);
	else if (r->inf == NULL)
		printf("  category:    clean (no entry for %s or its "
		    "parents; DNS not asked)\n", r->dom);
	if (r->inf != NULL)
		print_infra(r);
}

/* print_lookup's facts as one JSON object. */
static void
json_lookup(struct json *j, const struct ctl *ctl, const struct lookup *r)
{
	const struct infra_verdict *iv = r->iv;

	json_open(j, NULL, '{');
	json_num(j, "argument", (unsigned)r->argno);
	/* An address by its domain only, as in the text. */
	json_str(j, "input", r->typed);
	json_bool(j, "address", r->typed == NULL);
	json_str(j, "domain", r->invalid == NULL ? r->dom : NULL);
	json_str(j, "registrable", r->invalid == NULL ? r->registrable :
	    NULL);
	json_str(j, "category", category_name(r->category));
	json_str(j, "action", action_name(ctl->cfg.policy.action[
	    r->category]));
	json_str(j, "invalid", r->invalid);
	if (r->invalid == NULL && r->m.category != CAT_CLEAN)
		json_match(j, ctl, &r->m);
	else
		json_str(j, "list", NULL);
	if (r->inf == NULL)
		json_str(j, "dns", NULL);
	else {
		json_open(j, "dns", '{');
		json_facts(j, r->inf);
		json_open(j, "signals", '[');
		for (size_t i = 0; i < iv->nsignals; i++) {
			json_open(j, NULL, '{');
			json_str(j, "what", iv->signal[i].what);
			json_str(j, "category",
			    category_name(iv->signal[i].category));
			json_str(j, "strength", iv->signal[i].strong ?
			    "strong" : "weak");
			json_str(j, "sources", iv->signal[i].sources);
			json_close(j, '}');
		}
		json_close(j, ']');
		json_str(j, "shared", iv->shared ? iv->shared_what : NULL);
		json_str(j, "category", category_name(iv->category));
		json_str(j, "confidence", iv->confidence);
		json_str(j, "match", iv->match[0] ? iv->match : NULL);
		json_bool(j, "decides", classify_infra_decides(r->weak, iv));
		json_close(j, '}');
	}
	json_close(j, '}');
}

/* mine: the domains to resolve, collected from the database. */
struct mine_names {
	char		**v;
	size_t		  n, cap;
	enum category	  want;		/* disposable or relay */
	int		  allowed;	/* collect the allowlist instead */
};


static int
mine_collect(void *arg, const char *domain, enum category c)
{
	struct mine_names *mn = arg;

	if (mn->allowed ? c != CAT_ALLOWED : c != mn->want)
		return 0;
	if (mn->n == mn->cap) {
		size_t ncap = mn->cap ? mn->cap * 2 : 1024;
		char **nv = reallocarray(mn->v, ncap, sizeof(*nv));

		if (nv == NULL)
			return -1;
		mn->v = nv;
		mn->cap = ncap;
	}
	if ((mn->v[mn->n] = strdup(domain)) == NULL)
		return -1;
	mn->n++;
	return 0;
}

static double
now_s(void)
{
	return util_mono_us() / 1e6;
}

/* Resolve names[first..] at rate domains a second, in parallel within
 * each second, handing the facts to mine_add.  A listed domain whose
 * mail goes to shared infrastructure (infra.h) gives only its name
 * servers: its MX hosts and their addresses are the provider's, and an
 * address of them is no more the service's than the host name is. */
static int
mine_resolve(struct listdb *db, struct mine *m, char **names, size_t n,
    int allowed, double rate, struct progress *pg, size_t *done,
    size_t *answered)
{
	size_t step = rate < 1 ? 1 : (size_t)rate;
	struct infra *inf;

	if ((inf = calloc(step, sizeof(*inf))) == NULL)
		return -1;
	for (size_t i = 0; i < n; i += step) {
		size_t k = n - i < step ? n - i : step;
		double t0 = now_s(), left;
		struct dns_session *sess;
		char err[256];

		if ((sess = dns_session_new(0, err, sizeof(err))) == NULL) {
			fprintf(stderr, "disposable-ctl: %s\n", err);
			free(inf);
			return -1;
		}
		for (size_t j = 0; j < k; j++)
			infra_start(sess, names[i + j], 0, &inf[j]);
		(void)dns_wait(sess);
		dns_session_free(sess);
		for (size_t j = 0; j < k; j++) {
			if (inf[j].mx_status == DNS_OK ||
			    inf[j].ns_status == DNS_OK)
				(*answered)++;
			if (!allowed) {
				struct infra_verdict iv;

				if (infra_match(db, &inf[j], &iv, err,
				    sizeof(err)) != 0) {
					fprintf(stderr, "disposable-ctl: %s\n",
					    err);
					free(inf);
					return -1;
				}
				if (iv.shared)
					inf[j].nmx = inf[j].naddr = 0;
			}
			if (mine_add(m, &inf[j], allowed) != 0) {
				free(inf);
				return -1;
			}
		}
		*done += k;
		progress_update(pg, *done);
		/* The rate limit: one step a second at most. */
		left = 1.0 / (rate / (double)step) - (now_s() - t0);
		if (left > 0 && i + k < n) {
			struct timespec ts = { (time_t)left,
			    (long)((left - (time_t)left) * 1e9) };
			nanosleep(&ts, NULL);
		}
	}
	free(inf);
	return 0;
}

int
cmd_mine(struct ctl *ctl, int argc, char **argv)
{
	struct mine_names listed = { .want = CAT_DISPOSABLE };
	struct mine_names allow = { .allowed = 1 };
	struct mine_proposal *p = NULL;
	struct listdb *db;
	static const struct option longopts[] = {
		{ "min", required_argument, NULL, 'm' },
		{ "limit", required_argument, NULL, 'l' },
		{ "rate", required_argument, NULL, 'r' },
		{ "category", required_argument, NULL, 'c' },
		{ "strength", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	struct mine *m = NULL;
	struct progress pg;
	unsigned long min = 3, limit = 1000;
	size_t np = 0, done = 0, answered = 0, shown = 0, held = 0;
	double rate = 20;
	char err[1024], *end;
	const char *strength = "weak";
	int ch, failed, rc = CTL_EXIT_ERROR;

	while ((ch = ctl_getopt(ctl, argc, argv, "", longopts)) != -1) {
		switch (ch) {
		case 'm':
			if (ctl_number(ctl, "--min", optarg, 1, 1000000,
			    "a number of listed domains", &min) != 0)
				return CTL_EXIT_ERROR;
			break;
		case 'l':
			if (ctl_number(ctl, "--limit", optarg, 1, 100000000,
			    "a number of domains", &limit) != 0)
				return CTL_EXIT_ERROR;
			break;
		case 'r':
			rate = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || !(rate > 0) ||
			    rate > 100000)
				return ctl_usage_error(ctl, "--rate: '%s' is "
				    "not a number of domains a second (more "
				    "than 0, at most 100000)", optarg);
			break;
		case 's':
			strength = optarg;
			if (strcmp(strength, "weak") != 0 &&
			    strcmp(strength, "strong") != 0)
				return ctl_usage_error(ctl, "--strength: '%s' "
				    "is neither weak nor strong", optarg);
			break;
		case 'c':
			listed.want = category_byname(optarg);
			if (listed.want != CAT_DISPOSABLE &&
			    listed.want != CAT_RELAY)
				return ctl_usage_error(ctl, "--category: '%s' "
				    "is neither disposable nor relay", optarg);
			break;
		default:
			return CTL_EXIT_ERROR;
		}
	}
	if (optind < argc)
		return ctl_usage_error(ctl, "'%s': mine takes no operand",
		    argv[optind]);
	if (ctl_open_db(ctl, &db) != 0)
		return CTL_EXIT_ERROR;
	if (ctl_init_dns(ctl) != 0 ||
	    listdb_foreach(db, mine_collect, &listed, err, sizeof(err)) != 0 ||
	    listdb_foreach(db, mine_collect, &allow, err, sizeof(err)) != 0) {
		fprintf(stderr, "disposable-ctl: %s\n", err);
		goto out;
	}
	/* A sample spread over the whole (sorted) list, not its head. */
	if (listed.n > limit) {
		for (size_t i = 0; i < limit; i++) {
			size_t from = i * listed.n / limit;
			char *t = listed.v[i];

			listed.v[i] = listed.v[from];
			listed.v[from] = t;
		}
		for (size_t i = limit; i < listed.n; i++)
			free(listed.v[i]);
		listed.n = limit;
	}
	if ((m = mine_new()) == NULL)
		goto out;
	progress_start(&pg, "domains", listed.n + allow.n, 1);
	failed = mine_resolve(db, m, listed.v, listed.n, 0, rate, &pg, &done,
	    &answered) != 0 || mine_resolve(db, m, allow.v, allow.n, 1, rate,
	    &pg, &done, &answered) != 0;
	progress_end(&pg);
	if (failed || mine_result(m, min, &p, &np) != 0) {
		fprintf(stderr, "disposable-ctl: out of memory\n");
		goto out;
	}
	printf("# Fingerprints proposed by disposable-ctl mine: %zu %s "
	    "domains and %zu\n# allowlisted resolved (%zu answered); each "
	    "is shared by at least %lu\n# listed domains, by no "
	    "allowlisted one, and is no shared infrastructure.\n"
	    "# They are %s: review each before loading this file with\n"
	    "#   Fingerprints %s SOURCE PATH\n", listed.n,
	    category_name(listed.want), allow.n, answered, min, strength,
	    category_name(listed.want));
	for (size_t i = 0; i < np; i++) {
		struct fp_match fm = { 0 };
		struct dns_addr a;
		char why[512];
		int r;

		if ((r = mine_shared(db, &p[i], why, sizeof(why))) < 0) {
			fprintf(stderr, "disposable-ctl: %s\n", why);
			goto out;
		}
		if (r > 0) {
			printf("\n# not proposed: %s %s, used by %zu listed "
			    "domains: %s\n", fp_kind_name(p[i].kind),
			    p[i].value, p[i].listed, why);
			held++;
			continue;
		}
		if (p[i].kind == FP_IP) {
			if (dns_addr_parse(p[i].value, &a) == 0 &&
			    listdb_fp_addr(db, &a, a.family == AF_INET ? 32 :
			    128, &fm, err, sizeof(err)) != 0)
				fm.found = 0;
		} else if (listdb_fp_host(db, p[i].kind, p[i].value, &fm, err,
		    sizeof(err)) != 0)
			fm.found = 0;
		printf("\n# %zu listed domains, among them", p[i].listed);
		for (size_t k = 0; k < p[i].nsample; k++)
			printf("%s %s", k ? "," : "", p[i].sample[k]);
		if (fm.found)
			printf("\n# already a fingerprint: %s", fm.entry);
		printf("\n%-3s %-40s %s\n", fp_kind_name(p[i].kind),
		    p[i].value, strength);
		shown++;
	}
	printf("\n# %zu proposed, %zu held back as shared infrastructure\n",
	    shown, held);
	rc = CTL_EXIT_OK;
out:
	free(p);
	mine_free(m);
	for (size_t i = 0; i < listed.n; i++)
		free(listed.v[i]);
	for (size_t i = 0; i < allow.n; i++)
		free(allow.v[i]);
	free(listed.v);
	free(allow.v);
	listdb_close(db);
	return rc;
}

int
cmd_lookup(struct ctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "no-dns", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct listdb *db;
	struct json j;
	int ch, use_dns = ctl->cfg.dns_enabled, error = 0, found = 0;
	int json = 0;

	while ((ch = ctl_getopt(ctl, argc, argv, "", longopts)) != -1) {
		switch (ch) {
		case 'n': use_dns = 0; break;
		case 'j': json = 1; break;
		default: return CTL_EXIT_ERROR;
		}
	}
	if (optind == argc)
		return ctl_usage_error(ctl, "no domain or address given");
	if (ctl_open_db(ctl, &db) != 0 || (use_dns && ctl_init_dns(ctl) != 0))
		return CTL_EXIT_ERROR;
	json_start(&j, stdout);
	if (json)
		json_open(&j, NULL, '[');
	for (int i = optind; i < argc; i++) {
		struct lookup r = { .argno = i - optind + 1 };

		if (lookup_one(db, use_dns, argv[i], &r) != 0)
			error = 1;
		else {
			if (json)
				json_lookup(&j, ctl, &r);
			else
				print_lookup(ctl, &r);
			found |= r.category != CAT_CLEAN &&
			    r.category != CAT_ALLOWED;
		}
		free(r.inf);
		free(r.iv);
	}
	if (json) {
		json_close(&j, ']');
		putchar('\n');
	}
	listdb_close(db);
	return error ? CTL_EXIT_ERROR : found ? CTL_EXIT_FOUND : CTL_EXIT_OK;
}

int
cmd_stats(struct ctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct listdb *db;
	struct listdb_source_info *src;
	struct json j, *jp = NULL;
	size_t n = 0;
	char when[64];
	int ch, rc = CTL_EXIT_OK;

	while ((ch = ctl_getopt(ctl, argc, argv, "", longopts)) != -1) {
		if (ch != 'j')
			return CTL_EXIT_ERROR;
		jp = &j;
	}
	if (optind < argc)
		return ctl_usage_error(ctl, "'%s': stats takes no operand",
		    argv[optind]);
	if (ctl_open_db(ctl, &db) != 0)
		return CTL_EXIT_ERROR;
	ctl_iso_time(listdb_built(db), when, sizeof(when));
	if (listdb_sources(db, &src, &n) != 0)
		n = 0;
	if (jp == NULL) {
		printf("database: %s\nbuilt:    %s\nentries:  %zu\n"
		    "fingerprints: %zu\n", ctl->cfg.database, when,
		    listdb_entries(db), listdb_fp_entries(db));
		for (size_t i = 0; i < n; i++)
			printf("  source %-24s %-10s %8u  %s\n", src[i].name,
			    category_name(src[i].category), src[i].entries,
			    src[i].path);
	} else {
		json_start(jp, stdout);
		json_open(jp, NULL, '{');
		json_str(jp, "database", ctl->cfg.database);
		json_str(jp, "built", when);
		json_num(jp, "entries", listdb_entries(db));
		json_num(jp, "fingerprints", listdb_fp_entries(db));
		json_open(jp, "sources", '[');
		for (size_t i = 0; i < n; i++) {
			json_open(jp, NULL, '{');
			json_str(jp, "name", src[i].name);
			json_str(jp, "category", category_name(src[i].category));
			json_str(jp, "tier", tier_name(src[i].tier));
			json_str(jp, "kind", list_kind_name(src[i].kind));
			json_num(jp, "entries", src[i].entries);
			json_str(jp, "path", src[i].path);
			json_close(jp, '}');
		}
		json_close(jp, ']');
	}
	listdb_close(db);
	if (ctl->cfg.records[0] != '\0')
		rc = cmd_records_stats(ctl, jp);
	else if (jp != NULL)
		json_str(jp, "records", NULL);
	if (jp != NULL) {
		json_close(jp, '}');
		putchar('\n');
	}
	return rc;
}
