/*
 * conf.h - the configuration file of the daemon and of disposable-ctl.
 *
 * "Key value" lines in the manner of OpenDKIM and OpenDMARC: a key, white
 * space, a value running to the end of the line (trailing white space
 * trimmed); "#" starts a comment anywhere outside a value that is quoted
 * with double quotes; blank lines are ignored.  Keys are case-insensitive.
 * An unknown key, a repeated key that may appear once, or a bad value is an
 * error naming the file, the line and the key.  Every key and its default
 * is documented in disposable-milter.conf(5) and in the sample file.
 */
#ifndef DM_CONF_H
#define DM_CONF_H

#include <sys/types.h>

#include <stddef.h>

#include "category.h"
#include "classify.h"
#include "dns.h"
#include "hash.h"
#include "listdb.h"
#include "listupdate.h"
#include "recwriter.h"
#include "spf.h"

/* The file both programs read when not told otherwise (-c): under the
 * sysconfdir configure was given. */
extern const char config_default_file[];

#define CONFIG_MAX_LISTS 64
#define CONFIG_PATH_MAX  1024
#define CONFIG_REPLY_MAX 512

enum config_mode { MODE_ENFORCE = 0, MODE_OBSERVE };
enum config_onerror { ONERROR_ACCEPT = 0, ONERROR_TEMPFAIL };

/*
 * List CATEGORY SOURCE LOCATION [TIER], Fingerprints CATEGORY SOURCE
 * LOCATION [TIER], Infrastructure SOURCE LOCATION [TIER].  LOCATION is a
 * file, or a remote list: https://... or file:///... (a mirror), which
 * "disposable-ctl update" fetches into SourceDir/SOURCE.list, the copy
 * the build reads.  TIER defaults to curated for a file (the admin's own
 * or the project's) and community for a remote list.
 */
struct config_list {
	enum category	category;		/* disposable, relay or allowed */
	enum list_kind	kind;			/* List, Fingerprints,
						   Infrastructure */
	enum tier	tier;
	char		source[LISTDB_SOURCE_NAME];
	char		path[CONFIG_PATH_MAX];	/* the file the build reads */
	char		url[CONFIG_PATH_MAX];	/* a remote list; "" for a file */
};

struct config {
	char	socket[CONFIG_PATH_MAX];	/* Socket */
	char	pidfile[CONFIG_PATH_MAX];	/* PidFile ("" = none) */
	char	user[256];			/* UserID user[:group] ("" = stay) */
	int	syslog;				/* Syslog yes|no */
	int	syslog_facility;		/* SyslogFacility (LOG_MAIL) */
	int	verbose;			/* LogLevel 0..2 */
	int	core_dumps;			/* CoreDumps yes|no */

	char	database[CONFIG_PATH_MAX];	/* Database */
	struct config_list lists[CONFIG_MAX_LISTS];	/* List, Fingerprints,
						   Infrastructure */
	size_t	nlists;
	char	source_dir[CONFIG_PATH_MAX];	/* SourceDir: remote lists'
						   last good copies */
	struct listdb_trust trust;		/* QuorumCurated,
						   QuorumCommunity, QuorumWeak */
	struct listupdate_config update;	/* UpdateMaxShrink,
						   UpdateMaxGrowth,
						   UpdateTimeout,
						   UpdateMaxSize */
	char	update_never_block[CONFIG_PATH_MAX];	/* UpdateNeverBlock
						   ("" = none) */
	char	update_ca_file[CONFIG_PATH_MAX];	/* UpdateCAFile
						   ("" = the system's) */

	char	keyfile[CONFIG_PATH_MAX];	/* KeyFile */
	enum hash_mode hash_mode;		/* HashMode hmac|sha256 */

	struct policy policy;			/* Action<Category>,
						   ActionTruncated,
						   NullSenderMaxAction,
						   SubaddressSeparator */
	unsigned headers;			/* HeaderFields: 1 << ROLE_* */
	char	reject_reply[CONFIG_REPLY_MAX];	/* RejectReply */
	char	tempfail_reply[CONFIG_REPLY_MAX];	/* TempfailReply */
	char	tag_header[128];		/* TagHeader */
	int	strip_tag;			/* StripTagHeader yes|no */
	enum config_mode mode;			/* Mode enforce|observe */
	int	skip_auth;			/* SkipAuthenticated yes|no */
	enum config_onerror on_error;		/* OnError accept|tempfail */

	char	records[CONFIG_PATH_MAX];	/* Records ("" = off) */
	size_t	records_mapsize;		/* RecordsMapSize (MiB) */
	struct recwriter_config rec;		/* RecordsQueue, RecordsBatch,
						   RecordsInterval,
						   RetentionDays */
	char	metrics_file[CONFIG_PATH_MAX];	/* MetricsFile ("" = off) */
	int	metrics_interval;		/* MetricsInterval (s) */
	int	stats_interval;			/* StatsInterval (s, 0 = never) */
	int	dns_enabled;			/* DNS yes|no */
	int	spf_enabled;			/* SPF yes|no */
	struct dns_config dns;			/* DNSServers, DNSTimeout,
						   DNSTries, DNSBudget,
						   DNSCacheSize, DNSMinTTL,
						   DNSMaxTTL, DNSNegativeTTL */
	struct spf_config spf;			/* SPFCacheSize */
};

/* Fill *c with the defaults: those of the modules the settings belong to
 * (policy_default, dns_config_default, recwriter_config_default, ...). */
void	config_default(struct config *c);

/* Read path into *c (which config_default should have filled).  Returns 0,
 * or -1 with "path:line: reason" in err. */
int	config_load(const char *path, struct config *c, char *err,
	    size_t errlen);

/* Check what cannot be checked line by line (e.g. a reply whose code does
 * not match its class).  Returns 0 or -1 with err. */
int	config_check(const struct config *c, char *err, size_t errlen);

/* The user and group UserID names: its GROUP, or the user's own group.
 * Returns 0 with *uid and *gid, 1 when UserID is not set (the daemon
 * stays who started it; nothing filled), or -1 with the reason in err
 * (no such user or group). */
int	config_user_ids(const struct config *c, uid_t *uid, gid_t *gid,
	    char *err, size_t errlen);

/* The name of the i-th known key, NULL past the last (for the tests that
 * hold the sample file and the manual page to every key). */
const char *config_key_name(size_t i);

/* A reply string split for smfi_setreply: "550 5.7.1 text" -> code "550",
 * xcode "5.7.1" (may be empty), text.  Returns 0 or -1 if malformed. */
int	config_split_reply(const char *reply, char code[4], char xcode[16],
	    const char **text);

#endif
