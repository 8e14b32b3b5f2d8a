/* route: intent and priority of real-sounding customer messages in
 * Portuguese (pt-BR), English and Spanish. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "at_text.h"

typedef struct {
  const char *text;
  at_intent_t intent;
  int priority;
} case_t;

#define ORD AT_INTENT_ORDER_STATUS
#define RET AT_INTENT_RETURNS
#define OTH AT_INTENT_OTHER
#define N AT_PRIORITY_NORMAL
#define H AT_PRIORITY_HIGH

static const case_t s_pt[] = {
  { "Oi, cadê meu pedido? Comprei faz 10 dias", ORD, N },
  { "cade meu pedido", ORD, N },
  { "CADÊ MEU PEDIDO???", ORD, N },
  { "Boa tarde, onde está minha encomenda?", ORD, N },
  { "onde esta minha encomenda", ORD, N },
  { "Meu pedido ainda não chegou e o prazo já passou", ORD, N },
  { "meu pedido nao chegou ate agora", ORD, N },
  { "Vocês podem me passar o código de rastreio?", ORD, N },
  { "qual o rastreamento da minha compra", ORD, N },
  { "Quando chega o pedido 48213?", ORD, N },
  { "Qual a previsão de entrega do meu pedido?", ORD, N },
  { "Pedido atrasado, isso é um absurdo!!! Vou abrir reclamação no Procon", ORD, H },
  { "URGENTE: meu pedido não chegou", ORD, H },
  { "Já faz 20 dias e nada do meu pedido, vou no Reclame Aqui", ORD, H },
  { "Quero devolver o tênis, ficou pequeno", RET, N },
  { "Como faço a troca de tamanho?", RET, N },
  { "quero trocar o produto do meu pedido", RET, N },
  { "Gostaria de solicitar o reembolso da minha compra", RET, N },
  { "O produto veio com defeito, quero a devolução do dinheiro", RET, N },
  { "Exijo o estorno no cartão, atendimento péssimo", RET, H },
  { "Direito de arrependimento: quero meu dinheiro de volta", RET, N },
  { "Quero cancelar minha compra e ter o reembolso", RET, H },
  { "Vocês têm esse vestido no tamanho M?", OTH, N },
  { "Olá, qual o horário de atendimento da loja?", OTH, N },
  { "Quero fazer um pedido de 3 camisetas", OTH, N },
  { "Obrigado pela ajuda!", OTH, N },
};

static const case_t s_en[] = {
  { "Where is my order? I placed it last week", ORD, N },
  { "WHERE IS MY PACKAGE", ORD, N },
  { "where's my parcel??", ORD, N },
  { "Hi, my order hasn't arrived yet", ORD, N },
  { "Can you send me the tracking number?", ORD, N },
  { "Has my order shipped?", ORD, N },
  { "When will it arrive? Order #10293", ORD, N },
  { "This is unacceptable, my package is two weeks late. URGENT", ORD, H },
  { "I want to return these shoes", RET, N },
  { "How do I get a refund?", RET, N },
  { "Can I exchange the shirt for a larger size?", RET, N },
  { "Terrible quality, I want my money back", RET, H },
  { "Do you ship to Canada?", OTH, N },
  { "Is this jacket waterproof?", OTH, N },
  { "Thanks a lot for your help!", OTH, N },
};

static const case_t s_es[] = {
  { "Hola, ¿dónde está mi pedido?", ORD, N },
  { "donde esta mi paquete", ORD, N },
  { "Mi pedido todavía no ha llegado", ORD, N },
  { "¿Me pueden dar el número de seguimiento del envío?", ORD, N },
  { "¿Cuándo llega mi pedido?", ORD, N },
  { "Es urgente, necesito saber el estado del pedido", ORD, H },
  { "Quiero devolver la camiseta", RET, N },
  { "¿Cómo pido el reembolso?", RET, N },
  { "Quisiera hacer un cambio de talla", RET, N },
  { "Quiero poner una queja, quiero la devolución de mi dinero", RET, H },
  { "¿Tienen este modelo en azul?", OTH, N },
  { "Muchas gracias por todo", OTH, N },
};

/* Typos and odd writing customers really send. */
static const case_t s_typos[] = {
  { "cade o meu pedidoo", ORD, N },
  { "ond esta minha encomeda", ORD, N },
  { "qero o reenbolso", RET, N },
  { "wher is my oder, tracking pls", ORD, N },
  { "   \n\t  ", OTH, N },
  { "", OTH, N },
  { "🙂🙂🙂 pedido 🙂 não chegou 🙂", ORD, N },
};

static void
s_run (const case_t *cases, size_t n)
{
  int failures = 0;
  for (size_t i = 0; i < n; i++) {
    int priority = -1;
    at_intent_t intent = at_intent_classify (cases[i].text, &priority);
    if (intent != cases[i].intent || priority != cases[i].priority) {
      fprintf (stderr, "case \"%s\": got %s/%s, want %s/%s\n", cases[i].text,
               at_intent_name (intent), at_priority_name (priority),
               at_intent_name (cases[i].intent), at_priority_name (cases[i].priority));
      failures++;
    }
  }
  assert_int_equal (failures, 0);
}

static void
test_intent_portuguese (void **state)
{
  s_run (s_pt, AT_ARRAY_LEN (s_pt));
}

static void
test_intent_english (void **state)
{
  s_run (s_en, AT_ARRAY_LEN (s_en));
}

static void
test_intent_spanish (void **state)
{
  s_run (s_es, AT_ARRAY_LEN (s_es));
}

static void
test_intent_typos_and_noise (void **state)
{
  s_run (s_typos, AT_ARRAY_LEN (s_typos));
}

static void
test_intent_bad_input (void **state)
{
  int priority = -1;
  assert_int_equal (at_intent_classify (NULL, &priority), AT_INTENT_OTHER);
  assert_int_equal (priority, AT_PRIORITY_NORMAL);
  /* invalid UTF-8 is refused, not read */
  assert_int_equal (at_intent_classify ("onde est\xC3\x28 meu pedido \xFF", &priority),
                    AT_INTENT_OTHER);
  assert_int_equal (at_intent_classify ("cadê meu pedido", NULL), AT_INTENT_ORDER_STATUS);
  /* longer than a message may be: other, without reading it all */
  size_t len = AT_TEXT_MAX + 10;
  char *big = malloc (len + 1);
  for (size_t i = 0; i < len; i++)
    big[i] = "cade meu pedido "[i % 16];
  big[len] = '\0';
  assert_int_equal (at_intent_classify (big, &priority), AT_INTENT_OTHER);
  /* the longest accepted text still classifies */
  big[AT_TEXT_MAX - 1] = '\0';
  assert_int_equal (at_intent_classify (big, &priority), AT_INTENT_ORDER_STATUS);
  free (big);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_intent_portuguese),
    cmocka_unit_test (test_intent_english),
    cmocka_unit_test (test_intent_spanish),
    cmocka_unit_test (test_intent_typos_and_noise),
    cmocka_unit_test (test_intent_bad_input),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
