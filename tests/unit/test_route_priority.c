/* route: priority of real-sounding customer messages in Portuguese (pt-BR),
 * English and Spanish (their intent: tests/unit/test_intent_model.c). */
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
  int priority;
} case_t;

#define N AT_PRIORITY_NORMAL
#define H AT_PRIORITY_HIGH

static const case_t s_pt[] = {
  { "Oi, cadê meu pedido? Comprei faz 10 dias", N },
  { "cade meu pedido", N },
  { "CADÊ MEU PEDIDO???", N },
  { "Boa tarde, onde está minha encomenda?", N },
  { "onde esta minha encomenda", N },
  { "Meu pedido ainda não chegou e o prazo já passou", N },
  { "meu pedido nao chegou ate agora", N },
  { "Vocês podem me passar o código de rastreio?", N },
  { "qual o rastreamento da minha compra", N },
  { "Quando chega o pedido 48213?", N },
  { "Qual a previsão de entrega do meu pedido?", N },
  { "Pedido atrasado, isso é um absurdo!!! Vou abrir reclamação no Procon", H },
  { "URGENTE: meu pedido não chegou", H },
  { "Já faz 20 dias e nada do meu pedido, vou no Reclame Aqui", H },
  { "Quero devolver o tênis, ficou pequeno", N },
  { "Como faço a troca de tamanho?", N },
  { "quero trocar o produto do meu pedido", N },
  { "Gostaria de solicitar o reembolso da minha compra", N },
  { "O produto veio com defeito, quero a devolução do dinheiro", N },
  { "Exijo o estorno no cartão, atendimento péssimo", H },
  { "Direito de arrependimento: quero meu dinheiro de volta", N },
  { "Quero cancelar minha compra e ter o reembolso", H },
  { "Vocês têm esse vestido no tamanho M?", N },
  { "Olá, qual o horário de atendimento da loja?", N },
  { "Quero fazer um pedido de 3 camisetas", N },
  { "Obrigado pela ajuda!", N },
};

static const case_t s_en[] = {
  { "Where is my order? I placed it last week", N },
  { "WHERE IS MY PACKAGE", N },
  { "where's my parcel??", N },
  { "Hi, my order hasn't arrived yet", N },
  { "Can you send me the tracking number?", N },
  { "Has my order shipped?", N },
  { "When will it arrive? Order #10293", N },
  { "This is unacceptable, my package is two weeks late. URGENT", H },
  { "I want to return these shoes", N },
  { "How do I get a refund?", N },
  { "Can I exchange the shirt for a larger size?", N },
  { "Terrible quality, I want my money back", H },
  { "Do you ship to Canada?", N },
  { "Is this jacket waterproof?", N },
  { "Thanks a lot for your help!", N },
};

static const case_t s_es[] = {
  { "Hola, ¿dónde está mi pedido?", N },
  { "donde esta mi paquete", N },
  { "Mi pedido todavía no ha llegado", N },
  { "¿Me pueden dar el número de seguimiento del envío?", N },
  { "¿Cuándo llega mi pedido?", N },
  { "Es urgente, necesito saber el estado del pedido", H },
  { "Quiero devolver la camiseta", N },
  { "¿Cómo pido el reembolso?", N },
  { "Quisiera hacer un cambio de talla", N },
  { "Quiero poner una queja, quiero la devolución de mi dinero", H },
  { "¿Tienen este modelo en azul?", N },
  { "Muchas gracias por todo", N },
};

/* Typos and odd writing customers really send. */
static const case_t s_typos[] = {
  { "cade o meu pedidoo", N },
  { "ond esta minha encomeda", N },
  { "qero o reenbolso", N },
  { "wher is my oder, tracking pls", N },
  { "   \n\t  ", N },
  { "", N },
  { "🙂🙂🙂 pedido 🙂 não chegou 🙂", N },
};

static void
s_run (const case_t *cases, size_t n)
{
  int failures = 0;
  for (size_t i = 0; i < n; i++) {
    int priority = at_priority_classify (cases[i].text);
    if (priority != cases[i].priority) {
      fprintf (stderr, "case \"%s\": got %s, want %s\n", cases[i].text,
               at_priority_name (priority), at_priority_name (cases[i].priority));
      failures++;
    }
  }
  assert_int_equal (failures, 0);
}

static void
test_priority_portuguese (void **state)
{
  s_run (s_pt, AT_ARRAY_LEN (s_pt));
}

static void
test_priority_english (void **state)
{
  s_run (s_en, AT_ARRAY_LEN (s_en));
}

static void
test_priority_spanish (void **state)
{
  s_run (s_es, AT_ARRAY_LEN (s_es));
}

static void
test_priority_typos_and_noise (void **state)
{
  s_run (s_typos, AT_ARRAY_LEN (s_typos));
}

/* Why: each message gives the reasons a lead would name. */
static const struct {
  const char *text;
  unsigned reasons;
} s_reasons[] = {
  { "Já faz 20 dias e nada do meu pedido, vou no Reclame Aqui", AT_PRIORITY_AGENCY },
  { "Vou abrir reclamação no consumidor.gov.br", AT_PRIORITY_AGENCY },
  { "Se não resolverem vou falar com meu advogado", AT_PRIORITY_AGENCY },
  { "Vou processar a loja", AT_PRIORITY_AGENCY },
  { "I will file a chargeback and talk to my lawyer", AT_PRIORITY_AGENCY },
  { "Voy a poner una denuncia en PROFECO", AT_PRIORITY_AGENCY },
  { "Péssimo atendimento, nunca mais compro aqui", AT_PRIORITY_NEGATIVE },
  { "pedido chegou errado 😡", AT_PRIORITY_NEGATIVE },
  { "This is a scam, worst store ever", AT_PRIORITY_NEGATIVE },
  { "Qué vergüenza, un servicio pésimo", AT_PRIORITY_NEGATIVE },
  { "URGENTE: absurdo, vou no Procon",
    AT_PRIORITY_URGENT | AT_PRIORITY_NEGATIVE | AT_PRIORITY_AGENCY },
  /* words that look alike but say nothing of the kind */
  { "O processamento do meu pedido já terminou?", 0 },
  { "Qual o processo de troca?", 0 },
  { "Obrigada, gostei muito 😍", 0 },
  { "Tem alta demanda nessa época?", 0 },
};

static void
test_priority_reasons (void **state)
{
  int failures = 0;
  char got[AT_PRIORITY_REASONS_TEXT_MAX], want[AT_PRIORITY_REASONS_TEXT_MAX];
  for (size_t i = 0; i < AT_ARRAY_LEN (s_reasons); i++) {
    unsigned r = at_priority_reasons (s_reasons[i].text);
    if (r != s_reasons[i].reasons) {
      fprintf (stderr, "case \"%s\": got \"%s\", want \"%s\"\n", s_reasons[i].text,
               at_priority_reasons_text (r, got, sizeof got),
               at_priority_reasons_text (s_reasons[i].reasons, want, sizeof want));
      failures++;
    }
  }
  assert_int_equal (failures, 0);
  assert_string_equal (at_priority_reasons_text (AT_PRIORITY_REPEAT | AT_PRIORITY_URGENT
                                                 | AT_PRIORITY_COMPLAINT, got, sizeof got),
                       "urgent,complaint,repeat_contact");
  assert_string_equal (at_priority_reasons_text (0, got, sizeof got), "");
  char small[10];
  assert_string_equal (at_priority_reasons_text (AT_PRIORITY_URGENT | AT_PRIORITY_AGENCY, small,
                                                 sizeof small), "urgent");
}

static void
test_priority_bad_input (void **state)
{
  assert_int_equal (at_priority_classify (NULL), AT_PRIORITY_NORMAL);
  /* invalid UTF-8 is refused, not read */
  assert_int_equal (at_priority_classify ("URGENTE est\xC3\x28 \xFF"), AT_PRIORITY_NORMAL);
  /* longer than a message may be: normal, without reading it all */
  size_t len = AT_TEXT_MAX + 10;
  char *big = malloc (len + 1);
  for (size_t i = 0; i < len; i++)
    big[i] = "urgente pedido! "[i % 16];
  big[len] = '\0';
  assert_int_equal (at_priority_classify (big), AT_PRIORITY_NORMAL);
  /* the longest accepted text is read */
  big[AT_TEXT_MAX - 1] = '\0';
  assert_int_equal (at_priority_classify (big), AT_PRIORITY_HIGH);
  free (big);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_priority_portuguese),
    cmocka_unit_test (test_priority_english),
    cmocka_unit_test (test_priority_spanish),
    cmocka_unit_test (test_priority_typos_and_noise),
    cmocka_unit_test (test_priority_reasons),
    cmocka_unit_test (test_priority_bad_input),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
