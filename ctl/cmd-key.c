/*
 * cmd-key.c - genkey: the key file the address hashes are made with, new
 * or with one more key (rotation).
 */
#include "config.h"

#include <stdio.h>

#include "ctl.h"
#include "hash.h"

int
cmd_genkey(struct ctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rotate", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = ctl->cfg.keyfile;
	char err[1024];
	int ch, rotate = 0;

	while ((ch = ctl_getopt(ctl, argc, argv, "", longopts)) != -1) {
		if (ch != 'r')
			return CTL_EXIT_ERROR;
		rotate = 1;
	}
	if (optind < argc)
		path = argv[optind++];
	if (optind < argc)
		return ctl_usage_error(ctl, "one key file at most: '%s' is a "
		    "second", argv[optind]);
	if (rotate) {
		if (hash_key_rotate(path, err, sizeof(err)) != 0) {
			fprintf(stderr, "disposable-ctl: %s\n", err);
			return CTL_EXIT_ERROR;
		}
		printf("%s: new key added; it is the newest, older keys "
		    "kept\n", path);
		return CTL_EXIT_OK;
	}
	if (hash_key_generate(path, err, sizeof(err)) != 0) {
		fprintf(stderr, "disposable-ctl: %s\n", err);
		return CTL_EXIT_ERROR;
	}
	printf("%s: new key written (mode 0600)\n", path);
	return CTL_EXIT_OK;
}
