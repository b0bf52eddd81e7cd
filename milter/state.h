/*
 * state.h - what the daemon runs on: configuration, list database and hash
 * key, loaded together and swapped together on reload.
 *
 * The current state is shared by all connections.  A message acquires it
 * once (state_acquire) and releases it when the message ends, so that one
 * message is judged against one consistent set of lists and settings even
 * when SIGUSR1 swaps in a new state halfway through.  The old state is freed
 * when its last message releases it.
 */
#ifndef DM_STATE_H
#define DM_STATE_H

#include <stddef.h>

#include "conf.h"

struct state {
	struct config	 cfg;
	struct dbref	*db;		/* shared between states if unchanged */
	struct hash_key	 key;		/* the newest key of KeyFile */
	int		 refs;		/* guarded by the state mutex */
};

/* The list database inside a state. */
struct listdb	*state_db(const struct state *);

/* Load configuration file conffile, open the database and the key.
 * socket, when not NULL, overrides the Socket key.  Returns a state with
 * one reference, or NULL with the reason in err.  reuse, when not NULL, is
 * the running state: its database is shared if the file did not change. */
struct state	*state_load(const char *conffile, const char *socket,
		    const struct state *reuse, char *err, size_t errlen);

/* The configuration alone, as state_load reads it (socket overriding
 * Socket): what the daemon needs to know before it starts.  Returns 0,
 * or -1 with err. */
int		 state_load_config(const char *conffile, const char *socket,
		    struct config *c, char *err, size_t errlen);

/* Make s the current state (taking over the caller's reference) and drop
 * the reference held on the previous one. */
void		 state_install(struct state *s);

/* The current state with one more reference, or NULL before install. */
struct state	*state_acquire(void);
void		 state_release(struct state *s);

#endif
