/* A list setting as at_config builds it, for unit tests of code that reads
 * one (kept in a ring: reachable to the end, each slot reused). */
#ifndef TEST_SETTINGS_LIST_H
#define TEST_SETTINGS_LIST_H

#include "at_list.h"

static inline const at_list_t *
s_list (const char *text, at_list_kind_t kind)
{
  static at_list_t ring[8];
  static size_t next;
  at_list_t *list = &ring[next++ % 8];
  char reason[128];
  at_list_parse (list, text, kind, reason, sizeof reason);
  return list;
}

#endif
