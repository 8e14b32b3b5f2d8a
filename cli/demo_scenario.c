/* demo_scenario: seeded customers, orders and messages of a sales peak in a
 * Brazilian store (mostly pt-BR, some en and es). xorshift64* PRNG, so a
 * seed always plays the same scenario. */
#define _GNU_SOURCE
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "demo_internal.h"
#include "at_json.h"

#define S_JSON_MAX (16 * 1024)

/* name with accents, its ASCII form for e-mail addresses */
static const char *s_first[][2] = {
  {"Ana", "ana"}, {"João", "joao"}, {"Maria", "maria"}, {"José", "jose"}, {"Francisca", "francisca"},
  {"Antônio", "antonio"}, {"Juliana", "juliana"}, {"Lucas", "lucas"}, {"Letícia", "leticia"},
  {"Gabriel", "gabriel"}, {"Beatriz", "beatriz"}, {"Rafael", "rafael"}, {"Camila", "camila"},
  {"Pedro", "pedro"}, {"Larissa", "larissa"}, {"Matheus", "matheus"}, {"Fernanda", "fernanda"},
  {"Thiago", "thiago"}, {"Aline", "aline"}, {"Felipe", "felipe"}, {"Patrícia", "patricia"},
  {"Gustavo", "gustavo"}, {"Vitória", "vitoria"}, {"Luís", "luis"}, {"Daniela", "daniela"},
  {"Bruno", "bruno"}, {"Sebastião", "sebastiao"}, {"Raimunda", "raimunda"}, {"Caio", "caio"},
  {"Conceição", "conceicao"},
};
static const char *s_last[][2] = {
  {"Silva", "silva"}, {"Santos", "santos"}, {"Oliveira", "oliveira"}, {"Souza", "souza"},
  {"Rodrigues", "rodrigues"}, {"Ferreira", "ferreira"}, {"Alves", "alves"}, {"Pereira", "pereira"},
  {"Lima", "lima"}, {"Gomes", "gomes"}, {"Ribeiro", "ribeiro"}, {"Carvalho", "carvalho"},
  {"Araújo", "araujo"}, {"Conceição", "conceicao"}, {"Gonçalves", "goncalves"}, {"Brandão", "brandao"},
  {"Magalhães", "magalhaes"}, {"Damasceno", "damasceno"}, {"Cavalcanti", "cavalcanti"}, {"Peixoto", "peixoto"},
};
static const char *s_mail_domains[] = { "gmail.com", "hotmail.com", "uol.com.br", "yahoo.com.br",
                                        "outlook.com", "bol.com.br", "terra.com.br" };
static const int s_ddds[] = { 11, 21, 31, 41, 51, 61, 71, 81, 85, 19, 27, 48, 62, 91 };
static const char *s_channels[] = { "email", "whatsapp", "sms", "chat" };
static const char *s_status[DEMO_ORDER_STEPS] = { "placed", "confirmed", "shipped", "in_transit",
                                                  "delivered" };

/* {order} is replaced by the order number; lists ending "_any" need no order. */
static const char *s_pt_order[] = {
  "Oi, cadê meu pedido {order}?", "Boa tarde! Meu pedido {order} ainda não chegou, podem verificar?",
  "Olá, qual o status da entrega do pedido {order}?", "Tem código de rastreio do pedido {order}?",
  "Quando chega minha encomenda? É o pedido {order}", "cade meu pedido {order}??? ja faz uma semana",
  "Bom dia, o prazo de entrega do pedido {order} já passou, onde está minha encomenda?",
};
static const char *s_pt_order_any[] = {
  "Quando chega minha encomenda?", "Oi, cadê meu pedido? Comprei na Black Friday",
  "Meu pedido não chegou ainda, o que aconteceu?",
};
static const char *s_en_order[] = { "Where is my order {order}?",
  "Hi, my package hasn't arrived yet. Can you check order {order}?",
  "Any tracking update for order {order}?" };
static const char *s_en_order_any[] = { "Where is my order?", "When will my package arrive?" };
static const char *s_es_order[] = { "Hola, ¿dónde está mi pedido {order}?",
  "No ha llegado mi pedido {order}, ¿pueden revisar el envío?" };
static const char *s_es_order_any[] = { "¿Cuándo llega mi paquete?", "¿Dónde está mi pedido?" };
static const char *s_pt_return[] = {
  "Quero devolver o tênis que comprei, ficou pequeno. Como faço a troca?",
  "Gostaria de pedir o reembolso, o produto veio com defeito",
  "Me arrependi da compra, posso devolver a airfryer?",
  "A TV chegou com a tela trincada, quero trocar urgente",
};
static const char *s_en_return[] = { "I'd like to return the jacket, it doesn't fit. How do I get a refund?",
  "Can I exchange my shoes for a bigger size?" };
static const char *s_es_return[] = { "Quiero devolver el producto, llegó dañado. ¿Cómo pido el reembolso?",
  "¿Puedo hacer un cambio de talla?" };
static const char *s_pt_other[] = {
  "Vocês têm essa geladeira na cor inox?", "O cupom BLACKFRIDAY não está funcionando no carrinho",
  "Consigo pagar no boleto em 3 vezes?", "Qual a voltagem da air fryer de 4 litros?",
  "Meu pagamento via Pix foi aprovado?", "Vocês emitem nota fiscal para CNPJ?",
};
static const char *s_en_other[] = { "Does the blender come with a warranty?",
  "Is the coupon valid for electronics?" };
static const char *s_es_other[] = { "¿Tienen este sofá en color gris?",
  "¿Aceptan pago con tarjeta en cuotas?" };

/* product questions the knowledge base's seed (deploy/kb/seed.json) answers */
static const char *s_pt_kb[] = {
  "Qual a garantia da air fryer? Tem garantia do fabricante?",
  "Como escolho o tamanho do tênis? Vocês têm tabela de medidas?",
  "O frete é grátis a partir de qual valor?", "A geladeira tem garantia de quantos meses?",
  "Qual numeração de calçado devo escolher? Fico entre dois tamanhos",
};
static const char *s_en_kb[] = { "Does the blender come with a warranty?",
  "Is there a size guide for shoes?", "How much is shipping? Is it free?" };
static const char *s_es_kb[] = { "¿Qué garantía tienen los productos?",
  "¿Tienen guía de tallas para ropa?", "¿Cuánto cuesta el envío?" };
/* the answer to "Isso resolveu?": yes, then no */
static const char *s_pt_kb_yes[] = { "sim", "Sim, obrigado!", "sim, resolveu", "Resolveu, valeu!" };
static const char *s_pt_kb_no[] = { "não", "Não, ainda tenho dúvida", "nao resolveu" };
static const char *s_en_kb_yes[] = { "yes", "Yes, thanks!" };
static const char *s_en_kb_no[] = { "no", "Not really" };
static const char *s_es_kb_yes[] = { "sí", "Sí, gracias" };
static const char *s_es_kb_no[] = { "no", "No, gracias" };
/* orders placed or confirmed, not shipped yet */
static const char *s_pt_cancel[] = {
  "Quero cancelar o pedido {order}", "Comprei errado, quero cancelar a compra do pedido {order}",
  "Por favor cancelem meu pedido {order}, desisti da compra",
  "Como faço pra cancelar o pedido {order}? Ainda não foi enviado",
};
static const char *s_en_cancel[] = { "Please cancel my order {order}",
  "I want to cancel order {order}, I ordered the wrong item" };
static const char *s_es_cancel[] = { "Quiero cancelar mi pedido {order}",
  "Por favor cancelen el pedido {order}" };
/* orders placed with a boleto or a Pix code, waiting for the payment (texts
 * the model reads as payment whatever the order number's length) */
static const char *s_pt_payment[] = {
  "Perdi o boleto do pedido {order}, como faço pra pagar?",
  "Como pago o boleto do pedido {order}? Não encontro o código",
};
static const char *s_en_payment[] = { "How can I pay for my order? I lost the boleto" };
static const char *s_es_payment[] = { "¿Cómo pago el pedido {order}? Perdí el código de Pix" };

static const char *s_pt_agent[] = {
  "Olá! Sinto muito pelo transtorno. Já abrimos uma solicitação e retornamos em até 24 horas.",
  "Oi! Verifiquei aqui e está tudo certo. Qualquer dúvida estamos à disposição.",
  "Olá! Enviamos as instruções de troca para o seu e-mail. A coleta é gratuita.",
};
static const char *s_en_agent[] = { "Hi! Sorry for the trouble, we have opened a request and will get back within 24 hours.",
  "Hello! I checked and everything is fine. Let us know if you need anything else." };
static const char *s_es_agent[] = { "¡Hola! Lamentamos el inconveniente, ya abrimos una solicitud y respondemos en 24 horas.",
  "¡Hola! Revisé y todo está en orden. Quedamos a disposición." };
static const char *s_comments[] = { "Atendimento rápido, obrigado!", "Resolveram meu problema",
  "Demorou um pouco mas resolveu", "Muito atenciosos", NULL, NULL };

#define S_PICK(r, a) ((a)[demo_rng_below ((r), (uint32_t) AT_ARRAY_LEN (a))])

void
demo_rng_seed (demo_rng_t *r, uint64_t seed)
{
  r->s = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
  if (r->s == 0)
    r->s = 1;
}

uint64_t
demo_rng_next (demo_rng_t *r)
{
  r->s ^= r->s >> 12;
  r->s ^= r->s << 25;
  r->s ^= r->s >> 27;
  return r->s * 0x2545F4914F6CDD1Dull;
}

uint32_t
demo_rng_below (demo_rng_t *r, uint32_t n)
{
  return n ? (uint32_t) ((demo_rng_next (r) >> 32) % n) : 0;
}

/* One text of the list for c's language. */
#define S_PICK_LANG(r, c, list) \
  (strcmp ((c)->lang, "en") == 0 ? S_PICK (r, s_en_##list) \
   : strcmp ((c)->lang, "es") == 0 ? S_PICK (r, s_es_##list) : S_PICK (r, s_pt_##list))

static void
s_fill_text (demo_customer_t *c, demo_rng_t *r)
{
  const char *t;
  switch (c->topic) {
  case DEMO_TOPIC_ORDER:
    if (c->order_id[0] && demo_rng_below (r, 4) != 0)
      t = S_PICK_LANG (r, c, order);
    else
      t = S_PICK_LANG (r, c, order_any);
    break;
  case DEMO_TOPIC_RETURN: t = S_PICK_LANG (r, c, return); break;
  case DEMO_TOPIC_KB: t = S_PICK_LANG (r, c, kb); break;
  case DEMO_TOPIC_CANCEL: t = S_PICK_LANG (r, c, cancel); break;
  case DEMO_TOPIC_PAYMENT: t = S_PICK_LANG (r, c, payment); break;
  default: t = S_PICK_LANG (r, c, other); break;
  }
  const char *hole = strstr (t, "{order}");
  if (hole)
    snprintf (c->text, sizeof c->text, "%.*s%s%s", (int) (hole - t), t, c->order_id, hole + 7);
  else
    at_strlcpy (c->text, t, sizeof c->text);
  uint32_t answer = c->topic == DEMO_TOPIC_KB ? demo_rng_below (r, 10) : 9;
  if (answer < 4)          /* 40 % say it solved it, 20 % that it did not */
    at_strlcpy (c->followup, S_PICK_LANG (r, c, kb_yes), sizeof c->followup);
  else if (answer < 6)
    at_strlcpy (c->followup, S_PICK_LANG (r, c, kb_no), sizeof c->followup);
}

/* CRC-16/CCITT-FALSE, the checksum that ends a Pix code. */
static unsigned
s_crc16 (const char *text)
{
  unsigned crc = 0xFFFF;
  for (const unsigned char *p = (const unsigned char *) text; *p; p++) {
    crc ^= (unsigned) *p << 8;
    for (int b = 0; b < 8; b++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xFFFF : (crc << 1) & 0xFFFF;
  }
  return crc;
}

/* A boleto's linha digitável (47 digits) or a Pix copia-e-cola code, due in
 * three days. */
static void
s_fill_payment (demo_customer_t *c, demo_rng_t *r)
{
  char digits[48], key[40];
  for (int i = 0; i < 47; i++)
    digits[i] = (char) ('0' + demo_rng_below (r, 10));
  digits[47] = '\0';
  snprintf (key, sizeof key, "%08x-%04x-4%03x-a%03x-%012llx", (unsigned) demo_rng_next (r),
            (unsigned) demo_rng_below (r, 0x10000), (unsigned) demo_rng_below (r, 0x1000),
            (unsigned) demo_rng_below (r, 0x1000),
            (unsigned long long) (demo_rng_next (r) & 0xFFFFFFFFFFFFull));
  if (demo_rng_below (r, 2) == 0) {
    at_strlcpy (c->payment_method, "boleto", sizeof c->payment_method);
    snprintf (c->payment_code, sizeof c->payment_code, "23793.%.5s %.5s.%.6s %.5s.%.6s %.1s %.14s",
              digits, digits + 5, digits + 10, digits + 16, digits + 21, digits + 27, digits + 28);
  }
  else {
    char amount[16], head[256];
    snprintf (amount, sizeof amount, "%u.%02u", 49 + demo_rng_below (r, 900),
              demo_rng_below (r, 100));
    snprintf (head, sizeof head, "00020126580014BR.GOV.BCB.PIX0136%s52040000530398654%02zu%s"
              "5802BR5913LOJA EXEMPLO6009SAO PAULO62070503***6304", key, strlen (amount), amount);
    at_strlcpy (c->payment_method, "pix", sizeof c->payment_method);
    snprintf (c->payment_code, sizeof c->payment_code, "%s%04X", head, s_crc16 (head));
  }
  time_t due = time (NULL) + 3 * 86400;
  struct tm tm;
  gmtime_r (&due, &tm);
  strftime (c->payment_due, sizeof c->payment_due, "%Y-%m-%d", &tm);
}

/* The topic (order status stays the biggest share), and the order it needs:
 * a cancel, an order not shipped yet; a payment, one only placed, with its
 * code. */
static void
s_fill_topic (demo_customer_t *c, size_t i, demo_rng_t *r, uint64_t seed)
{
  uint32_t topic = demo_rng_below (r, 100);
  c->topic = topic < 38 ? DEMO_TOPIC_ORDER : topic < 52 ? DEMO_TOPIC_RETURN
             : topic < 64 ? DEMO_TOPIC_OTHER : topic < 82 ? DEMO_TOPIC_KB
             : topic < 90 ? DEMO_TOPIC_CANCEL : DEMO_TOPIC_PAYMENT;
  if (c->topic != DEMO_TOPIC_CANCEL && c->topic != DEMO_TOPIC_PAYMENT)
    return;
  if (!c->order_id[0])
    snprintf (c->order_id, sizeof c->order_id, "%llu",
              (unsigned long long) (100000 + (seed % 1000) * 100000 + i));
  c->order_steps = c->topic == DEMO_TOPIC_CANCEL ? 1 + (int) demo_rng_below (r, 2) : 1;
  if (c->topic == DEMO_TOPIC_PAYMENT)
    s_fill_payment (c, r);
}

static void
s_fill_customer (demo_customer_t *c, size_t i, demo_rng_t *r, uint64_t seed)
{
  uint32_t f = demo_rng_below (r, AT_ARRAY_LEN (s_first));
  uint32_t l = demo_rng_below (r, AT_ARRAY_LEN (s_last));
  snprintf (c->name, sizeof c->name, "%s %s", s_first[f][0], s_last[l][0]);
  uint32_t ch = demo_rng_below (r, 10);   /* email 40%, whatsapp 30%, sms 10%, chat 20% */
  at_strlcpy (c->channel, s_channels[ch < 4 ? 0 : ch < 7 ? 1 : ch < 8 ? 2 : 3], sizeof c->channel);
  if (strcmp (c->channel, "email") == 0)
    snprintf (c->handle, sizeof c->handle, "%s.%s.%zu@%s", s_first[f][1], s_last[l][1], i,
              S_PICK (r, s_mail_domains));
  else if (strcmp (c->channel, "chat") == 0)
    snprintf (c->handle, sizeof c->handle, "chat-%llu-%zu", (unsigned long long) seed, i);
  else   /* one distinct mobile number per customer: +55 DDD 9XXXXXXXX */
    snprintf (c->handle, sizeof c->handle, "+55%d9%08llu", S_PICK (r, s_ddds),
              (unsigned long long) ((seed * 7919 + i) % 100000000ull));
  uint32_t lang = demo_rng_below (r, 20);  /* pt-BR 75%, en 15%, es 10% */
  at_strlcpy (c->lang, lang < 15 ? "pt-BR" : lang < 18 ? "en" : "es", sizeof c->lang);
  if (demo_rng_below (r, 10) < 7) {
    snprintf (c->order_id, sizeof c->order_id, "%llu",
              (unsigned long long) (100000 + (seed % 1000) * 100000 + i));
    c->order_steps = 2 + (int) demo_rng_below (r, DEMO_ORDER_STEPS - 1);   /* 2..5 */
  }
  s_fill_topic (c, i, r, seed);
  time_t when = time (NULL) + (time_t) (2 + demo_rng_below (r, 6)) * 86400;
  struct tm tm;
  gmtime_r (&when, &tm);
  strftime (c->expected, sizeof c->expected, "%Y-%m-%d", &tm);
  s_fill_text (c, r);
}

demo_customer_t *
demo_scenario_customers (size_t n, uint64_t seed)
{
  demo_customer_t *all = at_calloc (n ? n : 1, sizeof *all);
  demo_rng_t r;
  demo_rng_seed (&r, seed);
  for (size_t i = 0; i < n; i++)
    s_fill_customer (&all[i], i, &r, seed);
  return all;
}

const char *
demo_order_status (int step)
{
  return step >= 0 && step < DEMO_ORDER_STEPS ? s_status[step] : NULL;
}

static char *
s_dump (json_t *doc)
{
  char *text = at_json_dump (doc, S_JSON_MAX);
  json_decref (doc);
  return text;
}

char *
demo_scenario_order_event (const demo_customer_t *c, int step, const char *run)
{
  char event_id[96], when[32];
  snprintf (event_id, sizeof event_id, "%s-%s-%s", run, c->order_id, s_status[step]);
  /* the events happened over the last days, one after the other */
  time_t t = time (NULL) - (time_t) (DEMO_ORDER_STEPS - step) * 3600 * 9;
  struct tm tm;
  gmtime_r (&t, &tm);
  strftime (when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  json_t *doc = json_pack ("{s:s, s:s, s:s, s:{s:s, s:s, s:s}}", "status", s_status[step],
                           "event_id", event_id, "occurred_at", when, "customer", "channel",
                           c->channel, "handle", c->handle, "name", c->name);
  if (step >= 2 && step < 4) {
    char url[128];
    snprintf (url, sizeof url, "https://rastreio.exemplo.com.br/BR%s", c->order_id);
    json_object_set_new (doc, "expected_delivery", json_string (c->expected));
    json_object_set_new (doc, "tracking_url", json_string (url));
  }
  if (step == 0 && c->payment_method[0]) {
    json_object_set_new (doc, "payment_method", json_string (c->payment_method));
    json_object_set_new (doc, "payment_code", json_string (c->payment_code));
    json_object_set_new (doc, "payment_due", json_string (c->payment_due));
  }
  return s_dump (doc);
}

static char *
s_message (const demo_customer_t *c, const char *provider_id, const char *text)
{
  json_t *doc = json_pack ("{s:s, s:s, s:s, s:s, s:s}", "channel", c->channel, "handle",
                           c->handle, "text", text, "provider_message_id", provider_id,
                           "name", c->name);
  if (strcmp (c->channel, "email") == 0)
    json_object_set_new (doc, "subject", json_string (c->topic == DEMO_TOPIC_ORDER ? "Meu pedido"
                                                      : "Atendimento"));
  return s_dump (doc);
}

char *
demo_scenario_message (const demo_customer_t *c, size_t index, const char *run)
{
  char provider_id[96];
  snprintf (provider_id, sizeof provider_id, "demo-%s-%zu", run, index);
  return s_message (c, provider_id, c->text);
}

char *
demo_scenario_followup (const demo_customer_t *c, size_t index, const char *run)
{
  char provider_id[96];
  if (!c->followup[0])
    return NULL;
  snprintf (provider_id, sizeof provider_id, "demo-%s-%zu-kb", run, index);
  return s_message (c, provider_id, c->followup);
}

long
demo_scenario_index (const char *provider_id, const char *run)
{
  char prefix[96];
  int n = snprintf (prefix, sizeof prefix, "demo-%s-", run);
  if (n < 0 || (size_t) n >= sizeof prefix || strncmp (provider_id, prefix, (size_t) n) != 0)
    return -1;
  long index = 0;
  return at_parse_long (provider_id + n, 0, LONG_MAX, &index) == AT_OK ? index : -1;
}

char *
demo_scenario_agent_reply (demo_rng_t *r, const char *lang)
{
  const char *text = lang && strncmp (lang, "en", 2) == 0 ? S_PICK (r, s_en_agent)
                     : lang && strncmp (lang, "es", 2) == 0 ? S_PICK (r, s_es_agent)
                                                            : S_PICK (r, s_pt_agent);
  static const char *agents[] = { "carla.mendes", "rodrigo.alves", "bianca.souza" };
  return s_dump (json_pack ("{s:s, s:s}", "agent", S_PICK (r, agents), "text", text));
}

char *
demo_scenario_survey_answer (demo_rng_t *r)
{
  static const int scores[] = { 5, 5, 5, 5, 5, 4, 4, 4, 3, 2, 1, 5, 4, 5, 4, 5, 5, 4, 3, 5 };
  json_t *doc = json_pack ("{s:i}", "score", S_PICK (r, scores));
  const char *comment = S_PICK (r, s_comments);
  if (comment)
    json_object_set_new (doc, "comment", json_string (comment));
  return s_dump (doc);
}
