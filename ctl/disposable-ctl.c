/*
 * disposable-ctl - the admin tool: build and query the list database,
 * classify address files, manage the hash key and the records store.
 * Same lib as the daemon; one file per group of commands (ctl.h).
 *
 * This file holds the command table, the options every command shares
 * (-c) and the helpers the commands share.
 */
#include "config.h"

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

static const struct command {
	const char	*name;
	ctl_command_fn	*run;
	int		 needs_psl;	/* loads the public suffix list */
	const char	*args;		/* for the usage lines */
	int		 conf_exit;	/* exit status when the configuration
					   cannot be read */
} commands[] = {
	{ "build", cmd_build, 1,
	    "[--skip-bad] [-o db] [[fp:]category:source:path ...]", 1 },
	{ "lookup", cmd_lookup, 1, "[--no-dns] domain-or-address ...", 1 },
	{ "fingerprint", cmd_fingerprint, 1, "domain ...", 1 },
	{ "mine", cmd_mine, 1,
	    "[--min n] [--limit n] [--rate n] [--category c] "
	    "[--strength s]", 1 },
	{ "check", cmd_check, 1, "[--hashed [--all-keys] | --match-hashes "
	    "hashfile] [--no-dns] [file]", 1 },
	{ "stats", cmd_stats, 1, "", 1 },
	/* update keeps 1 for "a source failed" (cron, systemd). */
	{ "update", cmd_update, 1, "[--force] [--dry-run] [--source name ...] "
	    "[--no-build | --rebuild]", 2 },
	{ "export", cmd_export, 1, "address-or-hash ... | -f file", 1 },
	{ "forget", cmd_forget, 1, "address-or-hash ... | -f file", 1 },
	{ "recheck", cmd_recheck, 1, "[--no-dns]", 1 },
	{ "purge", cmd_purge, 1, "[--days n]", 1 },
	{ "genkey", cmd_genkey, 0, "[--rotate] [path]", 1 },
};

void
ctl_usage(void)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(stderr, "%s disposable-ctl [-c file] %s %s\n",
		    i == 0 ? "usage:" : "      ", commands[i].name,
		    commands[i].args);
	exit(2);
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

int
main(int argc, char *argv[])
{
	static struct ctl ctl;	/* a config is large: not on the stack */
	const struct command *cmd = NULL;
	char err[1024];
	int ch;

	while ((ch = getopt(argc, argv, "+c:")) != -1) {
		if (ch == 'c')
			ctl.conffile = optarg;
		else
			ctl_usage();
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		ctl_usage();
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			cmd = &commands[i];
	if (cmd == NULL)
		ctl_usage();

	config_default(&ctl.cfg);
	/* Without -c the default file is read if it exists, so that build
	 * from explicit lists works on a machine with no configuration. */
	if (ctl.conffile == NULL && access(config_default_file, F_OK) == 0)
		ctl.conffile = config_default_file;
	if (ctl.conffile != NULL &&
	    config_load(ctl.conffile, &ctl.cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "disposable-ctl: %s\n", err);
		return cmd->conf_exit;
	}
	if (cmd->needs_psl && domain_init(NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "disposable-ctl: %s\n", err);
		return cmd->conf_exit;
	}
	return cmd->run(&ctl, argc, argv);
}
