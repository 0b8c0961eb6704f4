/*
 * tally.h: named counters spread over many lists, found through one hash
 * table by (list, name).
 *
 * A digest of a month adds to hundreds of thousands of (domain, sending
 * IP) items, an alert pass to thousands of reporters and MX hosts; a
 * linear search of each list per row made that quadratic. The lists stay
 * plain GPtrArrays (the renderers read them); the table only finds items.
 */
#ifndef TLSWATCH_TALLY_H
#define TLSWATCH_TALLY_H

#include <glib.h>

/* A new, empty tally; the caller g_hash_table_unref()s it. It owns its
 * keys, not the items. */
GHashTable *tally_new(void);

/* The item called name in list, or NULL. */
gpointer tally_find(GHashTable *tally, gconstpointer list, const char *name);

/* Remember item as list's name; name must live as long as the item (its
 * own copy of the name, say). */
void tally_add(GHashTable *tally, gconstpointer list, const char *name, gpointer item);

#endif
