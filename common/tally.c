/*
 * tally.c: (list, name) → item (see tally.h).
 */
#include "common/tally.h"

struct tally_key {
	gconstpointer list;
	const char *name;
};

static guint tally_key_hash(gconstpointer k)
{
	const struct tally_key *key = k;

	return g_str_hash(key->name) ^ g_direct_hash(key->list);
}

static gboolean tally_key_equal(gconstpointer a, gconstpointer b)
{
	const struct tally_key *x = a, *y = b;

	return x->list == y->list && g_str_equal(x->name, y->name);
}

GHashTable *tally_new(void)
{
	return g_hash_table_new_full(tally_key_hash, tally_key_equal, g_free, NULL);
}

gpointer tally_find(GHashTable *tally, gconstpointer list, const char *name)
{
	struct tally_key probe = { list, name };

	return g_hash_table_lookup(tally, &probe);
}

void tally_add(GHashTable *tally, gconstpointer list, const char *name, gpointer item)
{
	struct tally_key *key = g_new(struct tally_key, 1);

	*key = (struct tally_key){ list, name };
	g_hash_table_insert(tally, key, item);
}
