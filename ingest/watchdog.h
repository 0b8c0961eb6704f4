/*
 * watchdog.h: the per-message guards that span the stages.
 *
 * watchdog_message_begin() is called once per message, before anything of
 * it is parsed (ingest_message, ingest_bare_report). It restarts the
 * max-processing-time timer and the per-message decode caps
 * (max-total-report-size, max-gzip-ratio: decode_message_begin). When the
 * timer runs out, whatever is running here (reading the input, a query) is
 * stopped: a line on stderr and exit 75, so the MTA keeps the message and
 * retries later instead of hanging its delivery agent. Nothing is
 * committed by then; PostgreSQL rolls back the open transaction when the
 * connection drops. The parse is not under this timer but under its own,
 * in its child (contain.h): a message too slow to parse is the message's
 * fault, and is quarantined instead of retried for days.
 */
#ifndef TLSWATCH_WATCHDOG_H
#define TLSWATCH_WATCHDOG_H

#include "common/config.h"

/* Arm (or re-arm) the guards for one message from cfg (borrowed, read
 * now only). max_processing_time 0 disarms the timer. Uses SIGALRM. */
void watchdog_message_begin(const struct config *cfg);

/* Stop the timer while a child parses; returns the seconds that were
 * left, for watchdog_resume (0: it was not running). */
guint watchdog_pause(void);

/* Run the timer again for the left seconds watchdog_pause returned. */
void watchdog_resume(guint left);

/* Disarm the timer: the message is committed, what follows (alerts after
 * ingest) has its own timeouts and must not turn a stored message into a
 * 75 that the MTA would deliver again. */
void watchdog_message_end(void);

#endif
