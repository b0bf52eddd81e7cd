/*
 * disposable-ctl - the admin tool: build and query the list database,
 * classify address files, manage the hash key and the records store.
 * Same lib as the daemon; one file per group of commands (ctl.h).
 *
 * This file holds the command table (each command's usage, options and
 * exit statuses, which --help prints and the manual page repeats), the
 * options every command shares (-c, --help, --version), and the helpers
 * the commands share: option parsing with errors that name the bad
 * argument, and opening what the configuration names.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "ctl.h"
#include "dns.h"
#include "domain.h"
#include "hash.h"
#include "listdb.h"
#include "spf.h"

/* The exit statuses most commands have; a command whose statuses differ
 * says so in its row. */
#define STATUS_DONE \
	"  0  done\n" \
	"  2  usage or error (said on stderr)\n"
#define STATUS_PEOPLE \
	"  0  done (a person with no records is not an error)\n" \
	"  1  some argument or line is neither an address nor a hash (said\n" \
	"     by its position; the others were done)\n" \
	"  2  usage or error (said on stderr)\n"

static const struct ctl_command commands[] = {
	{ "build", cmd_build, 1, "compile the lists into the database",
	    "[--skip-bad] [--all-warnings] [-o db] "
	    "[[fp:]category:source:path ...]",
	    "  --skip-bad    leave refused entries out (reported) and write the "
	    "rest\n"
	    "  --all-warnings\n"
	    "                print every warning (else the first 50, then "
	    "their count)\n"
	    "  -o db         write db instead of the configured Database\n"
	    "  category:source:path\n"
	    "                a list file (category disposable, relay or "
	    "allowed)\n"
	    "                instead of the configured lists; fp:category:..."
	    " a\n"
	    "                fingerprint list, infra:source:path shared "
	    "infrastructure\n",
	    "  0  the database written\n"
	    "  1  it was not: an entry refused or a list unreadable (each "
	    "named\n"
	    "     on stderr with file:line); the old database is untouched\n"
	    "  2  usage or configuration error\n" },
	{ "update", cmd_update, 1,
	    "fetch the remote lists, rebuild, tell the daemon",
	    "[--force] [--dry-run] [--source name ...] [--no-build | "
	    "--rebuild]",
	    "  --force       accept a list that shrinks or grows beyond "
	    "UpdateMaxShrink,\n"
	    "                UpdateMaxGrowth, or is empty\n"
	    "  --dry-run     fetch and report; write nothing\n"
	    "  --source NAME only this source (repeatable)\n"
	    "  --no-build    fetch and keep the copies; do not rebuild\n"
	    "  --rebuild     rebuild even when no list changed\n",
	    "  0   every source fetched or unchanged, the database current\n"
	    "  1   some source failed or was refused: its last good copy "
	    "kept,\n"
	    "      the others applied\n"
	    "  2   usage or configuration error, or the build failed: "
	    "nothing\n"
	    "      changed\n"
	    "  75  offline: no remote source could be reached; nothing "
	    "changed\n" },
	{ "lookup", cmd_lookup, 1,
	    "explain how a domain, or an address's domain, is classified",
	    "[--no-dns] [--json] domain-or-address ...",
	    "  --no-dns      the lists alone; no DNS\n"
	    "  --json        one JSON array, an object per argument\n",
	    "  0  every argument clean or allowed\n"
	    "  1  some argument disposable, relay, suspicious or unknown "
	    "(DNS\n"
	    "     failed), or invalid\n"
	    "  2  usage or error (said on stderr)\n" },
	{ "check", cmd_check, 1,
	    "classify a file of addresses (a subscriber export)",
	    "[--hashed [--all-keys] | --match-hashes hashfile] [--no-dns] "
	    "[--json] [file]",
	    "  --hashed      the keyed hash of each address instead of it\n"
	    "  --all-keys    with --hashed: a line per key of KeyFile, newest "
	    "first\n"
	    "  --match-hashes hashfile\n"
	    "                only the addresses whose hash is the first field "
	    "of a\n"
	    "                line of hashfile (recheck's output)\n"
	    "  --no-dns      the lists alone; no DNS\n"
	    "  --json        JSON Lines: an object per line read\n"
	    "  file          default standard input; an address a line: "
	    "addr,\n"
	    "                Name <addr>, \"Name\" <addr> (mailman members), "
	    "or CSV\n"
	    "                with the address in one field (a header row is "
	    "skipped);\n"
	    "                blank lines and # comments ignored\n",
	    "  0  every address clean or allowed (--match-hashes: none "
	    "matched)\n"
	    "  1  some address disposable, relay, suspicious or unknown "
	    "(DNS\n"
	    "     failed), or a line without exactly one address "
	    "(--match-hashes:\n"
	    "     some address matched, or a line invalid)\n"
	    "  2  usage or error (said on stderr)\n" },
	{ "fingerprint", cmd_fingerprint, 1,
	    "print a domain's mail infrastructure as DNS describes it",
	    "domain ...", "",
	    "  0  every domain printed\n"
	    "  1  some argument is not a domain name (the others printed)\n"
	    "  2  usage or error (said on stderr)\n" },
	{ "mine", cmd_mine, 1,
	    "propose fingerprints that listed domains share",
	    "[--min n] [--limit n] [--rate n] [--category c] [--strength s]",
	    "  --min n       listed domains that must share a host (default "
	    "3)\n"
	    "  --limit n     listed domains resolved, a sample (default "
	    "1000)\n"
	    "  --rate n      domains resolved a second (default 20)\n"
	    "  --category c  disposable (default) or relay\n"
	    "  --strength s  weak (default) or strong, written on each "
	    "proposal\n",
	    STATUS_DONE },
	{ "stats", cmd_stats, 1,
	    "the database's counts, and the records store's aggregates",
	    "[--json]",
	    "  --json        one JSON object\n",
	    STATUS_DONE },
	{ "export", cmd_export, 1,
	    "a person's records, as JSON (the right of access)",
	    "address-or-hash ... | -f file",
	    "  -f file       the people named in file, an address or hash a "
	    "line\n",
	    STATUS_PEOPLE },
	{ "forget", cmd_forget, 1,
	    "erase a person's records (the right to erasure)",
	    "address-or-hash ... | -f file",
	    "  -f file       the people named in file, an address or hash a "
	    "line\n",
	    STATUS_PEOPLE },
	{ "recheck", cmd_recheck, 1,
	    "remembered senders whose domain is disposable now",
	    "[--no-dns]",
	    "  --no-dns      the lists alone; no DNS\n",
	    "  0  no remembered sender's domain is disposable\n"
	    "  1  some are (one line each on stdout)\n"
	    "  2  usage or error (said on stderr)\n" },
	{ "purge", cmd_purge, 1,
	    "delete the records last seen more than n days ago",
	    "[--days n]",
	    "  --days n      instead of RetentionDays (1 to 36500)\n",
	    STATUS_DONE },
	{ "genkey", cmd_genkey, 0,
	    "create the hash key file, or add a new key to it",
	    "[--rotate] [path]",
	    "  --rotate      add a new key, the newest, to an existing file\n"
	    "  path          instead of the configured KeyFile\n",
	    "  0  written\n"
	    "  2  usage or error: the file exists (--rotate: it does not, or "
	    "is\n"
	    "     full), or cannot be written\n" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
main_usage(FILE *f)
{
	fprintf(f, "usage: disposable-ctl [-c file] command [args]\n"
	    "       disposable-ctl command --help\n"
	    "       disposable-ctl --help | --version\n");
}

static void
main_help(void)
{
	main_usage(stdout);
	printf("\nBuild and query the disposable-milter list database, "
	    "classify addresses,\nmanage the hash key and the records "
	    "store.\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		printf("  %-12s %s\n", commands[i].name, commands[i].summary);
	printf("\noptions:\n"
	    "  -c file       the configuration (default %s)\n"
	    "  --help        this text; with a command, that command's\n"
	    "  --version     the version\n"
	    "\nexit status: 0 done, nothing found; 1 something listed or "
	    "invalid, or a\nsoft failure; 2 usage or error; each command's "
	    "--help says its own.\n", config_default_file);
}

static void
command_usage(const struct ctl_command *cmd, FILE *f)
{
	fprintf(f, "usage: disposable-ctl [-c file] %s%s%s\n", cmd->name,
	    cmd->args[0] != '\0' ? " " : "", cmd->args);
}

static void
command_help(const struct ctl_command *cmd)
{
	command_usage(cmd, stdout);
	printf("%c%s.\n", cmd->summary[0] - 'a' + 'A', cmd->summary + 1);
	if (cmd->options[0] != '\0')
		printf("\noptions:\n%s", cmd->options);
	printf("  -c file       (before the command) the configuration\n"
	    "  --help        this text\n\nexit status:\n%s", cmd->status);
}

int
ctl_usage_error(struct ctl *ctl, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "disposable-ctl: ");
	if (ctl->cmd != NULL)
		fprintf(stderr, "%s: ", ctl->cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (ctl->cmd != NULL) {
		command_usage(ctl->cmd, stderr);
		fprintf(stderr, "(disposable-ctl %s --help says more)\n",
		    ctl->cmd->name);
	} else
		main_usage(stderr);
	return CTL_EXIT_ERROR;
}

int
ctl_getopt(struct ctl *ctl, int argc, char **argv, const char *shortopts,
    const struct option *longopts)
{
	char opts[32];
	const char *arg;
	int ch;

	/* ':' first: a missing value is told apart from an unknown option;
	 * the messages are ours, naming the command. */
	if (shortopts[0] == '+')
		snprintf(opts, sizeof(opts), "+:%s", shortopts + 1);
	else
		snprintf(opts, sizeof(opts), ":%s", shortopts);
	opterr = 0;
	if ((ch = getopt_long(argc, argv, opts, longopts, NULL)) != '?' &&
	    ch != ':')
		return ch;
	arg = argv[optind - 1];
	if (strncmp(arg, "--", 2) != 0) {
		static char shortopt[3] = "-";

		shortopt[1] = (char)optopt;
		arg = shortopt;
	}
	if (ch == ':')
		ctl_usage_error(ctl, "%s needs a value", arg);
	else if (strchr(arg, '=') != NULL)
		ctl_usage_error(ctl, "'%s': unknown option, or one that takes "
		    "no value", arg);
	else
		ctl_usage_error(ctl, "unknown option '%s'", arg);
	return '?';
}

int
ctl_number(struct ctl *ctl, const char *opt, const char *arg,
    unsigned long min, unsigned long max, const char *what,
    unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || *end != '\0' || errno != 0 ||
	    v < min || v > max) {
		ctl_usage_error(ctl, "%s: '%s' is not %s (%lu to %lu)", opt,
		    arg, what, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int
ctl_open_db(struct ctl *ctl, struct listdb **db)
{
	char err[1024];

	if (listdb_open(ctl->cfg.database, db, err, sizeof(err)) != 0) {
		fprintf(stderr, "disposable-ctl: %s\n", err);
		return -1;
	}
	listdb_set_trust(*db, &ctl->cfg.trust);
	return 0;
}

int
ctl_init_dns(struct ctl *ctl)
{
	char err[1024];

	if (dns_init(&ctl->cfg.dns, err, sizeof(err)) != 0 ||
	    spf_init(err, sizeof(err)) != 0) {
		fprintf(stderr, "disposable-ctl: %s\n", err);
		return -1;
	}
	return 0;
}

int
ctl_load_keys(struct ctl *ctl, struct hash_keyring *ring)
{
	char err[1024];

	/* HashMode sha256: one keyless "key", as the daemon has. */
	if (ctl->cfg.hash_mode == HASH_SHA256) {
		memset(ring, 0, sizeof(*ring));
		ring->n = 1;
		ring->k[0].mode = HASH_SHA256;
		return 0;
	}
	if (hash_keyring_load(ctl->cfg.keyfile, ring, err, sizeof(err)) != 0) {
		fprintf(stderr, "disposable-ctl: %s\n", err);
		return -1;
	}
	return 0;
}

void
ctl_iso_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	/* A corrupt or hostile record may hold a time gmtime cannot
	 * represent. */
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "@%lld", (long long)t);
}

/* Whether a command's arguments ask for its help: answered before the
 * configuration is read, which the admin may not be allowed to. */
static int
wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0)
			return 1;
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	static struct ctl ctl;	/* a config is large: not on the stack */
	char err[1024];
	int ch;

	/* "+": the options before the command; the command has its own. */
	while ((ch = ctl_getopt(&ctl, argc, argv, "+c:hV", longopts)) != -1) {
		switch (ch) {
		case 'c':
			ctl.conffile = optarg;
			break;
		case 'h':
			main_help();
			return CTL_EXIT_OK;
		case 'V':
			printf("disposable-ctl %s\n", PACKAGE_VERSION);
			return CTL_EXIT_OK;
		default:
			return CTL_EXIT_ERROR;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return ctl_usage_error(&ctl, "no command given");
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			ctl.cmd = &commands[i];
	if (ctl.cmd == NULL)
		return ctl_usage_error(&ctl, "unknown command '%s' "
		    "(disposable-ctl --help lists them)", argv[0]);
	if (wants_help(argc, argv)) {
		command_help(ctl.cmd);
		return CTL_EXIT_OK;
	}

	config_default(&ctl.cfg);
	/* Without -c the default file is read if it exists, so that build
	 * from explicit lists works on a machine with no configuration. */
	if (ctl.conffile == NULL && access(config_default_file, F_OK) == 0)
		ctl.conffile = config_default_file;
	if (ctl.conffile != NULL &&
	    config_load(ctl.conffile, &ctl.cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "disposable-ctl: %s\n", err);
		return CTL_EXIT_ERROR;
	}
	if (ctl.cmd->needs_psl && domain_init(NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "disposable-ctl: %s\n", err);
		return CTL_EXIT_ERROR;
	}
	optind = 0;	/* each command's getopt starts afresh */
	return ctl.cmd->run(&ctl, argc, argv);
}
