/*
 * test_config.c - the configuration file: defaults, every key, every
 * diagnostic with its line, quoting, relative paths, reply splitting,
 * socket forms, and the shipped sample file and manual page.
 */
#include "config.h"

#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "conf.h"
#include "domain.h"
#include "listbuild.h"
#include "listdb.h"
#include "t.h"



static char tmpdir[256], cfpath[512];

static void
write_conf(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK(f != NULL);
	if (f == NULL)
		return;
	fputs(text, f);
	fclose(f);
}

/* Load text as a config file over the defaults. */
static int
load(const char *text, struct config *c, char *err, size_t errlen)
{
	write_conf(cfpath, text);
	config_default(c);
	err[0] = '\0';
	return config_load(cfpath, c, err, errlen);
}

static void
check_defaults(const struct config *c)
{
	CHECK_STR(c->socket,
	    "unix:/var/spool/postfix/disposable-milter/disposable-milter.sock");
	CHECK_STR(c->pidfile, "");
	CHECK_STR(c->user, "");
	CHECK_INT(c->syslog, 1);
	CHECK_INT(c->syslog_facility, LOG_MAIL);
	CHECK_INT(c->verbose, 0);
	CHECK_STR(c->database, "/var/lib/disposable-milter/lists.db");
	CHECK_INT(c->nlists, 0);
	CHECK_STR(c->keyfile, "/etc/disposable-milter/hash.key");
	CHECK_INT(c->hash_mode, HASH_HMAC);
	CHECK_INT(c->policy.subaddr_sep, '+');
	CHECK_INT(c->policy.action[CAT_DISPOSABLE], ACT_REJECT);
	CHECK_INT(c->policy.action[CAT_RELAY], ACT_TAG);
	CHECK_INT(c->policy.action[CAT_INVALID], ACT_ACCEPT);
	CHECK_INT(c->policy.action[CAT_CLEAN], ACT_ACCEPT);
	CHECK_INT(c->policy.action[CAT_ALLOWED], ACT_ACCEPT);
	CHECK_INT(c->headers, 1u << ROLE_FROM | 1u << ROLE_SENDER |
	    1u << ROLE_REPLY_TO);
	CHECK_STR(c->reject_reply, "550 5.7.1 Sender address rejected: "
	    "disposable or anonymous mail service not accepted");
	CHECK_STR(c->tempfail_reply, "451 4.7.1 Sender address temporarily "
	    "rejected; try again later");
	CHECK_STR(c->tag_header, "X-Disposable-Sender");
	CHECK_INT(c->strip_tag, 1);
	CHECK_INT(c->mode, MODE_ENFORCE);
	CHECK_INT(c->skip_auth, 1);
	CHECK_INT(c->on_error, ONERROR_ACCEPT);
	CHECK_INT(c->policy.action[CAT_SUSPICIOUS], ACT_TAG);
	CHECK_INT(c->policy.action[CAT_UNKNOWN], ACT_ACCEPT);
	CHECK_INT(c->policy.truncated, ACT_TAG);
	CHECK_INT(c->dns_enabled, 1);
	CHECK_INT(c->spf_enabled, 1);
	CHECK_INT(c->update.max_shrink, 50);
	CHECK_INT(c->update.max_growth, 100);
	CHECK_INT(c->update.timeout, 60);
	CHECK_INT(c->update.max_size, 64);
	CHECK_STR(c->update_never_block, "");
	CHECK_STR(c->update_ca_file, "");
	CHECK_STR(c->dns.servers, "");
	CHECK_INT(c->dns.timeout_ms, 1500);
	CHECK_INT(c->dns.tries, 2);
	CHECK_INT(c->dns.budget_ms, 8000);
	CHECK_INT(c->dns.cache_size, 20000);
	CHECK_INT(c->dns.min_ttl, 60);
	CHECK_INT(c->dns.max_ttl, 86400);
	CHECK_INT(c->dns.neg_ttl, 300);
	CHECK_INT(c->spf.cache_size, 10000);
}

static void
test_defaults(void)
{
	struct config c;
	char err[1024];

	config_default(&c);
	check_defaults(&c);
	CHECK_INT(config_check(&c, err, sizeof(err)), 0);

	/* An empty file, or only comments, changes nothing. */
	CHECK_INT(load("", &c, err, sizeof(err)), 0);
	check_defaults(&c);
	CHECK_INT(load("# nothing\n\n   \n\t# more\n", &c, err, sizeof(err)),
	    0);
	check_defaults(&c);
}

static void
test_full(void)
{
	struct config c;
	char err[1024], want[1100];

	CHECK_INT(load(
	    "# every key, none at its default\n"
	    "Socket inet:8891@127.0.0.1\n"
	    "pidfile /run/dm.pid   # lower case key, trailing comment\n"
	    "USERID dm:mail\n"
	    "Syslog no\n"
	    "SyslogFacility local3\n"
	    "LogLevel 2\n"
	    "\tDatabase   /tmp/x.db  \n"
	    "List disposable main /lists/d.txt\n"
	    "List relay relays /lists/r.txt\n"
	    "List allowed ok.list /lists/with space.txt\n"
	    "KeyFile /etc/k\n"
	    "HashMode SHA256\n"
	    "SubaddressSeparator -\n"
	    "HeaderFields Reply-To,Resent-From  resent-sender, "
	    "Disposition-Notification-To\n"
	    "ActionDisposable tempfail\n"
	    "ActionRelay reject\n"
	    "ActionInvalid TAG\n"
	    "ActionClean tag\n"
	    "ActionAllowed reject\n"
	    "RejectReply \"554 5.7.0 No # not a comment, 100% sure\"\n"
	    "TempfailReply 450 Try later\n"
	    "TagHeader X-DM\n"
	    "StripTagHeader false\n"
	    "Mode observe\n"
	    "SkipAuthenticated 0\n"
	    "Fingerprints disposable fp /lists/fp.txt\n"
	    "fingerprints RELAY fp-relay rel/fp.txt\n"
	    "ActionSuspicious reject\n"
	    "ActionUnknown tempfail\n"
	    "ActionTruncated Reject\n"
	    "DNS no\n"
	    "DNSServers 127.0.0.1:5353, [::1]:53,192.0.2.1 ,2001:db8::1\n"
	    "DNSTimeout 100\n"
	    "DNSTries 5\n"
	    "DNSBudget 25000\n"
	    "DNSCacheSize 0\n"
	    "DNSMinTTL 0\n"
	    "DNSMaxTTL 604800\n"
	    "DNSNegativeTTL 30\n"
	    "SPF no\n"
	    "SPFCacheSize 0\n"
	    "UpdateMaxShrink 100\n"
	    "UpdateMaxGrowth 100000\n"
	    "UpdateNeverBlock /etc/never.txt\n"
	    "UpdateTimeout 3600\n"
	    "UpdateMaxSize 1\n"
	    "UpdateCAFile ca.pem\n"
	    "OnError tempfail\r\n",
	    &c, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK_STR(c.socket, "inet:8891@127.0.0.1");
	CHECK_STR(c.pidfile, "/run/dm.pid");
	CHECK_STR(c.user, "dm:mail");
	CHECK_INT(c.syslog, 0);
	CHECK_INT(c.syslog_facility, LOG_LOCAL3);
	CHECK_INT(c.verbose, 2);
	CHECK_STR(c.database, "/tmp/x.db");
	CHECK_INT(c.nlists, 5);
	CHECK_INT(c.lists[0].category, CAT_DISPOSABLE);
	CHECK_INT(c.lists[0].kind, LIST_DOMAINS);
	CHECK_STR(c.lists[0].source, "main");
	CHECK_STR(c.lists[0].path, "/lists/d.txt");
	CHECK_INT(c.lists[1].category, CAT_RELAY);
	CHECK_STR(c.lists[1].source, "relays");
	CHECK_STR(c.lists[1].path, "/lists/r.txt");
	CHECK_INT(c.lists[2].category, CAT_ALLOWED);
	CHECK_STR(c.lists[2].source, "ok.list");
	CHECK_STR(c.lists[2].path, "/lists/with space.txt");
	CHECK_INT(c.lists[2].kind, LIST_DOMAINS);
	CHECK_INT(c.lists[3].category, CAT_DISPOSABLE);
	CHECK_INT(c.lists[3].kind, LIST_FINGERPRINTS);
	CHECK_STR(c.lists[3].source, "fp");
	CHECK_STR(c.lists[3].path, "/lists/fp.txt");
	CHECK_INT(c.lists[4].category, CAT_RELAY);
	CHECK_INT(c.lists[4].kind, LIST_FINGERPRINTS);
	CHECK_STR(c.lists[4].source, "fp-relay");
	snprintf(want, sizeof(want), "%s/rel/fp.txt", tmpdir);
	CHECK_STR(c.lists[4].path, want);
	CHECK_INT(c.policy.action[CAT_SUSPICIOUS], ACT_REJECT);
	CHECK_INT(c.policy.action[CAT_UNKNOWN], ACT_TEMPFAIL);
	CHECK_INT(c.policy.truncated, ACT_REJECT);
	CHECK_INT(c.dns_enabled, 0);
	CHECK_INT(c.spf_enabled, 0);
	CHECK_STR(c.dns.servers, "127.0.0.1:5353,[::1]:53,192.0.2.1,"
	    "2001:db8::1");
	CHECK_INT(c.dns.timeout_ms, 100);
	CHECK_INT(c.dns.tries, 5);
	CHECK_INT(c.dns.budget_ms, 25000);
	CHECK_INT(c.dns.cache_size, 0);
	CHECK_INT(c.spf.cache_size, 0);
	CHECK_INT(c.dns.min_ttl, 0);
	CHECK_INT(c.dns.max_ttl, 604800);
	CHECK_INT(c.dns.neg_ttl, 30);
	CHECK_STR(c.keyfile, "/etc/k");
	CHECK_INT(c.hash_mode, HASH_SHA256);
	CHECK_INT(c.policy.subaddr_sep, '-');
	CHECK_INT(c.headers, 1u << ROLE_REPLY_TO | 1u << ROLE_RESENT_FROM |
	    1u << ROLE_RESENT_SENDER | 1u << ROLE_DNT);
	CHECK_INT(c.policy.action[CAT_DISPOSABLE], ACT_TEMPFAIL);
	CHECK_INT(c.policy.action[CAT_RELAY], ACT_REJECT);
	CHECK_INT(c.policy.action[CAT_INVALID], ACT_TAG);
	CHECK_INT(c.policy.action[CAT_CLEAN], ACT_TAG);
	CHECK_INT(c.policy.action[CAT_ALLOWED], ACT_REJECT);
	CHECK_STR(c.reject_reply, "554 5.7.0 No # not a comment, 100% sure");
	CHECK_STR(c.tempfail_reply, "450 Try later");
	CHECK_STR(c.tag_header, "X-DM");
	CHECK_INT(c.strip_tag, 0);
	CHECK_INT(c.mode, MODE_OBSERVE);
	CHECK_INT(c.skip_auth, 0);
	CHECK_INT(c.on_error, ONERROR_TEMPFAIL);
	CHECK_INT(c.update.max_shrink, 100);
	CHECK_INT(c.update.max_growth, 100000);
	CHECK_STR(c.update_never_block, "/etc/never.txt");
	CHECK_INT(c.update.timeout, 3600);
	CHECK_INT(c.update.max_size, 1);
	snprintf(want, sizeof(want), "%s/ca.pem", tmpdir);
	CHECK_STR(c.update_ca_file, want);
	CHECK_INT(config_check(&c, err, sizeof(err)), 0);

	/* yes/no spellings; none for the separator and the headers. */
	CHECK_INT(load("Syslog TRUE\nStripTagHeader 1\nSkipAuthenticated "
	    "No\nSubaddressSeparator none\nHeaderFields none\n", &c, err,
	    sizeof(err)), 0);
	CHECK_INT(c.syslog, 1);
	CHECK_INT(c.strip_tag, 1);
	CHECK_INT(c.skip_auth, 0);
	CHECK_INT(c.policy.subaddr_sep, '\0');
	CHECK_INT(c.headers, 0);
	CHECK_INT(config_check(&c, err, sizeof(err)), 0);
	/* The role names work as well as the header names. */
	CHECK_INT(load("HeaderFields from sender\n", &c, err, sizeof(err)), 0);
	CHECK_INT(c.headers, 1u << ROLE_FROM | 1u << ROLE_SENDER);
	/* A separator that is a comment character, quoted. */
	CHECK_INT(load("SubaddressSeparator \"#\"\n", &c, err, sizeof(err)),
	    0);
	CHECK_INT(c.policy.subaddr_sep, '#');
	/* A byte order mark before the first key. */
	CHECK_INT(load("\xef\xbb\xbfLogLevel 1\n", &c, err, sizeof(err)), 0);
	CHECK_INT(c.verbose, 1);
	/* No newline at the end of the file. */
	CHECK_INT(load("LogLevel 1", &c, err, sizeof(err)), 0);
	CHECK_INT(c.verbose, 1);
	/* A line of exactly 4096 bytes is fine. */
	{
		char line[4096 + 2];

		memset(line, 'x', 4096);
		line[0] = '#';
		line[4096] = '\n';
		line[4097] = '\0';
		CHECK_INT(load(line, &c, err, sizeof(err)), 0);
	}

	/* A file that does not exist. */
	snprintf(want, sizeof(want), "%s/nonexistent.conf", tmpdir);
	config_default(&c);
	CHECK_INT(config_load(want, &c, err, sizeof(err)), -1);
	strcat(want, ": No such file or directory");
	CHECK_STR(err, want);
}

/* Each bad file fails with exactly "cfpath:msg" and leaves the
 * configuration untouched. */
static void
test_errors(void)
{
	static const struct {
		const char *text;
		const char *msg;	/* after "path:" */
	} t[] = {
		{ "# x\nFoo bar\n", "2: unknown key 'Foo'" },
		{ "LogLevel 1\n\nActionRelay maybe\n",
		  "3: bad value for ActionRelay: 'maybe' (expected reject, "
		  "tempfail, tag or accept)" },
		{ "actiondisposable Reject\nactionclean nope\n",
		  "2: bad value for ActionClean: 'nope' (expected reject, "
		  "tempfail, tag or accept)" },
		{ "Socket unix:/a\n# c\nsocket unix:/b\n",
		  "3: Socket given twice (first on line 1)" },
		{ "Mode observe\nMode enforce\n",
		  "2: Mode given twice (first on line 1)" },
		{ "\n\nDatabase\n", "3: missing value for Database" },
		{ "Database   # only a comment\n",
		  "1: missing value for Database" },
		{ "TagHeader \"\"\n", "1: missing value for TagHeader" },
		{ "RejectReply \"550 x\n", "1: unterminated quoted value" },
		{ "RejectReply \"550 x\" y\n",
		  "1: RejectReply: text after the closing quote" },
		{ "Syslog maybe\n",
		  "1: bad value for Syslog: 'maybe' (expected yes or no)" },
		{ "StripTagHeader 2\n",
		  "1: bad value for StripTagHeader: '2' (expected yes or no)" },
		{ "LogLevel 3\n",
		  "1: bad value for LogLevel: '3' (expected 0, 1 or 2)" },
		{ "LogLevel 10\n",
		  "1: bad value for LogLevel: '10' (expected 0, 1 or 2)" },
		{ "SyslogFacility kern\n",
		  "1: bad value for SyslogFacility: 'kern' (expected mail, "
		  "daemon, user or local0 to local7)" },
		{ "HashMode md5\n",
		  "1: bad value for HashMode: 'md5' (expected hmac or "
		  "sha256)" },
		{ "Mode on\n", "1: bad value for Mode: 'on' (expected enforce "
		  "or observe)" },
		{ "OnError reject\n", "1: bad value for OnError: 'reject' "
		  "(expected accept or tempfail)" },
		{ "SubaddressSeparator ++\n",
		  "1: bad value for SubaddressSeparator: '++' (expected one "
		  "character, not a letter, digit or '@'; or none)" },
		{ "SubaddressSeparator @\n",
		  "1: bad value for SubaddressSeparator: '@' (expected one "
		  "character, not a letter, digit or '@'; or none)" },
		{ "SubaddressSeparator x\n",
		  "1: bad value for SubaddressSeparator: 'x' (expected one "
		  "character, not a letter, digit or '@'; or none)" },
		{ "HeaderFields From, Envelope\n",
		  "1: bad value for HeaderFields: 'Envelope' (expected From, "
		  "Sender, Reply-To, Resent-From, Resent-Sender or "
		  "Disposition-Notification-To)" },
		{ "HeaderFields From, To\n",
		  "1: bad value for HeaderFields: 'To' (expected From, "
		  "Sender, Reply-To, Resent-From, Resent-Sender or "
		  "Disposition-Notification-To)" },
		{ "HeaderFields , ,\n",
		  "1: bad value for HeaderFields: ', ,' (expected From, "
		  "Sender, Reply-To, Resent-From, Resent-Sender or "
		  "Disposition-Notification-To)" },
		{ "UserID :grp\n", "1: bad value for UserID: ':grp' (expected "
		  "USER or USER:GROUP)" },
		{ "UserID a:b:c\n", "1: bad value for UserID: 'a:b:c' "
		  "(expected USER or USER:GROUP)" },
		{ "UserID dm:\n", "1: bad value for UserID: 'dm:' (expected "
		  "USER or USER:GROUP)" },
		{ "List clean src /x\n", "1: bad category for List: 'clean' "
		  "(expected disposable, relay or allow)" },
		{ "List invalid src /x\n", "1: bad category for List: "
		  "'invalid' (expected disposable, relay or allow)" },
		{ "List disposable\n",
		  "1: List: expected CATEGORY SOURCE LOCATION [TIER]" },
		{ "List disposable src\n",
		  "1: List: expected CATEGORY SOURCE LOCATION [TIER]" },
		{ "List relay bad/name /x\n", "1: bad source name for List: "
		  "'bad/name' (expected 1 to 63 of A-Z a-z 0-9 . _ -)" },
		{ "List relay a /x\nList allow a /y\n",
		  "2: List: source 'a' already given on line 1" },
		{ "RejectReply 450 4.7.1 no\n",
		  "1: bad value for RejectReply: '450 4.7.1 no' (the code "
		  "must be 5xx)" },
		{ "TempfailReply 550 5.7.1 no\n",
		  "1: bad value for TempfailReply: '550 5.7.1 no' (the code "
		  "must be 4xx)" },
		{ "RejectReply 550 4.7.1 no\n",
		  "1: bad value for RejectReply: '550 4.7.1 no' (enhanced "
		  "status code 4.7.1 does not match reply code 550)" },
		{ "RejectReply 55 x\n", "1: bad value for RejectReply: '55 x' "
		  "(the reply must start with a 3-digit code)" },
		{ "RejectReply 5500 x\n", "1: bad value for RejectReply: "
		  "'5500 x' (the reply must start with a 3-digit code)" },
		{ "RejectReply 250 ok\n", "1: bad value for RejectReply: "
		  "'250 ok' (250 is not a 4xx or 5xx reply code)" },
		{ "RejectReply 590 x\n", "1: bad value for RejectReply: "
		  "'590 x' (590 is not a 4xx or 5xx reply code)" },
		{ "RejectReply 550 5.7 no\n", "1: bad value for RejectReply: "
		  "'550 5.7 no' (malformed enhanced status code)" },
		{ "RejectReply 550 5.7.1234 no\n", "1: bad value for "
		  "RejectReply: '550 5.7.1234 no' (malformed enhanced status "
		  "code)" },
		{ "TempfailReply \"451 a\tb\"\n", "1: bad value for "
		  "TempfailReply: '451 a\tb' (control character in the "
		  "text)" },
		{ "TagHeader X-Bad:Name\n", "1: bad value for TagHeader: "
		  "'X-Bad:Name' (expected a header field name: printable "
		  "ASCII, no ':' or space)" },
		{ "TagHeader \"X Bad\"\n", "1: bad value for TagHeader: "
		  "'X Bad' (expected a header field name: printable ASCII, "
		  "no ':' or space)" },
		{ "TagHeader reply-to\n", "1: bad value for TagHeader: "
		  "'reply-to' (expected a header field of its own, not one "
		  "that StripTagHeader would delete from mail)" },
		{ "Socket /run/x.sock\n", "1: bad value for Socket: "
		  "'/run/x.sock' (unknown kind of socket; expected "
		  "unix:/path, local:/path, inet:PORT@HOST or "
		  "inet6:PORT@HOST)" },
		{ "LogLevel 1\nKeyFile /a\x01 b\n",
		  "2: control character in line" },
		{ "LogLevel 1\r\nKeyFile /a\rb\n",
		  "2: control character in line" },
		{ "Fingerprints allow a /x\n", "1: bad category for "
		  "Fingerprints: 'allow' (expected disposable or relay)" },
		{ "Fingerprints clean a /x\n", "1: bad category for "
		  "Fingerprints: 'clean' (expected disposable or relay)" },
		{ "Fingerprints relay\n",
		  "1: Fingerprints: expected CATEGORY SOURCE LOCATION [TIER]" },
		{ "Fingerprints relay a:b /x\n", "1: bad source name for "
		  "Fingerprints: 'a:b' (expected 1 to 63 of A-Z a-z 0-9 . _ "
		  "-)" },
		{ "List relay a /x\nFingerprints relay a /y\n",
		  "2: Fingerprints: source 'a' already given on line 1" },
		{ "ActionSuspicious drop\n", "1: bad value for "
		  "ActionSuspicious: 'drop' (expected reject, tempfail, tag or "
		  "accept)" },
		{ "ActionUnknown x\n", "1: bad value for ActionUnknown: 'x' "
		  "(expected reject, tempfail, tag or accept)" },
		{ "ActionTruncated drop\n", "1: bad value for "
		  "ActionTruncated: 'drop' (expected reject, tempfail, tag or "
		  "accept)" },
		{ "ActionTruncated tag\nActionTruncated accept\n",
		  "2: ActionTruncated given twice (first on line 1)" },
		{ "DNS maybe\n",
		  "1: bad value for DNS: 'maybe' (expected yes or no)" },
		{ "SPF 2\n", "1: bad value for SPF: '2' (expected yes or no)" },
		{ "DNS yes\ndns no\n", "2: DNS given twice (first on line 1)" },
		{ "DNSServers ns1.example.net\n", "1: bad value for "
		  "DNSServers: 'ns1.example.net' is not ADDRESS[:PORT] or "
		  "[IPV6]:PORT (expected ADDRESS[:PORT] or [IPV6]:PORT, "
		  "comma-separated)" },
		{ "DNSServers 127.0.0.1:0\n", "1: bad value for DNSServers: "
		  "'127.0.0.1:0': the port must be 1 to 65535 (expected "
		  "ADDRESS[:PORT] or [IPV6]:PORT, comma-separated)" },
		{ "DNSServers 127.0.0.1, 127.0.0.2:65536\n", "1: bad value "
		  "for DNSServers: '127.0.0.2:65536': the port must be 1 to "
		  "65535 (expected ADDRESS[:PORT] or [IPV6]:PORT, "
		  "comma-separated)" },
		{ "DNSServers [::1]53\n", "1: bad value for DNSServers: "
		  "'[::1]53' is not ADDRESS[:PORT] or [IPV6]:PORT (expected "
		  "ADDRESS[:PORT] or [IPV6]:PORT, comma-separated)" },
		{ "DNSServers [127.0.0.1]:53\n", "1: bad value for "
		  "DNSServers: '[127.0.0.1]:53' is not ADDRESS[:PORT] or "
		  "[IPV6]:PORT (expected ADDRESS[:PORT] or [IPV6]:PORT, "
		  "comma-separated)" },
		{ "DNSServers 256.0.0.1\n", "1: bad value for DNSServers: "
		  "'256.0.0.1' is not ADDRESS[:PORT] or [IPV6]:PORT (expected "
		  "ADDRESS[:PORT] or [IPV6]:PORT, comma-separated)" },
		{ "DNSServers \", ,\"\n", "1: bad value for DNSServers: no "
		  "server (expected ADDRESS[:PORT] or [IPV6]:PORT, "
		  "comma-separated)" },
		{ "DNSTimeout 99\n", "1: bad value for DNSTimeout: '99' "
		  "(expected a number from 100 to 30000)" },
		{ "DNSTimeout 30001\n", "1: bad value for DNSTimeout: "
		  "'30001' (expected a number from 100 to 30000)" },
		{ "DNSTimeout 1.5s\n", "1: bad value for DNSTimeout: '1.5s' "
		  "(expected a number from 100 to 30000)" },
		{ "DNSTries 0\n", "1: bad value for DNSTries: '0' (expected "
		  "a number from 1 to 5)" },
		{ "DNSTries 6\n", "1: bad value for DNSTries: '6' (expected "
		  "a number from 1 to 5)" },
		{ "DNSBudget 25001\n", "1: bad value for DNSBudget: '25001' "
		  "(expected a number from 100 to 25000)" },
		{ "DNSBudget 99999999999999999999999\n", "1: bad value for "
		  "DNSBudget: '99999999999999999999999' (expected a number "
		  "from 100 to 25000)" },
		{ "DNSCacheSize -1\n", "1: bad value for DNSCacheSize: '-1' "
		  "(expected a number from 0 to 10000000)" },
		{ "DNSMinTTL 604801\n", "1: bad value for DNSMinTTL: "
		  "'604801' (expected a number from 0 to 604800)" },
		{ "DNSMaxTTL x\n", "1: bad value for DNSMaxTTL: 'x' "
		  "(expected a number from 0 to 604800)" },
		{ "DNSNegativeTTL \"\"\n",
		  "1: missing value for DNSNegativeTTL" },
		{ "SPFCacheSize 10000001\n", "1: bad value for SPFCacheSize: "
		  "'10000001' (expected a number from 0 to 10000000)" },
		{ "UpdateMaxShrink 101\n", "1: bad value for UpdateMaxShrink: "
		  "'101' (expected a number from 0 to 100)" },
		{ "UpdateMaxGrowth 100001\n", "1: bad value for "
		  "UpdateMaxGrowth: '100001' (expected a number from 0 to "
		  "100000)" },
		{ "UpdateTimeout 0\n", "1: bad value for UpdateTimeout: '0' "
		  "(expected a number from 1 to 3600)" },
		{ "UpdateMaxSize 4097\n", "1: bad value for UpdateMaxSize: "
		  "'4097' (expected a number from 1 to 4096)" },
	};
	struct config c, before;
	char err[2048], want[2048];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		write_conf(cfpath, t[i].text);
		config_default(&c);
		/* Something not at its default, to see it survive. */
		c.verbose = 2;
		c.nlists = 1;
		memcpy(&before, &c, sizeof(c));
		err[0] = '\0';
		CHECK_INT(config_load(cfpath, &c, err, sizeof(err)), -1);
		snprintf(want, sizeof(want), "%s:%s", cfpath, t[i].msg);
		CHECK_STR(err, want);
		CHECK(memcmp(&c, &before, sizeof(c)) == 0);
	}

	/* Too long: 4097 bytes before the newline, on line 2. */
	{
		char text[4200];

		strcpy(text, "# x\nDatabase /");
		memset(text + strlen(text), 'a', 4097 - 10);
		strcpy(text + 4 + 4097, "\nLogLevel 1\n");
		CHECK_INT(strchr(text + 4, '\n') - (text + 4), 4097);
		CHECK_INT(load(text, &c, err, sizeof(err)), -1);
		snprintf(want, sizeof(want), "%s:2: line too long (more than "
		    "4096 bytes)", cfpath);
		CHECK_STR(err, want);
	}
	/* A NUL byte in line 2. */
	{
		FILE *f = fopen(cfpath, "w");

		CHECK(f != NULL);
		if (f != NULL) {
			fwrite("LogLevel 1\nLogLevel\0 2\n", 1, 23, f);
			fclose(f);
		}
		config_default(&c);
		CHECK_INT(config_load(cfpath, &c, err, sizeof(err)), -1);
		snprintf(want, sizeof(want), "%s:2: NUL byte in line",
		    cfpath);
		CHECK_STR(err, want);
	}
	/* More lists than fit. */
	{
		char text[CONFIG_MAX_LISTS * 40 + 64];
		size_t n = 0;

		for (int i = 0; i <= CONFIG_MAX_LISTS; i++)
			n += (size_t)snprintf(text + n, sizeof(text) - n,
			    "List relay s%d /l/%d\n", i, i);
		CHECK_INT(load(text, &c, err, sizeof(err)), -1);
		snprintf(want, sizeof(want), "%s:%d: too many List and "
		    "Fingerprints lines (at most %d)", cfpath,
		    CONFIG_MAX_LISTS + 1, CONFIG_MAX_LISTS);
		CHECK_STR(err, want);
		/* One fewer is fine. */
		*strrchr(text, 'L') = '\0';
		CHECK_INT(load(text, &c, err, sizeof(err)), 0);
		CHECK_INT(c.nlists, CONFIG_MAX_LISTS);
		CHECK_STR(c.lists[CONFIG_MAX_LISTS - 1].source, "s63");
	}
	/* Longest source name, and one byte more. */
	{
		char text[256];

		snprintf(text, sizeof(text), "List relay %.*s /x\n",
		    LISTDB_SOURCE_NAME - 1, "0123456789012345678901234567890"
		    "1234567890123456789012345678901234567890123456789");
		CHECK_INT(load(text, &c, err, sizeof(err)), 0);
		CHECK_INT(strlen(c.lists[0].source), LISTDB_SOURCE_NAME - 1);
		snprintf(text, sizeof(text), "List relay %.*s /x\n",
		    LISTDB_SOURCE_NAME, "0123456789012345678901234567890"
		    "1234567890123456789012345678901234567890123456789");
		CHECK_INT(load(text, &c, err, sizeof(err)), -1);
		CHECK(strstr(err, ":1: bad source name for List") != NULL);
	}
}

static void
test_quoting(void)
{
	struct config c;
	char err[1024];

	CHECK_INT(load("TagHeader \"X-Q\"\n", &c, err, sizeof(err)), 0);
	CHECK_STR(c.tag_header, "X-Q");
	/* Inside quotes '#' is text; after them, a comment. */
	CHECK_INT(load("RejectReply \"550 5.7.1 #1 reason\"   # why\n", &c,
	    err, sizeof(err)), 0);
	CHECK_STR(c.reject_reply, "550 5.7.1 #1 reason");
	/* Unquoted, '#' starts a comment even in the middle. */
	CHECK_INT(load("RejectReply 550 5.7.1 no#1 reason\n", &c, err,
	    sizeof(err)), 0);
	CHECK_STR(c.reject_reply, "550 5.7.1 no");
	/* Spaces inside quotes are kept. */
	CHECK_INT(load("TempfailReply \"  451 4.3.0 x  \"\n", &c, err,
	    sizeof(err)), -1);
	CHECK(strstr(err, "3-digit code") != NULL);
	CHECK_INT(load("KeyFile \"/a b/ c \"\n", &c, err, sizeof(err)), 0);
	CHECK_STR(c.keyfile, "/a b/ c ");
	/* A quoted whole List value may hold a '#'. */
	CHECK_INT(load("List \"relay r /l/#1.txt\"\n", &c, err, sizeof(err)),
	    0);
	CHECK_STR(c.lists[0].path, "/l/#1.txt");
}

static void
test_paths(void)
{
	struct config c;
	char dir[600], path[700], want[1400], cwd[PATH_MAX], err[2048];

	snprintf(dir, sizeof(dir), "%s/etc", tmpdir);
	CHECK_INT(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/dm.conf", dir);
	write_conf(path, "List disposable a lists/d.txt\n"
	    "List allow b ../allow.txt\n"
	    "List relay c /abs/r.txt\n"
	    "Database db/lists.db\n"
	    "KeyFile hash.key\n"
	    "PidFile run/pid\n");
	config_default(&c);
	CHECK_INT(config_load(path, &c, err, sizeof(err)), 0);
	CHECK_INT(c.nlists, 3);
	snprintf(want, sizeof(want), "%s/lists/d.txt", dir);
	CHECK_STR(c.lists[0].path, want);
	snprintf(want, sizeof(want), "%s/../allow.txt", dir);
	CHECK_STR(c.lists[1].path, want);
	CHECK_STR(c.lists[2].path, "/abs/r.txt");
	snprintf(want, sizeof(want), "%s/db/lists.db", dir);
	CHECK_STR(c.database, want);
	snprintf(want, sizeof(want), "%s/hash.key", dir);
	CHECK_STR(c.keyfile, want);
	snprintf(want, sizeof(want), "%s/run/pid", dir);
	CHECK_STR(c.pidfile, want);

	/* A relative config path: resolved against the current directory
	 * too, so that the result is absolute. */
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	CHECK_INT(chdir(tmpdir), 0);
	config_default(&c);
	CHECK_INT(config_load("etc/dm.conf", &c, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "%s/etc/lists/d.txt", tmpdir);
	CHECK_STR(c.lists[0].path, want);
	CHECK_INT(chdir(dir), 0);
	config_default(&c);
	CHECK_INT(config_load("dm.conf", &c, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "%s/lists/d.txt", dir);
	CHECK_STR(c.lists[0].path, want);
	CHECK_INT(chdir(cwd), 0);

	/* The directory part is taken as written. */
	config_default(&c);
	snprintf(path, sizeof(path), "%s/./dm.conf", dir);
	CHECK_INT(config_load(path, &c, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "%s/./lists/d.txt", dir);
	CHECK_STR(c.lists[0].path, want);

	/* Loading replaces the lists rather than adding to them. */
	CHECK_INT(config_load(path, &c, err, sizeof(err)), 0);
	CHECK_INT(c.nlists, 3);

	snprintf(path, sizeof(path), "%s/dm.conf", dir);
	unlink(path);
	rmdir(dir);
}

static void
test_split_reply(void)
{
	char code[4], xcode[16];
	const char *text = NULL;

	CHECK_INT(config_split_reply("550 5.7.1 Go away", code, xcode, &text),
	    0);
	CHECK_STR(code, "550");
	CHECK_STR(xcode, "5.7.1");
	CHECK_STR(text, "Go away");
	CHECK_INT(config_split_reply("451 Try later", code, xcode, &text), 0);
	CHECK_STR(code, "451");
	CHECK_STR(xcode, "");
	CHECK_STR(text, "Try later");
	CHECK_INT(config_split_reply("421 4.3.2", code, xcode, &text), 0);
	CHECK_STR(code, "421");
	CHECK_STR(xcode, "4.3.2");
	CHECK_STR(text, "");
	CHECK_INT(config_split_reply("554", code, xcode, &text), 0);
	CHECK_STR(code, "554");
	CHECK_STR(xcode, "");
	CHECK_STR(text, "");
	CHECK_INT(config_split_reply("550 5.123.456 x", code, xcode, &text),
	    0);
	CHECK_STR(xcode, "5.123.456");
	/* '%' is left for the daemon to double. */
	CHECK_INT(config_split_reply("550 5.7.1 100% %s", code, xcode, &text),
	    0);
	CHECK_STR(text, "100% %s");
	/* A text that starts with a number is text. */
	CHECK_INT(config_split_reply("550 5 reasons", code, xcode, &text), 0);
	CHECK_STR(xcode, "");
	CHECK_STR(text, "5 reasons");
	/* The defaults split. */
	CHECK_INT(config_split_reply("451 4.7.1 Sender address temporarily "
	    "rejected; try again later", code, xcode, &text), 0);
	CHECK_STR(code, "451");
	CHECK_STR(xcode, "4.7.1");

	CHECK_INT(config_split_reply("", code, xcode, &text), -1);
	CHECK_INT(config_split_reply("55", code, xcode, &text), -1);
	CHECK_INT(config_split_reply("5500 x", code, xcode, &text), -1);
	CHECK_INT(config_split_reply("250 ok", code, xcode, &text), -1);
	CHECK_INT(config_split_reply("x50 ok", code, xcode, &text), -1);
	CHECK_INT(config_split_reply("550 4.7.1 x", code, xcode, &text), -1);
	CHECK_INT(config_split_reply("550 5.7.", code, xcode, &text), -1);
	CHECK_INT(config_split_reply("550 5..1 x", code, xcode, &text), -1);
	CHECK_INT(config_split_reply("550 5.7.1x", code, xcode, &text), -1);
	CHECK_INT(config_split_reply("550 a\r\nb", code, xcode, &text), -1);
	CHECK_INT(config_split_reply("550 a\nb", code, xcode, &text), -1);

	/* Length as smfi_setreply sees it, '%' doubled: under 980. */
	{
		char r[1200];

		memset(r, 'a', sizeof(r));
		memcpy(r, "550 ", 4);
		r[979] = '\0';		/* 979 characters */
		CHECK_INT(config_split_reply(r, code, xcode, &text), 0);
		r[979] = 'a';
		r[980] = '\0';
		CHECK_INT(config_split_reply(r, code, xcode, &text), -1);
		memset(r + 4, '%', 490);
		r[4 + 490] = '\0';	/* 4 + 2 * 490 = 984 */
		CHECK_INT(config_split_reply(r, code, xcode, &text), -1);
		r[4 + 487] = '\0';	/* 4 + 974 = 978 */
		CHECK_INT(config_split_reply(r, code, xcode, &text), 0);
		/* With an enhanced code: "550 5.7.1 " and 969 characters. */
		memset(r, 'a', sizeof(r));
		memcpy(r, "550 5.7.1 ", 10);
		r[979] = '\0';
		CHECK_INT(config_split_reply(r, code, xcode, &text), 0);
		r[979] = 'a';
		r[980] = '\0';
		CHECK_INT(config_split_reply(r, code, xcode, &text), -1);
	}
}

static void
test_socket(void)
{
	static const char *const good[] = {
		"unix:/run/dm.sock", "local:/var/spool/postfix/dm",
		"UNIX:/x", "inet:8891@127.0.0.1", "inet:1@localhost",
		"inet:65535@0.0.0.0", "inet:8891", "inet6:8891@::1",
		"inet6:8891@[::1]",
	};
	static const char *const badv[] = {
		"unix:", "unix:relative/path", "local:", "tcp:25@host",
		"/run/dm.sock", "inet:", "inet:0@localhost",
		"inet:65536@localhost", "inet:123456@h", "inet:port@host",
		"inet:25@", "inet:25:host", "inet6:@::1", "inet:-1@h",
		"unix:/run/x y",
	};
	struct config c;
	char text[512], err[1024];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), "Socket %s\n", good[i]);
		CHECK_INT(load(text, &c, err, sizeof(err)), 0);
		CHECK_STR(c.socket, good[i]);
		CHECK_INT(config_check(&c, err, sizeof(err)), 0);
	}
	for (size_t i = 0; i < sizeof(badv) / sizeof(badv[0]); i++) {
		snprintf(text, sizeof(text), "Socket \"%s\"\n", badv[i]);
		if (load(text, &c, err, sizeof(err)) != -1)
			fprintf(stderr, "accepted: %s\n", badv[i]);
		CHECK(strstr(err, ":1: bad value for Socket: '") != NULL);
	}
	/* sun_path holds 107 bytes and the NUL. */
	memset(text, 'a', sizeof(text));
	memcpy(text, "Socket unix:/", 13);
	text[13 + 106] = '\n';
	text[13 + 107] = '\0';
	CHECK_INT(load(text, &c, err, sizeof(err)), 0);
	CHECK_INT(strlen(c.socket), 5 + 107);
	text[13 + 106] = 'a';
	text[13 + 107] = '\n';
	text[13 + 108] = '\0';
	CHECK_INT(load(text, &c, err, sizeof(err)), -1);
	CHECK(strstr(err, "longer than 107 bytes") != NULL);
}

/* UserID to ids: root and its group exist on every machine; names that
 * cannot be users or groups (a space) exist on none. */
static void
test_user_ids(void)
{
	struct config c;
	char err[1024];
	uid_t uid = 99;
	gid_t gid = 99;

	config_default(&c);
	CHECK_INT(config_user_ids(&c, &uid, &gid, err, sizeof(err)), 1);
	CHECK(uid == 99 && gid == 99);
	strcpy(c.user, "root");
	CHECK_INT(config_user_ids(&c, &uid, &gid, err, sizeof(err)), 0);
	CHECK(uid == 0 && gid == 0);
	strcpy(c.user, "root:root");
	uid = gid = 99;
	CHECK_INT(config_user_ids(&c, &uid, &gid, err, sizeof(err)), 0);
	CHECK(uid == 0 && gid == 0);
	strcpy(c.user, "no such user");
	CHECK_INT(config_user_ids(&c, &uid, &gid, err, sizeof(err)), -1);
	CHECK_STR(err, "UserID no such user: no such user");
	strcpy(c.user, "root:no such group");
	CHECK_INT(config_user_ids(&c, &uid, &gid, err, sizeof(err)), -1);
	CHECK_STR(err, "UserID root:no such group: no such group");
}

static void
test_check(void)
{
	struct config c;
	char err[1024];

	config_default(&c);
	strcpy(c.reject_reply, "451 4.7.1 wrong class");
	CHECK_INT(config_check(&c, err, sizeof(err)), -1);
	CHECK_STR(err, "RejectReply: the code must be 5xx");

	config_default(&c);
	strcpy(c.tempfail_reply, "550 5.7.1 wrong class");
	CHECK_INT(config_check(&c, err, sizeof(err)), -1);
	CHECK_STR(err, "TempfailReply: the code must be 4xx");

	config_default(&c);
	c.keyfile[0] = '\0';
	CHECK_INT(config_check(&c, err, sizeof(err)), -1);
	CHECK_STR(err, "KeyFile: HashMode hmac needs a key file");
	c.hash_mode = HASH_SHA256;
	CHECK_INT(config_check(&c, err, sizeof(err)), 0);

	config_default(&c);
	c.headers |= 1u << ROLE_ENVELOPE;
	CHECK_INT(config_check(&c, err, sizeof(err)), -1);
	CHECK(strncmp(err, "HeaderFields:", 13) == 0);

	config_default(&c);
	c.policy.action[CAT_RELAY] = ACT_COUNT;
	CHECK_INT(config_check(&c, err, sizeof(err)), -1);
	CHECK(strncmp(err, "ActionRelay:", 12) == 0);

	config_default(&c);
	strcpy(c.socket, "inet:0@h");
	CHECK_INT(config_check(&c, err, sizeof(err)), -1);
	CHECK_STR(err, "Socket: the port must be 1 to 65535");

	config_default(&c);
	strcpy(c.tag_header, "From");
	CHECK_INT(config_check(&c, err, sizeof(err)), -1);
	CHECK(strncmp(err, "TagHeader:", 10) == 0);

	/* DNS settings a program filled itself. */
	config_default(&c);
	c.dns.min_ttl = 600;
	c.dns.max_ttl = 599;
	CHECK_INT(config_check(&c, err, sizeof(err)), -1);
	CHECK_STR(err, "DNSMinTTL: 600 is more than DNSMaxTTL 599");
	CHECK_INT(load("DNSMinTTL 3600\nDNSMaxTTL 60\n", &c, err,
	    sizeof(err)), 0);
	CHECK_INT(config_check(&c, err, sizeof(err)), -1);
	CHECK_STR(err, "DNSMinTTL: 3600 is more than DNSMaxTTL 60");
	CHECK_INT(load("DNSMinTTL 60\nDNSMaxTTL 60\n", &c, err,
	    sizeof(err)), 0);
	CHECK_INT(config_check(&c, err, sizeof(err)), 0);
	config_default(&c);
	c.dns.budget_ms = 30000;
	CHECK_INT(config_check(&c, err, sizeof(err)), -1);
	CHECK_STR(err, "DNSBudget: expected a number from 100 to 25000");
	config_default(&c);
	c.dns.tries = 0;
	CHECK_INT(config_check(&c, err, sizeof(err)), -1);
	CHECK_STR(err, "DNSTries: expected a number from 1 to 5");
	config_default(&c);
	c.dns.timeout_ms = 50;
	CHECK_INT(config_check(&c, err, sizeof(err)), -1);
	CHECK_STR(err, "DNSTimeout: expected a number from 100 to 30000");
	config_default(&c);
	strcpy(c.dns.servers, "127.0.0.1:99999");
	CHECK_INT(config_check(&c, err, sizeof(err)), -1);
	CHECK_STR(err, "DNSServers: '127.0.0.1:99999': the port must be 1 "
	    "to 65535");
	strcpy(c.dns.servers, "[2001:db8::53]:5353,10.0.0.1");
	CHECK_INT(config_check(&c, err, sizeof(err)), 0);
	config_default(&c);
	c.dns_enabled = 2;
	CHECK_INT(config_check(&c, err, sizeof(err)), -1);
	CHECK_STR(err, "DNS: expected yes or no");
	config_default(&c);
	c.policy.action[CAT_UNKNOWN] = ACT_COUNT;
	CHECK_INT(config_check(&c, err, sizeof(err)), -1);
	CHECK(strncmp(err, "ActionUnknown:", 14) == 0);
	config_default(&c);
	c.policy.truncated = ACT_COUNT;
	CHECK_INT(config_check(&c, err, sizeof(err)), -1);
	CHECK_STR(err, "ActionTruncated: expected reject, tempfail, tag or "
	    "accept");
	/* A fingerprint list cannot be an allowlist. */
	config_default(&c);
	c.nlists = 1;
	c.lists[0].category = CAT_ALLOWED;
	c.lists[0].kind = LIST_FINGERPRINTS;
	strcpy(c.lists[0].source, "fp");
	strcpy(c.lists[0].path, "/x");
	CHECK_INT(config_check(&c, err, sizeof(err)), -1);
	CHECK_STR(err, "List 1: category allowed cannot be listed in "
	    "fingerprints");
	c.lists[0].category = CAT_RELAY;
	CHECK_INT(config_check(&c, err, sizeof(err)), 0);

	/* A list that is the database itself would be overwritten. */
	CHECK_INT(load("Database /var/db/x\nList relay r /var/db/x\n", &c,
	    err, sizeof(err)), 0);
	CHECK_INT(config_check(&c, err, sizeof(err)), -1);
	CHECK_STR(err, "List: source 'r' reads the Database file /var/db/x");

	config_default(&c);
	c.policy.subaddr_sep = '@';
	CHECK_INT(config_check(&c, err, sizeof(err)), -1);
	c.verbose = 3;
	c.policy.subaddr_sep = '+';
	CHECK_INT(config_check(&c, err, sizeof(err)), -1);
	CHECK_STR(err, "LogLevel: expected 0, 1 or 2");
}

static void
build_diag(void *arg, int is_error, const char *line)
{
	(void)arg;
	fprintf(stderr, "%s %s\n", is_error ? "E" : "W", line);
}

/* What disposable-ctl build does with the sample: no error, no warning,
 * and every shipped fingerprint list holds entries. */
static void
build_sample(const struct config *c)
{
	struct listdb_input in[CONFIG_MAX_LISTS];
	struct listdb_build_report rep;
	char db[600], err[256];
	size_t n = 0;

	if (domain_init(NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: sample build not tested\n", err);
		CHECK(0);
		return;
	}
	/* The shipped files (the remote lists have no copy here): they
	 * build without one warning, so they do not contradict each other. */
	for (size_t i = 0; i < c->nlists; i++)
		if (c->lists[i].url[0] == '\0')
			in[n++] = (struct listdb_input){
			    .path = c->lists[i].path,
			    .category = c->lists[i].category,
			    .source = c->lists[i].source,
			    .kind = c->lists[i].kind,
			    .tier = c->lists[i].tier };
	snprintf(db, sizeof(db), "%s/sample.db", tmpdir);
	CHECK_INT(listdb_build(db, in, n, 0, build_diag, NULL, &rep), 0);
	CHECK_INT(rep.errors, 0);
	CHECK_INT(rep.warnings, 0);
	CHECK(rep.fingerprints > 0);
	CHECK(rep.infrastructure > 0);
	for (size_t i = 0; i < rep.nsources; i++)
		CHECK(rep.source[i].entries > 0);
	unlink(db);
	domain_fini();
}

/* The shipped sample loads, passes the check, names every key, and leaves
 * every key at its default except the shipped lists; the manual page
 * describes every key. */
static void
test_sample(void)
{
	const char *src = getenv("DM_SRCDIR");
	struct config c, d;
	char path[1024], err[2048], *text;
	size_t len;
	FILE *f;

	if (src == NULL || *src == '\0') {
		fprintf(stderr, "DM_SRCDIR not set: sample file not tested\n");
		CHECK(src != NULL);
		return;
	}
	snprintf(path, sizeof(path), "%s/conf/disposable-milter.conf", src);
	config_default(&c);
	err[0] = '\0';
	CHECK_INT(config_load(path, &c, err, sizeof(err)), 0);
	if (err[0] != '\0')
		fprintf(stderr, "%s\n", err);
	CHECK_INT(config_check(&c, err, sizeof(err)), 0);

	/* The shipped lists and fingerprints, found beside the sample, in
	 * the order, kind and tier it names them; then the public lists it
	 * names as remote sources. */
	{
		static const struct {
			enum category	 cat;
			enum list_kind	 kind;
			enum tier	 tier;
			const char	*file;
		} want[] = {
			{ CAT_DISPOSABLE, LIST_DOMAINS, TIER_CURATED,
			  "lists/disposable.txt" },
			{ CAT_RELAY, LIST_DOMAINS, TIER_CURATED,
			  "lists/relay.txt" },
			{ CAT_ALLOWED, LIST_DOMAINS, TIER_CURATED,
			  "lists/allow.txt" },
			{ CAT_ALLOWED, LIST_DOMAINS, TIER_COMMUNITY,
			  "lists/freemail.txt" },
			{ CAT_DISPOSABLE, LIST_FINGERPRINTS, TIER_CURATED,
			  "fingerprints/disposable.txt" },
			{ CAT_RELAY, LIST_FINGERPRINTS, TIER_CURATED,
			  "fingerprints/relay.txt" },
			{ CAT_ALLOWED, LIST_INFRA, TIER_CURATED,
			  "fingerprints/infrastructure.txt" },
		};
		size_t nwant = sizeof(want) / sizeof(want[0]), k = 0, nremote = 0;

		for (size_t i = 0; i < c.nlists; i++) {
			char file[1200];

			/* Remote lists: https, community or weak, their
			 * copy in the SourceDir. */
			if (c.lists[i].url[0] != '\0') {
				CHECK(strncmp(c.lists[i].url, "https://",
				    8) == 0);
				CHECK(c.lists[i].tier != TIER_CURATED);
				CHECK(strncmp(c.lists[i].path, c.source_dir,
				    strlen(c.source_dir)) == 0);
				nremote++;
				continue;
			}
			if (k >= nwant) {
				CHECK(k < nwant);
				break;
			}
			CHECK_INT(c.lists[i].category, want[k].cat);
			CHECK_INT(c.lists[i].kind, want[k].kind);
			CHECK_INT(c.lists[i].tier, want[k].tier);
			snprintf(file, sizeof(file), "%s/conf/%s", src,
			    want[k].file);
			CHECK_STR(c.lists[i].path, file);
			CHECK_INT(access(c.lists[i].path, R_OK), 0);
			k++;
		}
		CHECK_INT(k, nwant);
		CHECK(nremote >= 4);
	}
	build_sample(&c);
	c.nlists = 0;
	memset(c.lists, 0, sizeof(c.lists));
	check_defaults(&c);
	config_default(&d);
	CHECK(memcmp(&c, &d, sizeof(c)) == 0);

	/* Every key appears, commented or not, at the start of a line. */
	f = fopen(path, "r");
	CHECK(f != NULL);
	if (f == NULL)
		return;
	text = calloc(1, 65536);
	len = fread(text + 1, 1, 65536 - 2, f);
	fclose(f);
	text[0] = '\n';
	CHECK(len > 0);
	for (size_t i = 0; config_key_name(i) != NULL; i++) {
		char a[64], b[64];

		snprintf(a, sizeof(a), "\n#%s ", config_key_name(i));
		snprintf(b, sizeof(b), "\n%s ", config_key_name(i));
		if (strstr(text, a) == NULL && strstr(text, b) == NULL) {
			fprintf(stderr, "sample lacks %s\n", config_key_name(i));
			CHECK(0);
		}
	}

	/* The manual page has an entry for every key. */
	snprintf(path, sizeof(path), "%s/man/disposable-milter.conf.5", src);
	f = fopen(path, "r");
	CHECK(f != NULL);
	if (f != NULL) {
		memset(text, 0, 65536);
		text[0] = '\n';
		len = fread(text + 1, 1, 65536 - 2, f);
		fclose(f);
		for (size_t i = 0; config_key_name(i) != NULL; i++) {
			char a[64];

			snprintf(a, sizeof(a), "\n.It Cm %s ", config_key_name(i));
			if (strstr(text, a) == NULL) {
				fprintf(stderr, "manual lacks %s\n",
				    config_key_name(i));
				CHECK(0);
			}
		}
	}
	free(text);
}

int
main(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/test_config.XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror(tmpdir);
		return 99;
	}
	snprintf(cfpath, sizeof(cfpath), "%s/test.conf", tmpdir);

	test_defaults();
	test_full();
	test_errors();
	test_quoting();
	test_paths();
	test_split_reply();
	test_socket();
	test_user_ids();
	test_check();
	test_sample();

	unlink(cfpath);
	if (rmdir(tmpdir) == -1)
		perror(tmpdir);
	return T_DONE();
}
