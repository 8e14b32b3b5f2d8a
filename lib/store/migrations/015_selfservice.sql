-- atende store, version 15: self-service flows on the channel (return,
-- cancel, payment), workers/route/selfservice.c and workers/notify/store_request.c.

-- When the order was delivered (the return window counts from it), and the
-- payment it waits for, as the order events carry them: a boleto's linha
-- digitavel or a Pix copia-e-cola code, the date it stops being payable, and
-- when the event that brought them occurred (an older event never replaces
-- a newer code).
ALTER TABLE orders
  ADD COLUMN delivered_at timestamptz,
  ADD COLUMN payment_method text CHECK (payment_method IN ('boleto', 'pix')),
  ADD COLUMN payment_code text CHECK (length(payment_code) BETWEEN 1 AND 512),
  ADD COLUMN payment_due date,
  ADD COLUMN payment_at timestamptz;

UPDATE orders o SET delivered_at = e.at
  FROM (SELECT order_id, max(occurred_at) AS at FROM order_event
         WHERE status = 'delivered' AND applied GROUP BY order_id) e
 WHERE o.id = e.order_id AND o.delivered_at IS NULL;

-- A customer's request, one small state machine per row:
--   return, cancel: requested -> sent_to_store (the store's webhook said 2xx)
--                   -> confirmed (order event returned / cancelled)
--                    | refused (cancel: the order shipped meanwhile)
--                    | failed (the webhook refused it for good: people take over)
--   payment:        answered (the code was sent again; kept for the record)
-- One order has at most one open (requested, sent_to_store) request per kind,
-- so a customer asking twice, or a message applied twice, opens one. id is
-- the webhook-id the store de-duplicates on.
CREATE TABLE selfservice_request (
  id           uuid PRIMARY KEY,
  kind         text NOT NULL CHECK (kind IN ('return', 'cancel', 'payment')),
  order_id     text NOT NULL REFERENCES orders(id),
  ticket_id    bigint NOT NULL REFERENCES ticket(id),
  customer_id  bigint NOT NULL REFERENCES customer(id),
  locale       text NOT NULL CHECK (locale IN ('pt-BR', 'en', 'es')),
  state        text NOT NULL CHECK (state IN ('requested', 'sent_to_store', 'confirmed',
                                              'refused', 'failed', 'answered')),
  attempts     int NOT NULL DEFAULT 0,
  http_status  int,
  last_error   text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  sent_at      timestamptz,
  closed_at    timestamptz
);
CREATE UNIQUE INDEX selfservice_request_open ON selfservice_request (order_id, kind)
  WHERE state IN ('requested', 'sent_to_store');
CREATE INDEX selfservice_request_ticket ON selfservice_request (ticket_id);

-- The answers, per locale. Placeholders as in migration 005; here
-- {expected_date} is the day the return window ends (return answers) or the
-- day the payment code stops being payable (payment answers), and
-- {return_days} is ATENDE_RETURN_WINDOW_DAYS. route appends the payment code
-- on a line of its own (easy to copy) and, to every answer that is not a
-- hand-over, how to reach a person.
INSERT INTO message_template (event, locale, body) VALUES
('ss_return_opened', 'pt-BR', 'Abrimos a sua solicitação de devolução do pedido {order_id}. Próximo passo: nos próximos dias você recebe por aqui as instruções e a etiqueta de postagem; embale o produto com os acessórios e leve a uma agência dos Correios[ até {expected_date}]. O reembolso é feito quando o produto chegar até nós.'),
('ss_return_opened', 'en', 'We have opened a return request for order {order_id}. Next step: within a few days you will get the instructions and a prepaid shipping label here; pack the item with its accessories and drop it off at a post office[ by {expected_date}]. The refund is made once the item reaches us.'),
('ss_return_opened', 'es', 'Abrimos tu solicitud de devolución del pedido {order_id}. Próximo paso: en los próximos días recibirás por aquí las instrucciones y la etiqueta de envío; empaca el producto con sus accesorios y llévalo a una oficina de correos[ hasta el {expected_date}]. El reembolso se hace cuando el producto llegue a nosotros.'),
('ss_return_pending', 'pt-BR', 'A devolução do pedido {order_id} já está em andamento: você recebe por aqui as instruções e a etiqueta de postagem.'),
('ss_return_pending', 'en', 'The return of order {order_id} is already in progress: you will get the instructions and the shipping label here.'),
('ss_return_pending', 'es', 'La devolución del pedido {order_id} ya está en curso: recibirás por aquí las instrucciones y la etiqueta de envío.'),
('ss_return_late', 'pt-BR', 'O prazo de {return_days} dias após a entrega para devolver o pedido {order_id} por aqui terminou[ em {expected_date}]. Passei o seu pedido para a nossa equipe, que vai analisar o caso (troca ou garantia) e responder por aqui.'),
('ss_return_late', 'en', 'The {return_days}-day window after delivery to return order {order_id} here has ended[ on {expected_date}]. I have passed your request to our team, who will look at your case (exchange or warranty) and answer here.'),
('ss_return_late', 'es', 'El plazo de {return_days} días tras la entrega para devolver el pedido {order_id} por aquí terminó[ el {expected_date}]. Pasé tu solicitud a nuestro equipo, que analizará el caso (cambio o garantía) y te responderá por aquí.'),
('ss_return_undelivered', 'pt-BR', 'O pedido {order_id} ainda não consta como entregue; a devolução pode ser pedida em até {return_days} dias após a entrega. Passei a sua mensagem para a nossa equipe, que vai responder por aqui.'),
('ss_return_undelivered', 'en', 'Order {order_id} does not show as delivered yet; a return can be requested up to {return_days} days after delivery. I have passed your message to our team, who will answer here.'),
('ss_return_undelivered', 'es', 'El pedido {order_id} todavía no figura como entregado; la devolución se puede pedir hasta {return_days} días después de la entrega. Pasé tu mensaje a nuestro equipo, que te responderá por aquí.'),
('ss_cancel_requested', 'pt-BR', 'Pedimos à loja o cancelamento do pedido {order_id}. Avisamos por aqui assim que ele for confirmado; se o pagamento já foi feito, o estorno segue a forma de pagamento.'),
('ss_cancel_requested', 'en', 'We have asked the store to cancel order {order_id}. We will let you know here as soon as it is confirmed; if you already paid, the refund goes back the way you paid.'),
('ss_cancel_requested', 'es', 'Pedimos a la tienda la cancelación del pedido {order_id}. Te avisaremos por aquí en cuanto se confirme; si ya pagaste, el reembolso vuelve por el mismo medio de pago.'),
('ss_cancel_pending', 'pt-BR', 'O cancelamento do pedido {order_id} já foi pedido e está em andamento. Avisamos por aqui assim que ele for confirmado.'),
('ss_cancel_pending', 'en', 'The cancellation of order {order_id} has already been requested and is in progress. We will let you know here as soon as it is confirmed.'),
('ss_cancel_pending', 'es', 'La cancelación del pedido {order_id} ya fue solicitada y está en curso. Te avisaremos por aquí en cuanto se confirme.'),
('ss_cancel_done', 'pt-BR', 'O pedido {order_id} já está cancelado.'),
('ss_cancel_done', 'en', 'Order {order_id} is already cancelled.'),
('ss_cancel_done', 'es', 'El pedido {order_id} ya está cancelado.'),
('ss_cancel_shipped', 'pt-BR', 'O pedido {order_id} já foi enviado e não pode mais ser cancelado. Quando ele chegar, você pode devolvê-lo em até {return_days} dias após a entrega: é só escrever "quero devolver" aqui.'),
('ss_cancel_shipped', 'en', 'Order {order_id} has already shipped and can no longer be cancelled. Once it arrives you can return it within {return_days} days of delivery: just write "I want to return it" here.'),
('ss_cancel_shipped', 'es', 'El pedido {order_id} ya fue enviado y no se puede cancelar. Cuando llegue, puedes devolverlo hasta {return_days} días después de la entrega: solo escribe "quiero devolverlo" aquí.'),
('ss_cancel_confirmed', 'pt-BR', 'Olá[, {first_name}]! O cancelamento do pedido {order_id} foi confirmado. Se o pagamento já foi feito, o estorno segue a forma de pagamento.' || E'\n\n' || 'Se preferir falar com uma pessoa, responda "atendente".'),
('ss_cancel_confirmed', 'en', 'Hi[ {first_name}]! The cancellation of order {order_id} is confirmed. If you already paid, the refund goes back the way you paid.' || E'\n\n' || 'If you would rather talk to a person, reply "agent".'),
('ss_cancel_confirmed', 'es', '¡Hola[, {first_name}]! La cancelación del pedido {order_id} fue confirmada. Si ya pagaste, el reembolso vuelve por el mismo medio de pago.' || E'\n\n' || 'Si prefieres hablar con una persona, responde "agente".'),
('ss_payment_boleto', 'pt-BR', 'Aqui está a segunda via do boleto do pedido {order_id}[, com vencimento em {expected_date}]. Linha digitável:'),
('ss_payment_boleto', 'en', 'Here is a second copy of the boleto for order {order_id}[, due on {expected_date}]. Payment line:'),
('ss_payment_boleto', 'es', 'Aquí está la segunda vía del boleto del pedido {order_id}[, con vencimiento el {expected_date}]. Línea digitable:'),
('ss_payment_pix', 'pt-BR', 'Aqui está de novo o código Pix do pedido {order_id}[, válido até {expected_date}]. Copie o código abaixo e cole na opção "Pix copia e cola" do app do seu banco:'),
('ss_payment_pix', 'en', 'Here is the Pix code for order {order_id} again[, valid until {expected_date}]. Copy the code below and paste it into "Pix copia e cola" in your bank''s app:'),
('ss_payment_pix', 'es', 'Aquí está de nuevo el código Pix del pedido {order_id}[, válido hasta el {expected_date}]. Copia el código de abajo y pégalo en la opción "Pix copia e cola" de la app de tu banco:')
ON CONFLICT (event, locale) DO NOTHING;
