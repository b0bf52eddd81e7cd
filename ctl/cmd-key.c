/*
 * cmd-key.c - genkey: the key file the address hashes are made with, new
 * or with one more key (rotation).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "hash.h"

int
cmd_genkey(struct ctl *ctl, int argc, char **argv)
{
	const char *path;
	char err[1024];
	int rotate = 0;

	if (argc > 1 && strcmp(argv[1], "--rotate") == 0) {
		rotate = 1;
		argc--;
		argv++;
	}
	if (argc > 2)
		ctl_usage();
	path = argc > 1 ? argv[1] : ctl->cfg.keyfile;
	if (rotate) {
		if (hash_key_rotate(path, err, sizeof(err)) != 0) {
			fprintf(stderr, "disposable-ctl: %s\n", err);
			return 1;
		}
		printf("%s: new key added; it is the newest, older keys "
		    "kept\n", path);
		return 0;
	}
	if (hash_key_generate(path, err, sizeof(err)) != 0) {
		fprintf(stderr, "disposable-ctl: %s\n", err);
		return 1;
	}
	printf("%s: new key written (mode 0600)\n", path);
	return 0;
}
