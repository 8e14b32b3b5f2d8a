/* Orders: the status state machine (pure: no store, no clock). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include "at_order.h"

/* The eleven statuses of OrderEvent, the one list of them: a regular
 * status's rank orders the order's life (placed 1 ... delivered 7,
 * returned 8, cancelled above everything: nothing applies after it);
 * delayed and failed_attempt have none and keep the order's rank. */
static const struct {
  const char *name;
  int rank;
} s_statuses[] = {
  {"placed", 1}, {"confirmed", 2}, {"packed", 3}, {"shipped", 4}, {"in_transit", 5},
  {"out_for_delivery", 6}, {"delivered", 7}, {"delayed", -1}, {"failed_attempt", -1},
  {"cancelled", 9}, {"returned", 8},
};
#define S_RANK_DELIVERED 7

const char *
at_order_status_name (size_t i)
{
  return i < AT_ARRAY_LEN (s_statuses) ? s_statuses[i].name : NULL;
}

bool
at_order_status_known (const char *status)
{
  for (size_t i = 0; status && i < AT_ARRAY_LEN (s_statuses); i++)
    if (strcmp (status, s_statuses[i].name) == 0)
      return true;
  return false;
}

int
at_order_status_rank (const char *status)
{
  for (size_t i = 0; status && i < AT_ARRAY_LEN (s_statuses); i++)
    if (strcmp (status, s_statuses[i].name) == 0)
      return s_statuses[i].rank;
  return -1;
}

bool
at_order_status_customer_facing (const char *status)
{
  return at_order_status_known (status) && strcmp (status, "packed") != 0;
}

int
at_order_decide (const at_order_current_t *current, const char *status, int64_t occurred_us,
                 at_order_decision_t *decision_out, int *rank_out)
{
  if (!at_order_status_known (status))
    return AT_INVALID;
  bool exceptional = strcmp (status, "delayed") == 0 || strcmp (status, "failed_attempt") == 0;
  int cur_rank = current && current->exists ? current->rank : 0;
  int rank = exceptional ? cur_rank : at_order_status_rank (status);
  bool apply = true;

  if (current && current->exists) {
    if (occurred_us < current->status_at_us)
      apply = false;                               /* late event */
    else if (strcmp (status, current->status) == 0)
      apply = false;                               /* repeat of the current status */
    else if (exceptional || strcmp (status, "cancelled") == 0)
      apply = cur_rank < S_RANK_DELIVERED;          /* only before delivered */
    else
      apply = rank >= cur_rank;                    /* == only after delayed/failed_attempt */
  }
  *decision_out = apply ? AT_ORDER_APPLY : AT_ORDER_IGNORE;
  *rank_out = apply ? rank : cur_rank;
  return AT_OK;
}

int
at_order_decide_event (const at_order_current_t *current, const char *status,
                       int64_t occurred_us, const char *expected,
                       at_order_decision_t *decision_out, int *rank_out)
{
  int rc = at_order_decide (current, status, occurred_us, decision_out, rank_out);
  if (rc != AT_OK || *decision_out == AT_ORDER_APPLY || !current || !current->exists)
    return rc;
  bool new_estimate = expected && *expected && strcmp (status, current->status) == 0
                      && strcmp (expected, current->expected_delivery) != 0
                      && occurred_us >= current->status_at_us && !at_order_settled (current);
  if (new_estimate) {
    *decision_out = AT_ORDER_APPLY;
    *rank_out = current->rank;
  }
  return AT_OK;
}

bool
at_order_settled (const at_order_current_t *current)
{
  return current && current->exists && current->rank >= S_RANK_DELIVERED;
}

int
at_order_event_key (const char *event_id, const char *status, int64_t occurred_us,
                    char *out, size_t cap)
{
  int n;
  if (event_id && *event_id)
    n = snprintf (out, cap, "%s", event_id);
  else
    n = snprintf (out, cap, "%s@%" PRId64, status ? status : "", occurred_us);
  return n < 0 || (size_t) n >= cap ? AT_INVALID : AT_OK;
}

const char *
at_locale_pick (const char *customer_locale, const char *fallback)
{
  static const char *const known[] = {"pt-BR", "en", "es"};
  const char *tries[2] = {customer_locale, fallback};
  for (size_t t = 0; t < 2; t++) {
    const char *l = tries[t];
    if (!l || !*l)
      continue;
    if (strncmp (l, "pt", 2) == 0 && (l[2] == 0 || l[2] == '-' || l[2] == '_'))
      return known[0];
    if (strncmp (l, "en", 2) == 0 && (l[2] == 0 || l[2] == '-' || l[2] == '_'))
      return known[1];
    if (strncmp (l, "es", 2) == 0 && (l[2] == 0 || l[2] == '-' || l[2] == '_'))
      return known[2];
  }
  return known[0];
}

/* A boleto's linha digitavel: 47 digits (bank slips) or 48 (utilities and
 * taxes), written with or without the usual dots and spaces. */
static bool
s_boleto_ok (const char *code)
{
  size_t digits = 0;
  for (const char *p = code; *p; p++) {
    if (*p >= '0' && *p <= '9')
      digits++;
    else if (*p != '.' && *p != ' ')
      return false;
  }
  return digits == 47 || digits == 48;
}

/* A Pix copia-e-cola: an EMV BR Code, printable ASCII that starts with the
 * payload format indicator "000201". */
static bool
s_pix_ok (const char *code)
{
  size_t n = strlen (code);
  if (n < 20 || n > AT_ORDER_PAYMENT_CODE_MAX || strncmp (code, "000201", 6) != 0)
    return false;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char) code[i] < 0x20 || (unsigned char) code[i] > 0x7e)
      return false;
  return true;
}

int
at_order_payment_check (const char *method, const char *code, const char **field_out,
                        const char **why_out)
{
  bool has_method = method && *method, has_code = code && *code;
  *field_out = *why_out = "";
  if (!has_method && !has_code)
    return AT_OK;
  if (!has_method || (strcmp (method, "boleto") != 0 && strcmp (method, "pix") != 0)) {
    *field_out = "payment_method";
    *why_out = has_method ? "must be boleto or pix" : "is required with payment_code";
    return AT_INVALID;
  }
  *field_out = "payment_code";
  if (!has_code)
    *why_out = "is required with payment_method";
  else if (strlen (code) > AT_ORDER_PAYMENT_CODE_MAX)
    *why_out = "is too long";
  else if (strcmp (method, "boleto") == 0 && !s_boleto_ok (code))
    *why_out = "is not a boleto linha digitavel (47 or 48 digits)";
  else if (strcmp (method, "pix") == 0 && !s_pix_ok (code))
    *why_out = "is not a Pix copia-e-cola code (printable text starting 000201)";
  else
    return AT_OK;
  return AT_INVALID;
}
