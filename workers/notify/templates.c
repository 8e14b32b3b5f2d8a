/* Order-status templates. Placeholders: {first_name} {order_id}
 * {expected_date} {tracking_url}. A [bracketed] part is left out when a
 * placeholder inside it has no value. Values are inserted as they are (the
 * brackets and braces of a value are not interpreted). */
#include <stdio.h>
#include <string.h>
#include "templates.h"

typedef struct {
  const char *status;
  const char *text[3];   /* pt-BR, en, es */
} s_template_t;

static const s_template_t s_templates[] = {
  {"placed", {
    "Olá[, {first_name}]! Recebemos o seu pedido {order_id}. Avisaremos cada etapa por aqui.",
    "Hi[ {first_name}]! We have received your order {order_id}. We will keep you posted here.",
    "¡Hola[, {first_name}]! Recibimos tu pedido {order_id}. Te avisaremos de cada etapa por aquí."}},
  {"confirmed", {
    "Olá[, {first_name}]! O pagamento do pedido {order_id} foi confirmado.[ Previsão de entrega: {expected_date}.]",
    "Hi[ {first_name}]! Payment for order {order_id} is confirmed.[ Expected delivery: {expected_date}.]",
    "¡Hola[, {first_name}]! El pago del pedido {order_id} fue confirmado.[ Entrega prevista: {expected_date}.]"}},
  {"shipped", {
    "Olá[, {first_name}]! O pedido {order_id} foi enviado.[ Previsão de entrega: {expected_date}.][ Acompanhe: {tracking_url}]",
    "Hi[ {first_name}]! Order {order_id} has shipped.[ Expected delivery: {expected_date}.][ Track it: {tracking_url}]",
    "¡Hola[, {first_name}]! El pedido {order_id} fue enviado.[ Entrega prevista: {expected_date}.][ Síguelo: {tracking_url}]"}},
  {"in_transit", {
    "Olá[, {first_name}]! O pedido {order_id} está a caminho.[ Previsão de entrega: {expected_date}.][ Acompanhe: {tracking_url}]",
    "Hi[ {first_name}]! Order {order_id} is on its way.[ Expected delivery: {expected_date}.][ Track it: {tracking_url}]",
    "¡Hola[, {first_name}]! El pedido {order_id} está en camino.[ Entrega prevista: {expected_date}.][ Síguelo: {tracking_url}]"}},
  {"out_for_delivery", {
    "Olá[, {first_name}]! O pedido {order_id} saiu para entrega e chega hoje.[ Acompanhe: {tracking_url}]",
    "Hi[ {first_name}]! Order {order_id} is out for delivery and arrives today.[ Track it: {tracking_url}]",
    "¡Hola[, {first_name}]! El pedido {order_id} salió para entrega y llega hoy.[ Síguelo: {tracking_url}]"}},
  {"delivered", {
    "Olá[, {first_name}]! O pedido {order_id} foi entregue. Aproveite!",
    "Hi[ {first_name}]! Order {order_id} has been delivered. Enjoy!",
    "¡Hola[, {first_name}]! El pedido {order_id} fue entregado. ¡Que lo disfrutes!"}},
  {"delayed", {
    "Olá[, {first_name}]! O pedido {order_id} atrasou, desculpe.[ Nova previsão de entrega: {expected_date}.][ Acompanhe: {tracking_url}]",
    "Hi[ {first_name}]! Order {order_id} is delayed, sorry.[ New expected delivery: {expected_date}.][ Track it: {tracking_url}]",
    "¡Hola[, {first_name}]! El pedido {order_id} está retrasado, disculpa.[ Nueva entrega prevista: {expected_date}.][ Síguelo: {tracking_url}]"}},
  {"failed_attempt", {
    "Olá[, {first_name}]! Tentamos entregar o pedido {order_id}, mas não conseguimos. Faremos uma nova tentativa.[ Acompanhe: {tracking_url}]",
    "Hi[ {first_name}]! We tried to deliver order {order_id} but could not. We will try again.[ Track it: {tracking_url}]",
    "¡Hola[, {first_name}]! Intentamos entregar el pedido {order_id}, pero no fue posible. Lo intentaremos de nuevo.[ Síguelo: {tracking_url}]"}},
  {"cancelled", {
    "Olá[, {first_name}]! O pedido {order_id} foi cancelado. Se tiver dúvidas, é só responder esta mensagem.",
    "Hi[ {first_name}]! Order {order_id} has been cancelled. If you have questions, just reply to this message.",
    "¡Hola[, {first_name}]! El pedido {order_id} fue cancelado. Si tienes dudas, responde a este mensaje."}},
  {"returned", {
    "Olá[, {first_name}]! Recebemos a devolução do pedido {order_id}. Avisaremos quando o reembolso for processado.",
    "Hi[ {first_name}]! We have received the return of order {order_id}. We will let you know when the refund is processed.",
    "¡Hola[, {first_name}]! Recibimos la devolución del pedido {order_id}. Te avisaremos cuando se procese el reembolso."}},
};

static const char *const s_months_en[] = {
  "January", "February", "March", "April", "May", "June", "July", "August", "September",
  "October", "November", "December"
};

static int
s_locale_index (const char *locale)
{
  if (locale && strcmp (locale, "en") == 0)
    return 1;
  if (locale && strcmp (locale, "es") == 0)
    return 2;
  return 0;
}

int
wrk_notify_date (const char *iso_date, const char *locale, char *out, size_t cap)
{
  int y, m, d;
  char extra;
  if (!iso_date || strlen (iso_date) != 10 || iso_date[4] != '-' || iso_date[7] != '-'
      || sscanf (iso_date, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3 || y < 1970 || m < 1
      || m > 12 || d < 1 || d > 31)
    return AT_INVALID;
  int n = s_locale_index (locale) == 1
            ? snprintf (out, cap, "%s %d, %d", s_months_en[m - 1], d, y)
            : snprintf (out, cap, "%02d/%02d/%04d", d, m, y);
  return n > 0 && (size_t) n < cap ? AT_OK : AT_INVALID;
}

/* The value of placeholder name (length len), NULL if unknown. */
static const char *
s_value (const wrk_notify_vars_t *v, const char *date, const char *name, size_t len)
{
  if (len == 10 && strncmp (name, "first_name", len) == 0)
    return v->first_name ? v->first_name : "";
  if (len == 8 && strncmp (name, "order_id", len) == 0)
    return v->order_id ? v->order_id : "";
  if (len == 13 && strncmp (name, "expected_date", len) == 0)
    return date;
  if (len == 12 && strncmp (name, "tracking_url", len) == 0)
    return v->tracking_url ? v->tracking_url : "";
  return NULL;
}

typedef struct {
  char *out;
  size_t cap, len;
  bool overflow;
} s_buf_t;

static void
s_put (s_buf_t *b, const char *s, size_t n)
{
  if (b->len + n >= b->cap) {
    b->overflow = true;
    return;
  }
  memcpy (b->out + b->len, s, n);
  b->len += n;
  b->out[b->len] = 0;
}

int
wrk_notify_render (const char *status, const char *locale, const wrk_notify_vars_t *vars,
                   char *out, size_t cap)
{
  const char *tpl = NULL;
  char date[48] = "";
  for (size_t i = 0; i < AT_ARRAY_LEN (s_templates); i++)
    if (status && strcmp (status, s_templates[i].status) == 0)
      tpl = s_templates[i].text[s_locale_index (locale)];
  if (!tpl)
    return AT_NOTFOUND;
  if (vars->expected_date && *vars->expected_date
      && wrk_notify_date (vars->expected_date, locale, date, sizeof date) != AT_OK)
    date[0] = 0;
  s_buf_t b = {out, cap, 0, cap == 0};
  size_t section_start = 0;
  bool in_section = false, section_empty = false;
  if (cap > 0)
    out[0] = 0;
  for (const char *p = tpl; *p && !b.overflow; p++) {
    if (*p == '[') {
      in_section = true;
      section_empty = false;
      section_start = b.len;
    } else if (*p == ']') {
      if (in_section && section_empty) {
        b.len = section_start;
        b.out[b.len] = 0;
      }
      in_section = false;
    } else if (*p == '{') {
      const char *end = strchr (p, '}');
      const char *value = end ? s_value (vars, date, p + 1, (size_t) (end - p - 1)) : NULL;
      if (!value) {
        s_put (&b, p, 1);
        continue;
      }
      if (!*value)
        section_empty = true;
      s_put (&b, value, strlen (value));
      p = end;
    } else
      s_put (&b, p, 1);
  }
  return b.overflow ? AT_INVALID : AT_OK;
}
