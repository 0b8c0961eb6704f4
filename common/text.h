/*
 * text.h: cutting text for people to read in a log line.
 */
#ifndef TLSWATCH_TEXT_H
#define TLSWATCH_TEXT_H

#include <glib.h>

/* Cut s (valid UTF-8) to at most max bytes, "..." included, on a character
 * boundary; nothing happens when it fits. max must be at least 3. */
void text_cut(GString *s, gsize max);

#endif
