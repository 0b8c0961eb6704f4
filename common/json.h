/*
 * json.h: what several stages build with jansson the same way.
 */
#ifndef TLSWATCH_JSON_H
#define TLSWATCH_JSON_H

#include <glib.h>
#include <jansson.h>

/* strings (char *; NULL: none) as a new JSON array of strings, the
 * caller's reference; NULL when jansson cannot make it (memory, or a
 * string that is not UTF-8). */
json_t *json_array_of_strings(const GPtrArray *strings);

#endif
