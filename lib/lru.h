/*
 * lru.h - a bounded hash table that forgets the least recently used
 * entry first: the shape shared by the DNS answer cache (dns.c) and the
 * SPF verdict cache (spf.c).
 *
 * Intrusive.  The caller's entry embeds a struct lru_node and owns its
 * memory; this module only links and unlinks nodes, and never allocates
 * after lru_init().  A node's hash is the caller's (lru_hash() is one);
 * lru_find() compares keys through the caller's function, so a key can
 * be anything.
 *
 * No locking: the caller holds its own lock around every call on one
 * table.  Cost: lru_find walks one hash chain (the table has at least as
 * many buckets as entries allowed); everything else is O(1).
 */
#ifndef DM_LRU_H
#define DM_LRU_H

#include <stddef.h>
#include <stdint.h>

struct lru_node {
	struct lru_node	*hnext;		/* hash chain */
	struct lru_node	*prev, *next;	/* most recently used first */
	uint32_t	 hash;
};

struct lru {
	struct lru_node	**tab;
	size_t		 mask;		/* buckets - 1 */
	size_t		 size;		/* nodes allowed */
	size_t		 count;
	struct lru_node	*head, *tail;
};

/* An empty table for at most size nodes (size > 0).  Returns 0, or -1
 * when out of memory. */
int	lru_init(struct lru *, size_t size);

/* Unlink every node, hand each to drop (may be NULL), free the table. */
void	lru_fini(struct lru *, void (*drop)(struct lru_node *));

/* The node of hash h for which same(node, key) is true, or NULL.  Does
 * not change the order: lru_touch() does. */
struct lru_node *lru_find(const struct lru *, uint32_t h,
	    int (*same)(const struct lru_node *, const void *key),
	    const void *key);

/* Make n the most recently used. */
void	lru_touch(struct lru *, struct lru_node *n);

/* Unlink n (the caller frees it). */
void	lru_remove(struct lru *, struct lru_node *n);

/* Link n (n->hash set by the caller) as the most recently used.  When
 * the table was full, the least recently used node is unlinked first and
 * returned for the caller to free; else NULL. */
struct lru_node *lru_add(struct lru *, struct lru_node *n);

/* FNV-1a over len bytes, starting from seed (0 for none). */
uint32_t lru_hash(uint32_t seed, const void *p, size_t len);

#endif
