/*
 * lru.c - a bounded hash table with least-recently-used eviction (see
 * lru.h).
 *
 * Chained buckets, a power of two of them and at least as many as nodes
 * allowed, so that a chain stays short; a doubly linked list orders the
 * nodes by use, most recent first, so that touching and evicting are
 * O(1).
 */
#include "config.h"

#include <stdlib.h>

#include "lru.h"

int
lru_init(struct lru *t, size_t size)
{
	size_t buckets = 16;

	while (buckets < size && buckets < ((size_t)1 << 30))
		buckets <<= 1;
	t->head = t->tail = NULL;
	t->count = 0;
	t->size = size;
	t->mask = buckets - 1;
	return (t->tab = calloc(buckets, sizeof(*t->tab))) == NULL ? -1 : 0;
}

void
lru_fini(struct lru *t, void (*drop)(struct lru_node *))
{
	struct lru_node *n, *next;

	for (n = t->head; n != NULL; n = next) {
		next = n->next;
		if (drop != NULL)
			drop(n);
	}
	free(t->tab);
	t->tab = NULL;
	t->head = t->tail = NULL;
	t->count = 0;
}

struct lru_node *
lru_find(const struct lru *t, uint32_t h,
    int (*same)(const struct lru_node *, const void *), const void *key)
{
	struct lru_node *n;

	for (n = t->tab[h & t->mask]; n != NULL; n = n->hnext)
		if (n->hash == h && same(n, key))
			return n;
	return NULL;
}

/* Out of the use list only. */
static void
list_unlink(struct lru *t, struct lru_node *n)
{
	if (n->prev != NULL)
		n->prev->next = n->next;
	else
		t->head = n->next;
	if (n->next != NULL)
		n->next->prev = n->prev;
	else
		t->tail = n->prev;
}

static void
list_push(struct lru *t, struct lru_node *n)
{
	n->prev = NULL;
	n->next = t->head;
	if (t->head != NULL)
		t->head->prev = n;
	t->head = n;
	if (t->tail == NULL)
		t->tail = n;
}

void
lru_touch(struct lru *t, struct lru_node *n)
{
	if (t->head == n)
		return;
	list_unlink(t, n);
	list_push(t, n);
}

void
lru_remove(struct lru *t, struct lru_node *n)
{
	struct lru_node **pp = &t->tab[n->hash & t->mask];

	while (*pp != n)
		pp = &(*pp)->hnext;
	*pp = n->hnext;
	list_unlink(t, n);
	t->count--;
}

struct lru_node *
lru_add(struct lru *t, struct lru_node *n)
{
	struct lru_node *old = NULL;

	if (t->count >= t->size && t->tail != NULL) {
		old = t->tail;
		lru_remove(t, old);
	}
	n->hnext = t->tab[n->hash & t->mask];
	t->tab[n->hash & t->mask] = n;
	list_push(t, n);
	t->count++;
	return old;
}

uint32_t
lru_hash(uint32_t seed, const void *p, size_t len)
{
	const unsigned char *s = p;
	uint32_t h = 2166136261u ^ seed;

	for (size_t i = 0; i < len; i++)
		h = (h ^ s[i]) * 16777619u;
	return h;
}
