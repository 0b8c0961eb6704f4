/*
 * json.c: jansson helpers shared by the stages (json.h).
 */
#include "common/json.h"

json_t *json_array_of_strings(const GPtrArray *strings)
{
	json_t *a = json_array();

	for (guint i = 0; a != NULL && strings != NULL && i < strings->len; i++) {
		if (json_array_append_new(a, json_string(g_ptr_array_index(strings, i))) < 0)
			g_clear_pointer(&a, json_decref);
	}
	return a;
}
