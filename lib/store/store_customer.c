/* Customers and their identities in the store: one customer, many
 * identities (email, phone, whatsapp, chat, messenger, instagram), each
 * identity owned by exactly one customer (UNIQUE (kind, value)). Customers
 * are found by identity only, never by name. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistr.h>

#include "at_store_customer.h"
#include "at_channel.h"
#include "at_log.h"

#define S_COMP "customer"
#define S_NAME_MAX 200   /* bytes of a display name kept */

static const at_sql_t SQL_IDENTITY_FIND = {"customer_identity_find",
  "SELECT customer_id FROM identity WHERE kind = $1 AND value = $2", 2};

/* Creates customer and identity in one statement. When a concurrent worker
 * created the identity first, the identity insert does nothing and the row
 * comes back with owner NULL: the caller removes the new customer row. */
static const at_sql_t SQL_CUSTOMER_CREATE = {"customer_create",
  "WITH c AS (INSERT INTO customer (name) VALUES (NULLIF($3, '')) RETURNING id),"
  " i AS (INSERT INTO identity (customer_id, kind, value) SELECT id, $1, $2 FROM c"
  "       ON CONFLICT (kind, value) DO NOTHING RETURNING customer_id)"
  " SELECT c.id, i.customer_id FROM c LEFT JOIN i ON true", 3};

static const at_sql_t SQL_CUSTOMER_DROP_UNUSED = {"customer_drop_unused",
  "DELETE FROM customer c WHERE id = $1"
  " AND NOT EXISTS (SELECT 1 FROM identity WHERE customer_id = c.id)", 1};

static const at_sql_t SQL_CUSTOMER_HANDLE = {"customer_handle",
  "SELECT value FROM identity WHERE customer_id = $1 AND kind = $2 ORDER BY id DESC LIMIT 1", 2};

static const at_sql_t SQL_IDENTITY_ADD = {"customer_identity_add",
  "INSERT INTO identity (customer_id, kind, value) VALUES ($1, $2, $3)"
  " ON CONFLICT (kind, value) DO NOTHING", 3};

static int s_identity_find (at_store_t *store, const char *kind, const char *handle,
                            int64_t *id_out);

/* A WhatsApp wa_id and an SMS number are the same phone: a customer known
 * by one is found by the other, and gets the new identity too. Matched on
 * the number only, never on a name. */
static int
s_identity_find_twin (at_store_t *store, const char *kind, const char *handle, int64_t *id_out)
{
  char twin[AT_HANDLE_MAX + 2], customer[24];
  const char *twin_kind = NULL;
  if (!at_channel_phone_twin (kind, handle, twin, sizeof twin, &twin_kind))
    return AT_NOTFOUND;
  int rc = s_identity_find (store, twin_kind, twin, id_out);
  if (rc != AT_OK)
    return rc;
  snprintf (customer, sizeof customer, "%" PRId64, *id_out);
  rc = at_store_do (store, &SQL_IDENTITY_ADD, customer, kind, handle);
  if (rc != AT_OK)
    return rc;
  /* a concurrent worker may have given the identity to someone: it wins */
  rc = s_identity_find (store, kind, handle, id_out);
  if (rc == AT_OK)
    at_info (S_COMP, "msg=\"identity linked by phone number\" customer_id=%" PRId64 " kind=%s",
             *id_out, kind);
  return rc;
}

static int
s_identity_find (at_store_t *store, const char *kind, const char *handle, int64_t *id_out)
{
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_IDENTITY_FIND, kind, handle);
  if (rc != AT_OK)
    return rc;
  rc = AT_NOTFOUND;
  if (PQntuples (res) == 1) {
    *id_out = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
    rc = AT_OK;
  }
  PQclear (res);
  return rc;
}

/* Keeps a display name to a bounded, whole-character prefix. */
static void
s_name_cap (const char *name, char *out, size_t cap)
{
  if (at_strlcpy (out, name ? name : "", cap) < cap)
    return;
  const uint8_t *bad = u8_check ((const uint8_t *) out, strlen (out));
  if (bad)
    out[bad - (const uint8_t *) out] = '\0';   /* the character the cap cut */
}

int
at_store_customer_resolve (at_store_t *store, const char *channel, const char *handle,
                           const char *name, int64_t *customer_id_out)
{
  const char *kind = at_channel_identity_kind (channel);
  if (!store || !kind || !handle || !*handle || strlen (handle) > AT_HANDLE_MAX || !customer_id_out)
    return AT_INVALID;
  int rc = s_identity_find (store, kind, handle, customer_id_out);
  if (rc != AT_NOTFOUND)
    return rc;
  rc = s_identity_find_twin (store, kind, handle, customer_id_out);
  if (rc != AT_NOTFOUND)
    return rc;

  char name_capped[S_NAME_MAX + 1];
  s_name_cap (name, name_capped, sizeof name_capped);
  PGresult *res = NULL;
  rc = at_store_q (store, &res, &SQL_CUSTOMER_CREATE, kind, handle, name_capped);
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) != 1) {
    PQclear (res);
    at_error (S_COMP, "msg=\"customer insert returned no row\" kind=%s", kind);
    return AT_ERROR;
  }
  char created[24];
  at_strlcpy (created, PQgetvalue (res, 0, 0), sizeof created);
  bool lost_race = PQgetisnull (res, 0, 1);
  if (!lost_race)
    *customer_id_out = strtoll (PQgetvalue (res, 0, 1), NULL, 10);
  PQclear (res);
  if (!lost_race) {
    at_info (S_COMP, "msg=\"customer created\" customer_id=%" PRId64 " kind=%s",
             *customer_id_out, kind);
    return AT_OK;
  }
  /* Another worker created this identity meanwhile: its customer wins. */
  rc = at_store_do (store, &SQL_CUSTOMER_DROP_UNUSED, created);
  if (rc != AT_OK)
    return rc;
  rc = s_identity_find (store, kind, handle, customer_id_out);
  return rc == AT_NOTFOUND ? AT_AGAIN : rc;
}

int
at_store_customer_handle (at_store_t *store, int64_t customer_id, const char *channel,
                          char *out, size_t cap)
{
  const char *kind = at_channel_identity_kind (channel);
  if (!store || !kind || !out || cap == 0)
    return AT_INVALID;
  out[0] = '\0';
  char id[24];
  snprintf (id, sizeof id, "%" PRId64, customer_id);
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_CUSTOMER_HANDLE, id, kind);
  if (rc != AT_OK)
    return rc;
  rc = AT_NOTFOUND;
  if (PQntuples (res) == 1) {
    const char *value = PQgetvalue (res, 0, 0);
    rc = strlen (value) < cap ? AT_OK : AT_INVALID;
    if (rc == AT_OK)
      at_strlcpy (out, value, cap);
  }
  PQclear (res);
  return rc;
}
