/*
 * category.c - names of categories, roles, actions, tiers and list kinds (see category.h).
 */
#include "config.h"

#include <stddef.h>
#include <strings.h>

#include "category.h"

static const char *const cat_names[CAT_COUNT] = {
	"clean", "disposable", "relay", "allowed", "invalid", "suspicious",
	"unknown"
};

static const struct {
	const char *name;	/* as in logs and the tag header */
	const char *header;	/* the header field it comes from */
} roles[ROLE_COUNT] = {
	{ "envelope", NULL },
	{ "from", "From" },
	{ "sender", "Sender" },
	{ "reply-to", "Reply-To" },
	{ "resent-from", "Resent-From" },
	{ "resent-sender", "Resent-Sender" },
	{ "disposition-notification-to", "Disposition-Notification-To" },
};

const char *
category_name(enum category c)
{
	return (unsigned)c < CAT_COUNT ? cat_names[c] : "?";
}

int
category_byname(const char *s)
{
	for (int i = 0; i < CAT_COUNT; i++)
		if (strcasecmp(s, cat_names[i]) == 0)
			return i;
	/* List files and configs say "allow" as often as "allowed". */
	if (strcasecmp(s, "allow") == 0)
		return CAT_ALLOWED;
	return -1;
}

const char *
role_name(enum role r)
{
	return (unsigned)r < ROLE_COUNT ? roles[r].name : "?";
}

const char *
role_header(enum role r)
{
	return (unsigned)r < ROLE_COUNT ? roles[r].header : NULL;
}

int
role_byname(const char *s)
{
	for (int i = 0; i < ROLE_COUNT; i++)
		if (strcasecmp(s, roles[i].name) == 0 ||
		    (roles[i].header != NULL &&
		    strcasecmp(s, roles[i].header) == 0))
			return i;
	return -1;
}

static const char *const action_names[ACT_COUNT] = {
	"accept", "tag", "tempfail", "reject"
};

const char *
action_name(enum action a)
{
	return (unsigned)a < ACT_COUNT ? action_names[a] : "?";
}

int
action_byname(const char *s)
{
	for (int i = 0; i < ACT_COUNT; i++)
		if (strcasecmp(s, action_names[i]) == 0)
			return i;
	return -1;
}

static const char *const tier_names[TIER_COUNT] = {
	"curated", "community", "weak"
};

const char *
tier_name(enum tier t)
{
	return (unsigned)t < TIER_COUNT ? tier_names[t] : "?";
}

int
tier_byname(const char *s)
{
	for (int i = 0; i < TIER_COUNT; i++)
		if (strcasecmp(s, tier_names[i]) == 0)
			return i;
	return -1;
}

static const char *const list_kind_names[LIST_KIND_COUNT] = {
	"domains", "fingerprints", "infrastructure"
};

const char *
list_kind_name(enum list_kind k)
{
	return (unsigned)k < LIST_KIND_COUNT ? list_kind_names[k] : "?";
}
