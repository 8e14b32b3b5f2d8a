/* olist: reads the Olist sample and turns each order into atende order events
 * (purchase -> placed, approved -> confirmed, delivered_carrier -> shipped,
 * a synthesized in_transit halfway between shipped and delivered,
 * delivered_customer -> delivered, canceled/unavailable -> a synthesized
 * cancelled) plus the delay check due at the end of the estimated day. Olist's
 * timestamps are local times in Brazil, taken as -03:00. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "olist.h"

#define S_LINE_MAX 1024
#define S_FIELDS_MAX 12
#define S_ORDERS_MAX 100000
#define S_OFFSET_US (3LL * 3600 * 1000000)   /* -03:00 */

typedef struct { char id[OLIST_ID_LEN], unique[OLIST_ID_LEN]; } s_customer_t;

/* Splits line in place on commas (the sample has no quoted fields). */
static int
s_split (char *line, char **fields, int max)
{
  int n = 0;
  line[strcspn (line, "\r\n")] = 0;
  for (char *p = line; n < max; n++) {
    fields[n] = p;
    char *comma = strchr (p, ',');
    if (!comma)
      return n + 1;
    *comma = 0;
    p = comma + 1;
  }
  return -1;
}

/* "YYYY-MM-DD HH:MM:SS" local -> UTC microseconds and RFC 3339; false if empty/bad. */
static bool
s_time (const char *text, int64_t *us, char *rfc, size_t cap)
{
  struct tm tm = {0};
  char extra;
  if (sscanf (text, "%4d-%2d-%2d %2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
              &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &extra) != 6)
    return false;
  char date_part[20];
  at_strlcpy (date_part, text, sizeof date_part);
  date_part[10] = 'T';
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  *us = (int64_t) timegm (&tm) * 1000000 + S_OFFSET_US;
  if (rfc)
    snprintf (rfc, cap, "%.19s-03:00", date_part);
  return true;
}

static int
s_customer_cmp (const void *a, const void *b)
{
  return strcmp (((const s_customer_t *) a)->id, ((const s_customer_t *) b)->id);
}

static int
s_customers (const char *dir, s_customer_t **out, size_t *n_out)
{
  char path[1024], line[S_LINE_MAX], *f[S_FIELDS_MAX];
  snprintf (path, sizeof path, "%s/olist_customers_dataset.csv", dir);
  FILE *in = fopen (path, "r");
  if (!in)
    return AT_NOTFOUND;
  size_t n = 0, cap = 1024;
  s_customer_t *c = at_calloc (cap, sizeof *c);
  fgets (line, sizeof line, in);                       /* header */
  while (fgets (line, sizeof line, in) && n < S_ORDERS_MAX) {
    if (s_split (line, f, S_FIELDS_MAX) < 2)
      continue;
    if (n == cap) {
      cap *= 2;
      c = realloc (c, cap * sizeof *c);
      if (!c)
        abort ();
    }
    at_strlcpy (c[n].id, f[0], sizeof c[n].id);
    at_strlcpy (c[n].unique, f[1], sizeof c[n].unique);
    n++;
  }
  fclose (in);
  qsort (c, n, sizeof *c, s_customer_cmp);
  *out = c;
  *n_out = n;
  return AT_OK;
}

static olist_item_t *
s_item (olist_t *o, size_t *cap, int order, olist_kind_t kind, const char *status, int64_t at,
        const char *rfc, bool synthesized)
{
  if (o->n_items == *cap) {
    *cap *= 2;
    o->items = realloc (o->items, *cap * sizeof *o->items);
    if (!o->items)
      abort ();
  }
  olist_item_t *it = &o->items[o->n_items++];
  memset (it, 0, sizeof *it);
  it->at_us = at;
  it->kind = kind;
  it->order = order;
  it->status = status;
  it->synthesized = synthesized;
  if (rfc)
    at_strlcpy (it->occurred_at, rfc, sizeof it->occurred_at);
  o->n_synthesized += synthesized;
  return it;
}

/* The RFC 3339 form of a simulated instant. */
static void
s_rfc (int64_t us, char *out, size_t cap)
{
  time_t t = (time_t) ((us - S_OFFSET_US) / 1000000);
  struct tm tm;
  gmtime_r (&t, &tm);
  strftime (out, cap, "%Y-%m-%dT%H:%M:%S-03:00", &tm);
}

/* The events and the delay check of one order (fields of its CSV row). */
static void
s_order_items (olist_t *o, size_t *cap, int idx, char **f)
{
  olist_order_t *ord = &o->orders[idx];
  static const char *const statuses[] = {"placed", "confirmed", "shipped", "delivered"};
  int64_t at[4] = {0}, last = 0;
  char rfc[32], mid[32];
  bool have[4];
  for (int i = 0; i < 4; i++) {
    have[i] = s_time (f[3 + i], &at[i], rfc, sizeof rfc);
    if (have[i]) {
      s_item (o, cap, idx, OLIST_EVENT, statuses[i], at[i], rfc, false);
      last = at[i] > last ? at[i] : last;
    }
  }
  if (have[2] && have[3] && at[3] > at[2]) {
    int64_t half = at[2] + (at[3] - at[2]) / 2;
    s_rfc (half, mid, sizeof mid);
    s_item (o, cap, idx, OLIST_EVENT, "in_transit", half, mid, true);
  }
  bool cancelled = strcmp (ord->status, "canceled") == 0 || strcmp (ord->status, "unavailable") == 0;
  if (cancelled && last > 0) {
    s_rfc (last + 1000000, mid, sizeof mid);
    s_item (o, cap, idx, OLIST_EVENT, "cancelled", last + 1000000, mid, true);
  }
  int64_t due;
  char day[24];
  if (cancelled || !ord->expected[0])
    return;
  snprintf (day, sizeof day, "%s 00:00:00", ord->expected);
  if (!s_time (day, &due, NULL, 0))
    return;
  due += 86400LL * 1000000;                      /* the end of the expected day */
  s_item (o, cap, idx, OLIST_CHECK, NULL, due, NULL, false);
  ord->late = have[3] && at[3] >= due;
  ord->never_delivered = !have[3];
  o->n_late += ord->late;
  o->n_never_delivered += ord->never_delivered;
}

static int
s_item_cmp (const void *a, const void *b)
{
  const olist_item_t *x = a, *y = b;
  if (x->at_us != y->at_us)
    return x->at_us < y->at_us ? -1 : 1;
  if (x->kind != y->kind)
    return (int) x->kind - (int) y->kind;
  return x->order - y->order;
}

static int
s_orders (const char *dir, size_t max, const s_customer_t *cust, size_t n_cust, olist_t *o)
{
  char path[1024], line[S_LINE_MAX], *f[S_FIELDS_MAX];
  snprintf (path, sizeof path, "%s/olist_orders_dataset.csv", dir);
  FILE *in = fopen (path, "r");
  if (!in)
    return AT_NOTFOUND;
  size_t cap = 4096, item_cap = 16384;
  o->orders = at_calloc (cap, sizeof *o->orders);
  o->items = at_calloc (item_cap, sizeof *o->items);
  fgets (line, sizeof line, in);
  while (fgets (line, sizeof line, in) && (max == 0 || o->n_orders < max)
         && o->n_orders < S_ORDERS_MAX) {
    if (s_split (line, f, S_FIELDS_MAX) != 8 || strlen (f[0]) >= OLIST_ID_LEN)
      continue;
    if (o->n_orders == cap) {
      cap *= 2;
      o->orders = realloc (o->orders, cap * sizeof *o->orders);
      if (!o->orders)
        abort ();
    }
    olist_order_t *ord = &o->orders[o->n_orders];
    memset (ord, 0, sizeof *ord);
    s_customer_t key;
    at_strlcpy (key.id, f[1], sizeof key.id);
    const s_customer_t *c = bsearch (&key, cust, n_cust, sizeof *cust, s_customer_cmp);
    at_strlcpy (ord->id, f[0], sizeof ord->id);
    at_strlcpy (ord->customer, c ? c->unique : f[1], sizeof ord->customer);
    at_strlcpy (ord->status, f[2], sizeof ord->status);
    if (strlen (f[7]) >= 10) {
      memcpy (ord->expected, f[7], 10);
      ord->expected[10] = 0;
    }
    s_order_items (o, &item_cap, (int) o->n_orders++, f);
  }
  fclose (in);
  qsort (o->items, o->n_items, sizeof *o->items, s_item_cmp);
  return AT_OK;
}

int
olist_load (const char *dir, size_t max_orders, olist_t **out)
{
  s_customer_t *cust = NULL;
  size_t n_cust = 0;
  *out = NULL;
  int rc = s_customers (dir, &cust, &n_cust);
  if (rc != AT_OK)
    return rc;
  olist_t *o = at_calloc (1, sizeof *o);
  rc = s_orders (dir, max_orders, cust, n_cust, o);
  free (cust);
  if (rc != AT_OK) {
    olist_destroy (&o);
    return rc;
  }
  *out = o;
  return AT_OK;
}

void
olist_destroy (olist_t **self_p)
{
  if (!self_p || !*self_p)
    return;
  free ((*self_p)->orders);
  free ((*self_p)->items);
  free (*self_p);
  *self_p = NULL;
}
