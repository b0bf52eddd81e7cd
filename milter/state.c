/*
 * state.c - configuration, database and key as one swappable unit (see
 * state.h).
 *
 * A state holds the hash key: it lives in pages of its own, marked
 * MADV_DONTDUMP, so that even with CoreDumps yes the key stays out of a
 * core file, and it is cleared before the pages go.
 *
 * A reload that finds the same version of the database file (listdb.h's
 * file identity: device, inode, size, modification time) shares the open
 * database rather than take another snapshot of it: a copy of the file in
 * memory per open database is enough.  The inode alone does not tell: a
 * file written in place keeps it while its content changes.
 */
#include "config.h"

#include <sys/mman.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "state.h"

struct dbref {
	struct listdb	*db;
	int		 refs;		/* guarded by state_lock */
};

static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static struct state *current;

struct listdb *
state_db(const struct state *s)
{
	return s->db->db;
}

/* Zeroed pages for a state, kept out of core dumps. */
static struct state *
state_alloc(void)
{
	struct state *s;

	s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s == MAP_FAILED)
		return NULL;
	(void)madvise(s, sizeof(*s), MADV_DONTDUMP);
	return s;
}

static void
state_free(struct state *s)
{
	/* Called with state_lock held or before the state was shared. */
	if (s->db != NULL && --s->db->refs == 0) {
		listdb_close(s->db->db);
		free(s->db);
	}
	explicit_bzero(&s->key, sizeof(s->key));
	munmap(s, sizeof(*s));
}

int
state_load_config(const char *conffile, const char *socket,
    struct config *c, char *err, size_t errlen)
{
	config_default(c);
	if (config_load(conffile, c, err, errlen) != 0 ||
	    config_check(c, err, errlen) != 0)
		return -1;
	if (socket != NULL)
		snprintf(c->socket, sizeof(c->socket), "%s", socket);
	return 0;
}

struct state *
state_load(const char *conffile, const char *socket,
    const struct state *reuse, char *err, size_t errlen)
{
	struct listdb_fileid file;
	struct state *s;

	if ((s = state_alloc()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->refs = 1;
	if (state_load_config(conffile, socket, &s->cfg, err, errlen) != 0)
		goto fail;

	if (s->cfg.hash_mode == HASH_SHA256)
		s->key.mode = HASH_SHA256;
	else {
		struct hash_keyring ring;

		if (hash_keyring_load(s->cfg.keyfile, &ring, err, errlen) != 0)
			goto fail;
		s->key = ring.k[ring.n - 1];
		explicit_bzero(&ring, sizeof(ring));
	}

	if (listdb_fileid_get(s->cfg.database, &file, err, errlen) != 0) {
		size_t len = strlen(err);

		snprintf(err + len, errlen - len, " (build it with "
		    "disposable-ctl build)");
		goto fail;
	}
	pthread_mutex_lock(&state_lock);
	/* The same file under the same trust rules: the open copy serves.
	 * Other rules need a copy of their own, as threads still read the
	 * old one. */
	if (reuse != NULL && listdb_fileid_same(listdb_fileid(reuse->db->db),
	    &file) && memcmp(&reuse->cfg.trust, &s->cfg.trust,
	    sizeof(s->cfg.trust)) == 0) {
		s->db = reuse->db;
		s->db->refs++;
	}
	pthread_mutex_unlock(&state_lock);
	if (s->db == NULL) {
		if ((s->db = calloc(1, sizeof(*s->db))) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		s->db->refs = 1;
		if (listdb_open(s->cfg.database, &s->db->db, err,
		    errlen) != 0) {
			free(s->db);
			s->db = NULL;
			goto fail;
		}
		listdb_set_trust(s->db->db, &s->cfg.trust);
	}
	return s;
fail:
	pthread_mutex_lock(&state_lock);
	state_free(s);
	pthread_mutex_unlock(&state_lock);
	return NULL;
}

void
state_install(struct state *s)
{
	struct state *old;

	pthread_mutex_lock(&state_lock);
	old = current;
	current = s;
	if (old != NULL && --old->refs == 0)
		state_free(old);
	pthread_mutex_unlock(&state_lock);
}

struct state *
state_acquire(void)
{
	struct state *s;

	pthread_mutex_lock(&state_lock);
	if ((s = current) != NULL)
		s->refs++;
	pthread_mutex_unlock(&state_lock);
	return s;
}

void
state_release(struct state *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&state_lock);
	if (--s->refs == 0)
		state_free(s);
	pthread_mutex_unlock(&state_lock);
}
