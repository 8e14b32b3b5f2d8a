/* Binary PostgreSQL arrays as statement parameters (array_recv format): a
 * batch of thousands of rows is one parameter per column, one round trip. */
#include "at_store_array.h"

#include <arpa/inet.h>
#include <string.h>

static void
s_u32 (at_store_array_t *b, uint32_t v)
{
  uint32_t be = htonl (v);
  at_buf_put (b, &be, 4);
}

void
at_store_array_begin (at_store_array_t *b, uint32_t oid, size_t n)
{
  at_buf_init (b, 0);
  s_u32 (b, 1);          /* ndim */
  s_u32 (b, 0);          /* no NULLs */
  s_u32 (b, oid);
  s_u32 (b, (uint32_t) n);
  s_u32 (b, 1);          /* lower bound */
}

void
at_store_array_bytes (at_store_array_t *b, const void *bytes, size_t n)
{
  s_u32 (b, (uint32_t) n);
  at_buf_put (b, bytes, n);
}

void
at_store_array_text (at_store_array_t *b, const char *text)
{
  at_store_array_bytes (b, text, strlen (text));
}

void
at_store_array_int4 (at_store_array_t *b, int32_t v)
{
  s_u32 (b, 4);
  s_u32 (b, (uint32_t) v);
}

void
at_store_array_int8 (at_store_array_t *b, int64_t v)
{
  s_u32 (b, 8);
  s_u32 (b, (uint32_t) ((uint64_t) v >> 32));
  s_u32 (b, (uint32_t) v);
}

void
at_store_array_free (at_store_array_t *b)
{
  at_buf_free (b);
}

int
at_store_exec_ids (at_store_t *store, const at_sql_t *sql, const char *const *ids, size_t n,
                   PGresult **res)
{
  if (n > INT32_MAX / 64)
    return AT_INVALID;
  at_store_array_t array;
  at_store_array_begin (&array, AT_OID_TEXT, n);
  for (size_t i = 0; i < n; i++)
    at_store_array_text (&array, ids[i]);
  const char *values[1] = {array.data};
  int lengths[1] = {(int) array.len};
  int formats[1] = {1};
  int rc = array.len > INT32_MAX ? AT_INVALID
           : at_store_exec (store, sql, values, lengths, formats, res);
  at_store_array_free (&array);
  return rc;
}
