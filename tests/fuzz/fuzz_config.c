/*
 * fuzz_config.c - libFuzzer target for the configuration file reader,
 * config_load and config_check (conf.h), on a file holding the input.
 *
 * Checks what conf.h and conf.c promise: 0 or -1 only; a failed load
 * leaves the configuration as it was and gives a reason naming the
 * file; a good one leaves every string terminated within its field, at
 * most CONFIG_MAX_LISTS lists, every path absolute (relative ones are
 * taken from the configuration file's directory), and a configuration
 * that config_check accepts, since it repeats the checks of each line;
 * only what involves two keys (DNSMinTTL above DNSMaxTTL, a list file
 * that is the Database) may be refused there, and only with a reason;
 * the replies split for smfi_setreply with a code of their class.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "fuzz.h"

static const char *conffile;
static struct config *defaults, *c;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_tmp_init("fuzz_config");
	conffile = fuzz_tmp_path("disposable-milter.conf");
	if ((defaults = malloc(sizeof(*defaults))) == NULL ||
	    (c = malloc(sizeof(*c))) == NULL)
		abort();
	config_default(defaults);
	return 0;
}

#define TERMINATED(field) \
	FUZZ_CHECK(memchr((field), '\0', sizeof(field)) != NULL)

static void
check_path(const char *field, size_t size, int may_be_empty)
{
	FUZZ_CHECK(memchr(field, '\0', size) != NULL);
	FUZZ_CHECK(field[0] == '/' || (may_be_empty && field[0] == '\0'));
}

static void
check_loaded(void)
{
	char err[1024], code[4], xcode[16];
	const char *text;
	int two_keys = 0;

	TERMINATED(c->socket);
	TERMINATED(c->user);
	TERMINATED(c->reject_reply);
	TERMINATED(c->tempfail_reply);
	TERMINATED(c->tag_header);
	TERMINATED(c->dns.servers);
	check_path(c->pidfile, sizeof(c->pidfile), 1);
	check_path(c->database, sizeof(c->database), 0);
	check_path(c->keyfile, sizeof(c->keyfile), 0);
	check_path(c->records, sizeof(c->records), 1);
	check_path(c->metrics_file, sizeof(c->metrics_file), 1);
	FUZZ_CHECK(c->nlists <= CONFIG_MAX_LISTS);
	for (size_t i = 0; i < c->nlists; i++) {
		TERMINATED(c->lists[i].source);
		check_path(c->lists[i].path, sizeof(c->lists[i].path), 0);
		if (strcmp(c->lists[i].path, c->database) == 0)
			two_keys = 1;
	}
	if (c->dns.min_ttl > c->dns.max_ttl)
		two_keys = 1;

	memset(err, 0, sizeof(err));
	if (config_check(c, err, sizeof(err)) != 0) {
		FUZZ_CHECK(two_keys);
		FUZZ_CHECK(err[0] != '\0');
	}
	FUZZ_CHECK(config_split_reply(c->reject_reply, code, xcode,
	    &text) == 0);
	FUZZ_CHECK(code[0] == '5' && strlen(code) == 3);
	FUZZ_CHECK(config_split_reply(c->tempfail_reply, code, xcode,
	    &text) == 0);
	FUZZ_CHECK(code[0] == '4' && strlen(code) == 3);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[1024];
	int rc;

	fuzz_write(conffile, data, size, 0644);
	memcpy(c, defaults, sizeof(*c));
	memset(err, 0, sizeof(err));
	rc = config_load(conffile, c, err, sizeof(err));
	if (rc == 0)
		check_loaded();
	else {
		FUZZ_CHECK(rc == -1);
		FUZZ_CHECK(memcmp(c, defaults, sizeof(*c)) == 0);
		FUZZ_CHECK(strncmp(err, conffile, strlen(conffile)) == 0);
	}
	return 0;
}
