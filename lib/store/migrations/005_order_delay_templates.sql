-- atende store, version 5: delay detection on orders and message templates.

-- Delay detection (workers/notify/delay.c): when the expected date passes
-- without delivery the order becomes 'delayed', the missed date moves to
-- missed_delivery (expected_delivery keeps only a date still to come: the new
-- estimate, once a carrier gives one) and delay_told_for records the date whose
-- miss the customer was told about, so that it is told once.
ALTER TABLE orders
  ADD COLUMN missed_delivery date,
  ADD COLUMN delay_told_for date,
  ADD COLUMN customer_channel text;   -- the channel of the identity order events name

-- The texts customers get about their orders, per event (an order status) and
-- locale. Placeholders: {first_name} {order_id} {tracking_url} {expected_date}
-- {new_expected_date}; a [bracketed] part is left out when a placeholder inside
-- it has no value. Managed through GET/PUT/DELETE /v1/templates/{event}/{locale}.
CREATE TABLE message_template (
  event       text NOT NULL,
  locale      text NOT NULL CHECK (locale IN ('pt-BR', 'en', 'es')),
  body        text NOT NULL CHECK (length(body) BETWEEN 1 AND 2000),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (event, locale)
);

INSERT INTO message_template (event, locale, body) VALUES
('placed', 'pt-BR', 'Olá[, {first_name}]! Recebemos o seu pedido {order_id}. Avisaremos cada etapa por aqui.'),
('placed', 'en', 'Hi[ {first_name}]! We have received your order {order_id}. We will keep you posted here.'),
('placed', 'es', '¡Hola[, {first_name}]! Recibimos tu pedido {order_id}. Te avisaremos de cada etapa por aquí.'),
('confirmed', 'pt-BR', 'Olá[, {first_name}]! O pagamento do pedido {order_id} foi confirmado.[ Previsão de entrega: {expected_date}.]'),
('confirmed', 'en', 'Hi[ {first_name}]! Payment for order {order_id} is confirmed.[ Expected delivery: {expected_date}.]'),
('confirmed', 'es', '¡Hola[, {first_name}]! El pago del pedido {order_id} fue confirmado.[ Entrega prevista: {expected_date}.]'),
('shipped', 'pt-BR', 'Olá[, {first_name}]! O pedido {order_id} foi enviado.[ Previsão de entrega: {expected_date}.][ Acompanhe: {tracking_url}]'),
('shipped', 'en', 'Hi[ {first_name}]! Order {order_id} has shipped.[ Expected delivery: {expected_date}.][ Track it: {tracking_url}]'),
('shipped', 'es', '¡Hola[, {first_name}]! El pedido {order_id} fue enviado.[ Entrega prevista: {expected_date}.][ Síguelo: {tracking_url}]'),
('in_transit', 'pt-BR', 'Olá[, {first_name}]! O pedido {order_id} está a caminho.[ Previsão de entrega: {expected_date}.][ Acompanhe: {tracking_url}]'),
('in_transit', 'en', 'Hi[ {first_name}]! Order {order_id} is on its way.[ Expected delivery: {expected_date}.][ Track it: {tracking_url}]'),
('in_transit', 'es', '¡Hola[, {first_name}]! El pedido {order_id} está en camino.[ Entrega prevista: {expected_date}.][ Síguelo: {tracking_url}]'),
('out_for_delivery', 'pt-BR', 'Olá[, {first_name}]! O pedido {order_id} saiu para entrega e chega hoje.[ Acompanhe: {tracking_url}]'),
('out_for_delivery', 'en', 'Hi[ {first_name}]! Order {order_id} is out for delivery and arrives today.[ Track it: {tracking_url}]'),
('out_for_delivery', 'es', '¡Hola[, {first_name}]! El pedido {order_id} salió para entrega y llega hoy.[ Síguelo: {tracking_url}]'),
('delivered', 'pt-BR', 'Olá[, {first_name}]! O pedido {order_id} foi entregue. Aproveite!'),
('delivered', 'en', 'Hi[ {first_name}]! Order {order_id} has been delivered. Enjoy!'),
('delivered', 'es', '¡Hola[, {first_name}]! El pedido {order_id} fue entregado. ¡Que lo disfrutes!'),
('delayed', 'pt-BR', 'Olá[, {first_name}]! O pedido {order_id} atrasou[ (a previsão era {expected_date})], desculpe.[ Nova previsão de entrega: {new_expected_date}.][ Acompanhe: {tracking_url}]'),
('delayed', 'en', 'Hi[ {first_name}]! Order {order_id} is delayed[ (it was expected on {expected_date})], sorry.[ New expected delivery: {new_expected_date}.][ Track it: {tracking_url}]'),
('delayed', 'es', '¡Hola[, {first_name}]! El pedido {order_id} está retrasado[ (la entrega estaba prevista para el {expected_date})], disculpa.[ Nueva entrega prevista: {new_expected_date}.][ Síguelo: {tracking_url}]'),
('failed_attempt', 'pt-BR', 'Olá[, {first_name}]! Tentamos entregar o pedido {order_id}, mas não conseguimos. Faremos uma nova tentativa.[ Acompanhe: {tracking_url}]'),
('failed_attempt', 'en', 'Hi[ {first_name}]! We tried to deliver order {order_id} but could not. We will try again.[ Track it: {tracking_url}]'),
('failed_attempt', 'es', '¡Hola[, {first_name}]! Intentamos entregar el pedido {order_id}, pero no fue posible. Lo intentaremos de nuevo.[ Síguelo: {tracking_url}]'),
('cancelled', 'pt-BR', 'Olá[, {first_name}]! O pedido {order_id} foi cancelado. Se tiver dúvidas, é só responder esta mensagem.'),
('cancelled', 'en', 'Hi[ {first_name}]! Order {order_id} has been cancelled. If you have questions, just reply to this message.'),
('cancelled', 'es', '¡Hola[, {first_name}]! El pedido {order_id} fue cancelado. Si tienes dudas, responde a este mensaje.'),
('returned', 'pt-BR', 'Olá[, {first_name}]! Recebemos a devolução do pedido {order_id}. Avisaremos quando o reembolso for processado.'),
('returned', 'en', 'Hi[ {first_name}]! We have received the return of order {order_id}. We will let you know when the refund is processed.'),
('returned', 'es', '¡Hola[, {first_name}]! Recibimos la devolución del pedido {order_id}. Te avisaremos cuando se procese el reembolso.');
