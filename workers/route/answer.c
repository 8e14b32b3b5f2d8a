/* answer: the automatic answer to "where is my order", in the ticket's
 * language, from the customer's latest order. */
#include <stdio.h>
#include <string.h>

#include "route/answer.h"
#include "at_url.h"

typedef enum { S_PT = 0, S_EN, S_ES } s_locale_t;

/* What happened to the order, in words, completing "Your order 123 ...". */
static const struct {
  const char *status;
  const char *words[3];   /* pt, en, es */
  bool to_come;           /* the delivery is still ahead */
} s_status[] = {
  { "placed", { "foi recebido", "has been received", "fue recibido" }, true },
  { "confirmed", { "foi confirmado", "has been confirmed", "fue confirmado" }, true },
  { "packed", { "está sendo preparado para envio", "is being packed",
                "se está preparando para el envío" }, true },
  { "shipped", { "foi enviado", "has shipped", "fue enviado" }, true },
  { "in_transit", { "está a caminho", "is in transit", "está en camino" }, true },
  { "out_for_delivery", { "saiu para entrega", "is out for delivery", "salió para entrega" },
    true },
  { "delivered", { "foi entregue", "has been delivered", "fue entregado" }, false },
  { "delayed", { "está atrasado, pedimos desculpas", "is delayed, we are sorry",
                 "está retrasado, te pedimos disculpas" }, true },
  { "failed_attempt", { "teve uma tentativa de entrega sem sucesso",
                        "had a failed delivery attempt", "tuvo un intento de entrega fallido" },
    true },
  { "cancelled", { "foi cancelado", "has been cancelled", "fue cancelado" }, false },
  { "returned", { "foi devolvido", "has been returned", "fue devuelto" }, false },
};

static const char *const s_hello[3] = { "Olá! Seu pedido", "Hi! Your order", "¡Hola! Tu pedido" };
static const char *const s_unknown[3] = { "está com o status", "has the status",
                                          "tiene el estado" };
static const char *const s_expected[3] = { "Previsão de entrega", "Expected delivery",
                                           "Entrega prevista" };
static const char *const s_new_expected[3] = { "Nova previsão de entrega", "New expected delivery",
                                               "Nueva entrega prevista" };
static const char *const s_no_new_date[3] = {
  "Avisaremos assim que tivermos a nova data de entrega.",
  "We will let you know the new delivery date as soon as we have it.",
  "Te avisaremos en cuanto tengamos la nueva fecha de entrega." };
static const char *const s_track[3] = { "Acompanhe a entrega", "Track it here",
                                        "Sigue tu envío" };

static const char *const s_months_en[12] = {
  "January", "February", "March", "April", "May", "June", "July", "August", "September",
  "October", "November", "December",
};

static s_locale_t
s_locale (at_lang_t lang)
{
  return lang == AT_LANG_EN ? S_EN : lang == AT_LANG_ES ? S_ES : S_PT;
}

int
wrk_route_answer_date (const char *date, at_lang_t lang, char *out, size_t cap)
{
  int y, mo, d;
  char tail;
  if (!date || strlen (date) != 10 || sscanf (date, "%4d-%2d-%2d%c", &y, &mo, &d, &tail) != 3
      || date[4] != '-' || date[7] != '-')
    return AT_INVALID;
  static const int days[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > days[mo - 1]
      || (mo == 2 && d == 29 && !leap))
    return AT_INVALID;
  int n = s_locale (lang) == S_EN ? snprintf (out, cap, "%s %d, %d", s_months_en[mo - 1], d, y)
                                  : snprintf (out, cap, "%02d/%02d/%04d", d, mo, y);
  return n < 0 || (size_t) n >= cap ? AT_INVALID : AT_OK;
}

int
wrk_route_answer_order (const at_ticket_order_t *order, at_lang_t lang, char *out, size_t cap)
{
  s_locale_t loc = s_locale (lang);
  const char *words = NULL;
  bool to_come = true;
  for (size_t i = 0; i < AT_ARRAY_LEN (s_status); i++)
    if (strcmp (order->status, s_status[i].status) == 0) {
      words = s_status[i].words[loc];
      to_come = s_status[i].to_come;
    }
  int n = words ? snprintf (out, cap, "%s %s %s.", s_hello[loc], order->id, words)
                : snprintf (out, cap, "%s %s %s \"%s\".", s_hello[loc], order->id,
                            s_unknown[loc], order->status);
  if (n < 0 || (size_t) n >= cap)
    return AT_INVALID;
  size_t used = (size_t) n;
  char date[40];
  /* a delayed order's expected date is the new estimate; the missed one is gone */
  bool delayed = strcmp (order->status, "delayed") == 0;
  bool dated = wrk_route_answer_date (order->expected_delivery, lang, date, sizeof date) == AT_OK;
  if (to_come && (dated || delayed)) {
    n = dated ? snprintf (out + used, cap - used, " %s: %s.",
                          delayed ? s_new_expected[loc] : s_expected[loc], date)
              : snprintf (out + used, cap - used, " %s", s_no_new_date[loc]);
    if (n < 0 || (size_t) n >= cap - used)
      return AT_INVALID;
    used += (size_t) n;
  }
  if (to_come && at_url_is_web (order->tracking_url)) {
    n = snprintf (out + used, cap - used, " %s: %s", s_track[loc], order->tracking_url);
    if (n < 0 || (size_t) n >= cap - used)
      return AT_INVALID;
  }
  return AT_OK;
}
