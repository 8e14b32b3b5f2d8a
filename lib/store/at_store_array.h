/* Binary PostgreSQL arrays as statement parameters (lib/store/store_array.c):
 * build one per column with _begin and one _text/_int4/_int8/_bytes per
 * element, pass .data/.len with format 1 (after checking .len <= INT32_MAX,
 * libpq's limit), then _free. */
#ifndef AT_STORE_ARRAY_H
#define AT_STORE_ARRAY_H

#include "at_buf.h"
#include "at_store.h"

/* PostgreSQL type oids of the array elements we send */
#define AT_OID_BYTEA 17
#define AT_OID_INT8  20
#define AT_OID_INT4  23
#define AT_OID_TEXT  25

/* The core's buffer (at_buf.h), holding array_recv bytes. */
typedef at_buf_t at_store_array_t;

/* Starts an array of n elements of type oid in b, which holds nothing yet
 * (zeroed or freed). No cap but memory: the content is built from our own
 * batches, and the caller checks its length before use. */
void at_store_array_begin (at_store_array_t *b, uint32_t oid, size_t n);
void at_store_array_bytes (at_store_array_t *b, const void *bytes, size_t n);
void at_store_array_text (at_store_array_t *b, const char *text);
void at_store_array_int4 (at_store_array_t *b, int32_t v);
void at_store_array_int8 (at_store_array_t *b, int64_t v);
void at_store_array_free (at_store_array_t *b);

/* Runs sql with one parameter: ids as a binary text[]. */
int at_store_exec_ids (at_store_t *store, const at_sql_t *sql, const char *const *ids, size_t n,
                       PGresult **res);

#endif
