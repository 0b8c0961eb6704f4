/*
 * rate.c: POSTs per minute per client address, over all HTTP workers of
 * `tlswatch serve` ([serve] http-rate). Every POST, garbage included, is
 * written to the database (stored, or kept in quarantine with its body),
 * so one client must not be able to make it write as fast as it can send.
 * A reporter POSTs once a day per domain it reports on; a hoster's
 * thousands of domains come from a big reporter's several addresses.
 *
 * One token bucket per address (rate a minute, as many at once), in a
 * table shared by the workers: an anonymous mapping the master makes
 * before it starts them, under a process-shared mutex, robust because a
 * worker may die holding it. The table has a fixed size: a new address
 * takes the slot of the one seen longest ago among those it probes, so
 * a flood of addresses costs memory for none of them; the address it
 * pushes out starts again with a full bucket.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

#include "serve/serve.h"

#define RATE_SLOTS  4096 /* a power of two */
#define RATE_PROBES 8

struct rate_slot {
	guint8 address[16]; /* IPv4 mapped into IPv6 */
	gboolean used;
	double tokens;
	gint64 last; /* monotonic usec of the last refill */
};

struct rate_table {
	pthread_mutex_t lock;
	struct rate_slot slot[RATE_SLOTS];
};

static struct rate_table *table;

int serve_rate_init(struct error *err)
{
	pthread_mutexattr_t attr;
	void *p = mmap(NULL, sizeof *table, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
		       0);

	if (p == MAP_FAILED)
		return error_set(err, ERR_TEMP, "cannot map the rate table: %s", g_strerror(errno));
	table = p;
	memset(table, 0, sizeof *table);
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&table->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	return 0;
}

/* The slot of address, or the one it takes over (a free one, else the
 * one seen longest ago among RATE_PROBES). */
static struct rate_slot *rate_slot_of(const guint8 address[16])
{
	g_autoptr(GBytes) key = g_bytes_new_static(address, 16);
	guint h = g_bytes_hash(key);
	struct rate_slot *oldest = NULL;

	for (guint i = 0; i < RATE_PROBES; i++) {
		struct rate_slot *s = &table->slot[(h + i) & (RATE_SLOTS - 1)];

		if (s->used && memcmp(s->address, address, 16) == 0)
			return s;
		if (oldest == NULL || !s->used || (oldest->used && s->last < oldest->last))
			oldest = s;
	}
	return oldest;
}

guint serve_rate_take(const guint8 address[16], guint per_minute)
{
	gint64 now = g_get_monotonic_time();
	struct rate_slot *s;
	guint wait = 0;

	if (table == NULL || per_minute == 0)
		return 0;
	if (pthread_mutex_lock(&table->lock) == EOWNERDEAD)
		pthread_mutex_consistent(&table->lock);
	s = rate_slot_of(address);
	if (!s->used || memcmp(s->address, address, 16) != 0) {
		memcpy(s->address, address, 16);
		s->used = TRUE;
		s->tokens = per_minute;
		s->last = now;
	}
	s->tokens = MIN((double)per_minute,
			s->tokens + (double)(now - s->last) / (60.0 * G_USEC_PER_SEC) * per_minute);
	s->last = now;
	if (s->tokens >= 1)
		s->tokens -= 1;
	else
		wait = (guint)((1 - s->tokens) * 60.0 / per_minute) + 1;
	pthread_mutex_unlock(&table->lock);
	return wait;
}
