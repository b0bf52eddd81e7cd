/*
 * callbacks.c - the xxfi_* callbacks of disposable-milter.
 *
 * Per connection, one struct conn behind smfi_setpriv (libmilter's worker
 * pool may run one connection's callbacks on different threads, so nothing
 * lives in thread-local storage).  Per message:
 *
 *   envfrom  parse and classify the envelope sender; reject right here
 *            when its action is reject (nothing later can make it milder
 *            or harsher), else remember its verdict
 *   header   hand every address of the configured header fields to the
 *            message's senders (lib/senders.h: classified per distinct
 *            domain, within its bounds); count inbound copies of our
 *            own tag header
 *   eoh      look past the lists (DNS) for the domains they left clean,
 *            pick the decisive verdict; reject or tempfail here
 *   eom      delete forged tag headers, add ours when the action is tag,
 *            log the decision
 *
 * Every message ends in exactly one decision log line.  On an internal
 * error the message gets the OnError action (accept by default) and the
 * log line says why.  Raw addresses never leave this file except as
 * keyed hashes.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "addr.h"
#include "callbacks.h"
#include "classify.h"
#include "dns.h"
#include "log.h"
#include "metrics.h"
#include "records.h"
#include "recwriter.h"
#include "senders.h"
#include "state.h"
#include "util.h"

struct conn {
	int		 nr_hdr;	/* header callback must return NOREPLY;
					   the only per-connection field */
	struct state	*st;		/* acquired for the current message */
	int		 skip;		/* authenticated: not classified */
	struct senders	*snd;		/* the message's senders, a verdict
					   per domain; NULL until the first */
	unsigned	 malformed;	/* 1 << role of malformed fields */
	int		 ntag;		/* inbound copies of the tag header */
	struct verdict	 v;
	int		 have_v;	/* v is meaningful */
	enum action	 act;
	char		 error[256];	/* internal error, logged */
	struct dns_session *dns;	/* open during one callback only */
	int		 dns_used;	/* a session was opened */
	long		 dns_ms;	/* time spent waiting for DNS */
	int		 null_sender;	/* MAIL FROM:<>: a bounce or report */
	int		 in_flight;	/* counted in messages_in_flight */
	int		 spf_done;	/* the client's SPF, whichever */
	enum spf_result	 spf;		/* address decides in the end */
};

/* Set by the daemon's main or housekeeping thread (a store that comes
 * back), read by every callback. */
static struct recwriter *_Atomic recorder;

/* A stop lets the messages that began before it finish: main counts them
 * down (callbacks_drain); a message that begins after it is not
 * filtered. */
static atomic_int stopping;
static atomic_long messages_in_flight;

void
callbacks_set_recorder(struct recwriter *w)
{
	atomic_store(&recorder, w);
}

static void
msg_reset(struct conn *c)
{
	int nr_hdr;

	senders_free(c->snd);
	dns_session_free(c->dns);
	state_release(c->st);
	if (c->in_flight)
		atomic_fetch_sub(&messages_in_flight, 1);
	nr_hdr = c->nr_hdr;
	memset(c, 0, sizeof(*c));
	c->nr_hdr = nr_hdr;
}

/* The message's senders, made when the first one is seen; NULL (and the
 * error set) when out of memory. */
static struct senders *
senders_of(struct conn *c)
{
	if (c->snd == NULL && (c->snd = senders_new()) == NULL)
		snprintf(c->error, sizeof(c->error), "out of memory");
	return c->snd;
}

/* Some sender of the message was not classified: a bound was reached. */
static int
truncated(const struct conn *c)
{
	return c->snd != NULL && senders_truncated(c->snd);
}

static const char *
qid(SMFICTX *ctx)
{
	const char *q = smfi_getsymval(ctx, "i");

	return q != NULL && *q != '\0' ? q : "NOQUEUE";
}

/*
 * The DNS budget is the DNS time of one message, all its queries together,
 * not the time since MAIL: the headers may come long after it (a slow
 * client, delays at RCPT).  So a session lives for one callback only and
 * gets what the message's earlier DNS waits left of the budget.
 */
static int
dns_open(struct conn *c)
{
	long left = c->st->cfg.dns.budget_ms - c->dns_ms;

	if (c->dns != NULL)
		return 0;
	/* 0 would mean "the configured budget": 1 ms is spent at once. */
	if ((c->dns = dns_session_new(left > 0 ? (int)left : 1, c->error,
	    sizeof(c->error))) == NULL)
		return -1;
	c->dns_used = 1;
	return 0;
}

static void
dns_close(struct conn *c)
{
	dns_session_free(c->dns);
	c->dns = NULL;
}

/* Look past the lists for the verdicts they left clean.  Verdicts the
 * lists decided need no DNS, nor a session. */
static int
look_past_lists(struct conn *c, struct verdict *v, size_t n)
{
	const struct config *cfg = &c->st->cfg;
	size_t i;
	int64_t t0;
	int r;

	if (!cfg->dns_enabled)
		return 0;
	for (i = 0; i < n && (v[i].category != CAT_CLEAN || v[i].dns); i++)
		;
	if (i == n)
		return 0;
	if (dns_open(c) != 0)
		return -1;
	t0 = util_mono_ms();
	r = classify_infra(state_db(c->st), c->dns, 1, v, n, c->error,
	    sizeof(c->error));
	c->dns_ms += (long)(util_mono_ms() - t0);
	return r;
}

/* SPF of the client for the envelope domain: one more signal.  Skipped
 * for domains the lists decided as allowed or that are not domains, and
 * with DNS off (which keeps the daemon off the network). */
static void
check_client_spf(SMFICTX *ctx, struct conn *c)
{
	const char *ip = smfi_getsymval(ctx, "{client_addr}");
	const char *helo = smfi_getsymval(ctx, "s");
	int64_t t0;

	if (!c->st->cfg.dns_enabled || !c->st->cfg.spf_enabled ||
	    ip == NULL || *ip == '\0' || c->v.category == CAT_ALLOWED ||
	    c->v.domain[0] == '\0')
		return;
	if (dns_open(c) != 0)
		return;
	t0 = util_mono_ms();
	c->v.spf = spf_check_host(c->dns, ip, helo, c->v.domain, NULL, 0);
	c->v.spf_done = 1;
	c->dns_ms += (long)(util_mono_ms() - t0);
	/* For the log, even when a header address decides in the end. */
	c->spf = c->v.spf;
	c->spf_done = 1;
}

/* Hand the message's senders to the records store: hashes and domains
 * only.  Never waits: a full queue drops and counts. */
static void
record_message(struct conn *c, enum action done)
{
	struct record_event *ev;
	struct recwriter *w = atomic_load(&recorder);
	size_t n;

	if (w == NULL || c->snd == NULL ||
	    (n = senders_nrecorded(c->snd)) == 0 ||
	    (ev = calloc(n, sizeof(*ev))) == NULL)
		return;
	n = senders_record_events(c->snd, done, time(NULL), ev);
	for (size_t i = 0; i < n; i++)
		(void)recwriter_push(w, &ev[i]);
	free(ev);
}

/* One line per message decision: queue id first, then key=value.  The
 * metrics and the records store see the same decision. */
static void
log_decision(SMFICTX *ctx, struct conn *c, enum action done)
{
	const struct config *cfg = &c->st->cfg;
	char extra[512] = "";
	size_t n = 0;

	if (cfg->mode == MODE_OBSERVE)
		n += snprintf(extra + n, sizeof(extra) - n, " observe=%s",
		    action_name(c->act));
	for (int r = 0, first = 1; r < ROLE_COUNT && n < sizeof(extra); r++)
		if (c->malformed & (1u << r)) {
			n += snprintf(extra + n, sizeof(extra) - n, "%s%s",
			    first ? " malformed=" : ",", role_name(r));
			first = 0;
		}
	if (truncated(c) && n < sizeof(extra))
		n += snprintf(extra + n, sizeof(extra) - n, " truncated=1");
	if (c->spf_done && n < sizeof(extra))
		n += snprintf(extra + n, sizeof(extra) - n, " spf=%s",
		    spf_result_name(c->spf));
	if (c->dns_used && n < sizeof(extra))
		n += snprintf(extra + n, sizeof(extra) - n, " dns_ms=%ld",
		    c->dns_ms);
	if (c->null_sender && n < sizeof(extra))
		n += snprintf(extra + n, sizeof(extra) - n, " null_sender=1");
	if (c->ntag > 0 && n < sizeof(extra))
		n += snprintf(extra + n, sizeof(extra) - n, " stripped=%d",
		    cfg->strip_tag && cfg->mode == MODE_ENFORCE ? c->ntag : 0);
	if (c->error[0] != '\0' && n < sizeof(extra))
		snprintf(extra + n, sizeof(extra) - n, " error=\"%s\"",
		    c->error);

	if (c->error[0] != '\0')
		metrics_count_error();
	if (c->have_v && !c->skip) {
		metrics_count_message(done, c->v.category, c->v.role);
		record_message(c, done);
	}
	if (c->skip)
		log_info("qid=%s action=%s skip=authenticated%s", qid(ctx),
		    action_name(done), extra);
	else if (!c->have_v)
		log_info("qid=%s action=%s category=none%s", qid(ctx),
		    action_name(done), extra);
	else {
		char hex[HASH_HEX_LEN + 1];

		hash_to_hex(c->v.hash, hex);
		log_info("qid=%s action=%s category=%s role=%s hash=%s "
		    "domain=%s match=%s confidence=%s%s%s%s", qid(ctx),
		    action_name(done), category_name(c->v.category),
		    role_name(c->v.role), hex,
		    c->v.domain[0] ? c->v.domain : "-",
		    c->v.why[0] ? c->v.why : "-",
		    c->v.confidence ? c->v.confidence : "none",
		    c->v.match.overridden ? " overrides=" : "",
		    c->v.match.overridden ? c->v.match.block_entry : "", extra);
	}
}

/* Set the SMTP reply for a reject or tempfail from the configured reply
 * string.  A failure leaves the MTA's default reply, which is still a
 * reject or tempfail of the right class. */
static void
set_reply(SMFICTX *ctx, const char *reply)
{
	char code[4], xcode[16], text[CONFIG_REPLY_MAX * 2];
	const char *t;
	size_t j = 0;

	if (config_split_reply(reply, code, xcode, &t) != 0)
		return;
	/* smfi_setreply treats '%' as a format character. */
	for (; *t != '\0' && j + 2 < sizeof(text); t++) {
		if (*t == '%')
			text[j++] = '%';
		text[j++] = *t;
	}
	text[j] = '\0';
	if (smfi_setreply(ctx, code, xcode[0] ? xcode : NULL, text) !=
	    MI_SUCCESS)
		log_warnx("qid=%s cannot set reply %s", qid(ctx), code);
}

/* An internal error: with OnError tempfail the message ends here, else it
 * goes on and is passed (and logged with the error) at end of message. */
static sfsistat
fail_status(SMFICTX *ctx, struct conn *c)
{
	if (c->st->cfg.on_error != ONERROR_TEMPFAIL ||
	    c->st->cfg.mode == MODE_OBSERVE)
		return SMFIS_CONTINUE;
	log_decision(ctx, c, ACT_TEMPFAIL);
	msg_reset(c);
	return SMFIS_TEMPFAIL;
}

/* Carry out an early decision (reject/tempfail) and end the message. */
static sfsistat
finish_early(SMFICTX *ctx, struct conn *c)
{
	const struct config *cfg = &c->st->cfg;
	enum action done = c->act;
	sfsistat r = SMFIS_CONTINUE;

	if (cfg->mode == MODE_OBSERVE)
		done = ACT_ACCEPT;
	if (done == ACT_REJECT) {
		set_reply(ctx, cfg->reject_reply);
		r = SMFIS_REJECT;
	} else if (done == ACT_TEMPFAIL) {
		set_reply(ctx, cfg->tempfail_reply);
		r = SMFIS_TEMPFAIL;
	}
	if (r == SMFIS_CONTINUE)
		return r;
	log_decision(ctx, c, done);
	msg_reset(c);
	return r;
}

static sfsistat
dm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	struct conn *c;

	(void)f3;
	if (atomic_load(&stopping))
		return SMFIS_REJECT;	/* = do not use this filter */
	if ((f0 & CALLBACKS_ACTIONS) != CALLBACKS_ACTIONS) {
		log_warnx("MTA does not offer header changes: filter off "
		    "for this connection");
		return SMFIS_REJECT;	/* = do not use this filter */
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warnx("out of memory: filter off for this connection");
		return SMFIS_REJECT;
	}
	*pf0 = CALLBACKS_ACTIONS;
	*pf1 = f1 & CALLBACKS_SKIP_STEPS;
	if (f1 & SMFIP_NR_HDR) {
		*pf1 |= SMFIP_NR_HDR;
		c->nr_hdr = 1;
	}
	*pf2 = 0;
	*pf3 = 0;
	(void)f2;
	smfi_setpriv(ctx, c);
	smfi_setsymlist(ctx, SMFIM_ENVFROM, CALLBACKS_MACROS_ENVFROM);
	smfi_setsymlist(ctx, SMFIM_EOH, CALLBACKS_MACROS_EOH);
	smfi_setsymlist(ctx, SMFIM_EOM, CALLBACKS_MACROS_EOM);
	return SMFIS_CONTINUE;
}

static sfsistat
dm_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn *c = smfi_getpriv(ctx);
	const char *auth;
	struct addr env;
	int r;

	if (c == NULL) {
		/* No negotiate (an old MTA): allocate here. */
		if ((c = calloc(1, sizeof(*c))) == NULL)
			return SMFIS_CONTINUE;
		smfi_setpriv(ctx, c);
	}
	msg_reset(c);
	if ((c->st = state_acquire()) == NULL) {
		log_warnx("qid=%s no configuration loaded: message passed",
		    qid(ctx));
		return SMFIS_CONTINUE;
	}
	/* Counted before the stop flag is read, so that the drain either
	 * sees this message or this message sees the stop. */
	atomic_fetch_add(&messages_in_flight, 1);
	c->in_flight = 1;
	if (atomic_load(&stopping)) {
		int tempfail = c->st->cfg.on_error == ONERROR_TEMPFAIL;

		log_info("qid=%s action=%s stopping=1", qid(ctx),
		    tempfail ? "tempfail" : "accept");
		msg_reset(c);
		return tempfail ? SMFIS_TEMPFAIL : SMFIS_ACCEPT;
	}
	auth = smfi_getsymval(ctx, "{auth_authen}");
	if (c->st->cfg.skip_auth && auth != NULL && *auth != '\0') {
		c->skip = 1;
		return SMFIS_CONTINUE;
	}

	r = addr_parse_envelope(argv[0] != NULL ? argv[0] : "", &env);
	if (r == ADDR_NULL) {
		/* Nothing to classify here; the headers still are. */
		c->null_sender = 1;
		return SMFIS_CONTINUE;
	}
	if (r == ADDR_ESYNTAX) {
		c->malformed |= 1u << ROLE_ENVELOPE;
		return SMFIS_CONTINUE;
	}
	if (r != ADDR_OK) {
		snprintf(c->error, sizeof(c->error), "out of memory");
		return SMFIS_CONTINUE;
	}
	/* The address itself is needed only here: the verdict keeps its
	 * hash and domain. */
	r = classify_address(state_db(c->st), &c->st->key,
	    &c->st->cfg.policy, &env, ROLE_ENVELOPE, &c->v, c->error,
	    sizeof(c->error));
	addr_free(&env);
	if (r != 0)
		return SMFIS_CONTINUE;
	r = look_past_lists(c, &c->v, 1);
	if (r == 0)
		check_client_spf(ctx, c);
	dns_close(c);
	if (r != 0)
		return SMFIS_CONTINUE;
	/* Its domain's verdict for the header addresses at that domain. */
	if (senders_of(c) == NULL || senders_add_verdict(c->snd, &c->v) < 0) {
		snprintf(c->error, sizeof(c->error), "out of memory");
		return SMFIS_CONTINUE;
	}
	c->have_v = 1;
	c->act = policy_action(&c->st->cfg.policy, c->v.category, 0, 0);
	if (c->act == ACT_REJECT)
		return finish_early(ctx, c);
	return SMFIS_CONTINUE;
}

struct header_field {
	struct conn	*c;
	enum role	 role;
};

/* addr_parse_header_each's visitor: each address to the senders. */
static int
add_sender(void *arg, const struct addr *a)
{
	struct header_field *f = arg;
	struct conn *c = f->c;

	return senders_add(c->snd, state_db(c->st), &c->st->key,
	    &c->st->cfg.policy, a, f->role, c->error, sizeof(c->error)) < 0 ?
	    -1 : 0;
}

static sfsistat
dm_header(SMFICTX *ctx, char *name, char *value)
{
	struct conn *c = smfi_getpriv(ctx);
	struct header_field f;
	sfsistat ok;
	int role, flags;

	if (c == NULL)
		return SMFIS_CONTINUE;	/* nr_hdr unknown: cannot be set */
	ok = c->nr_hdr ? SMFIS_NOREPLY : SMFIS_CONTINUE;
	if (c->st == NULL)
		return ok;
	if (strcasecmp(name, c->st->cfg.tag_header) == 0) {
		c->ntag++;
		return ok;
	}
	if (c->skip)
		return ok;
	role = role_byname(name);
	if (role < 0 || role == ROLE_ENVELOPE ||
	    !(c->st->cfg.headers & (1u << role)))
		return ok;
	/* After an error the message gets the OnError action: no more
	 * work for it. */
	if (c->error[0] != '\0' || senders_of(c) == NULL)
		return ok;
	f.c = c;
	f.role = role;
	if ((flags = addr_parse_header_each(value, strlen(value), add_sender,
	    &f)) < 0)
		return ok;	/* the error is in c->error */
	if (flags & ADDR_F_MALFORMED)
		c->malformed |= 1u << role;
	if (flags & ADDR_F_TRUNCATED)
		senders_set_truncated(c->snd);
	return ok;
}

static sfsistat
dm_eoh(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);
	struct verdict *vs = NULL;
	size_t n = 0, best;

	if (c == NULL || c->st == NULL || c->skip)
		return SMFIS_CONTINUE;
	if (c->error[0] != '\0')
		return fail_status(ctx, c);
	/* One verdict per domain, the envelope's among them (looked at
	 * through DNS at MAIL already). */
	if (c->snd != NULL)
		vs = senders_verdicts(c->snd, &n);
	if (look_past_lists(c, vs, n) != 0) {
		dns_close(c);
		return fail_status(ctx, c);
	}
	dns_close(c);
	if (n > 0) {
		best = classify_decisive(&c->st->cfg.policy, vs, n);
		c->v = vs[best];
		c->have_v = 1;
		c->act = policy_action(&c->st->cfg.policy, c->v.category,
		    truncated(c), c->null_sender);
	}
	return finish_early(ctx, c);
}

static sfsistat
dm_eom(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);
	const struct config *cfg;
	enum action done;
	char value[1024];

	if (c == NULL || c->st == NULL)
		return SMFIS_CONTINUE;
	cfg = &c->st->cfg;
	done = c->skip || c->error[0] != '\0' ? ACT_ACCEPT : c->act;
	if (done == ACT_TAG && !c->have_v)
		done = ACT_ACCEPT;
	if (cfg->mode == MODE_OBSERVE)
		done = ACT_ACCEPT;
	else {
		/* Delete from the last copy down so indices stay valid. */
		for (int i = cfg->strip_tag ? c->ntag : 0; i > 0; i--)
			if (smfi_chgheader(ctx, (char *)cfg->tag_header, i,
			    NULL) != MI_SUCCESS)
				log_warnx("qid=%s cannot delete inbound %s "
				    "header", qid(ctx), cfg->tag_header);
		if (done == ACT_TAG) {
			if (verdict_tag_value(&c->v, truncated(c), value,
			    sizeof(value)) < 0 ||
			    smfi_insheader(ctx, 0, (char *)cfg->tag_header,
			    value) != MI_SUCCESS) {
				log_warnx("qid=%s cannot add %s header",
				    qid(ctx), cfg->tag_header);
				done = ACT_ACCEPT;
			}
		}
	}
	log_decision(ctx, c, done);
	msg_reset(c);
	return SMFIS_CONTINUE;
}

static sfsistat
dm_data(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat
dm_abort(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c != NULL)
		msg_reset(c);
	return SMFIS_CONTINUE;
}

static sfsistat
dm_close(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	/* May run without negotiate or envfrom ever having run. */
	if (c != NULL) {
		msg_reset(c);
		free(c);
		smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

long
callbacks_drain(int seconds)
{
	struct timespec tick = { 0, 50 * 1000000L };
	long left;

	atomic_store(&stopping, 1);
	for (int i = 0; i < seconds * 20; i++) {
		if ((left = atomic_load(&messages_in_flight)) <= 0)
			return 0;
		nanosleep(&tick, NULL);
	}
	return atomic_load(&messages_in_flight);
}

struct smfiDesc dm_filter = {
	.xxfi_name = "disposable-milter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = CALLBACKS_ACTIONS,
	.xxfi_envfrom = dm_envfrom,
	.xxfi_header = dm_header,
	.xxfi_eoh = dm_eoh,
	.xxfi_eom = dm_eom,
	.xxfi_abort = dm_abort,
	.xxfi_close = dm_close,
	.xxfi_data = dm_data,
	.xxfi_negotiate = dm_negotiate,
};
