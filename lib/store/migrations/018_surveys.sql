-- atende store, version 18: surveys people answer (workers/survey/*,
-- workers/route/survey_reply.c): NPS after delivery, one survey per customer
-- per period and none while one is pending, answers typed in the channel,
-- a reminder once, a follow-up ticket for a low score.

-- A survey row is written for every survey considered, sent or not:
--   status sent     the question went out (notification_id) on channel;
--                   pending until answered or expires_at
--   status skipped  the policy held it back, skip_reason says why:
--                   period (another survey within ATENDE_SURVEY_PERIOD_DAYS),
--                   pending (another survey still waits for its answer)
-- One NPS per order (order_id), one CSAT per ticket (ticket_id, as before).
ALTER TABLE survey
  ADD COLUMN order_id text UNIQUE REFERENCES orders(id),
  ADD COLUMN status text NOT NULL DEFAULT 'sent' CHECK (status IN ('sent', 'skipped')),
  ADD COLUMN skip_reason text CHECK (skip_reason IN ('period', 'pending')),
  ADD COLUMN channel text,
  ADD COLUMN locale text,
  ADD COLUMN notification_id uuid,
  ADD COLUMN expires_at timestamptz,
  ADD COLUMN reminded_at timestamptz,
  ADD COLUMN reminder_notification_id uuid,
  ADD COLUMN followup_ticket_id bigint REFERENCES ticket(id),
  ADD COLUMN followup_message_id bigint,
  ADD CONSTRAINT survey_skip_reason CHECK ((status = 'skipped') = (skip_reason IS NOT NULL));
CREATE INDEX survey_customer ON survey (customer_id, created_at DESC);
CREATE INDEX survey_followup ON survey (followup_ticket_id) WHERE followup_ticket_id IS NOT NULL;

-- How an answer came: the signed link, or typed in the channel (the
-- customer's message, message_id).
ALTER TABLE survey_answer
  ADD COLUMN source text NOT NULL DEFAULT 'link' CHECK (source IN ('link', 'channel')),
  ADD COLUMN message_id bigint;

-- The texts, per locale (lib/outbound/at_template.h; editable through
-- /v1/templates). {store_name} is ATENDE_STORE_NAME, {link} the signed answer
-- link, {score} the score recorded.
INSERT INTO message_template (event, locale, body) VALUES
('survey_nps', 'pt-BR', 'De 0 a 10, quanto você recomendaria a {store_name} a um amigo? Responda aqui com um número de 0 a 10[ ou pelo link: {link}]'),
('survey_nps', 'en', 'From 0 to 10, how likely are you to recommend {store_name} to a friend? Reply here with a number from 0 to 10[ or use this link: {link}]'),
('survey_nps', 'es', 'Del 0 al 10, ¿qué tan probable es que recomiendes {store_name} a un amigo? Responde aquí con un número del 0 al 10[ o por el enlace: {link}]'),
('survey_csat', 'pt-BR', 'Como foi o nosso atendimento? Responda de 1 a 5[: {link}]'),
('survey_csat', 'en', 'How did we do? Answer from 1 to 5[: {link}]'),
('survey_csat', 'es', '¿Cómo fue nuestra atención? Responde de 1 a 5[: {link}]'),
('survey_reminder', 'pt-BR', 'Ainda dá tempo: a sua opinião ajuda a {store_name} a melhorar. Responda aqui com a sua nota[ ou pelo link: {link}]'),
('survey_reminder', 'en', 'There is still time: your opinion helps {store_name} improve. Reply here with your score[ or use this link: {link}]'),
('survey_reminder', 'es', 'Todavía hay tiempo: tu opinión ayuda a {store_name} a mejorar. Responde aquí con tu nota[ o por el enlace: {link}]'),
('survey_thanks', 'pt-BR', 'Obrigado! Registramos a sua nota {score}.'),
('survey_thanks', 'en', 'Thank you! We have recorded your score of {score}.'),
('survey_thanks', 'es', '¡Gracias! Registramos tu nota {score}.'),
('survey_low_thanks', 'pt-BR', 'Obrigado pela sua nota {score}. Sentimos muito que a experiência não foi boa: a nossa equipe vai entrar em contato por aqui.'),
('survey_low_thanks', 'en', 'Thank you for your score of {score}. We are sorry it was not a good experience: our team will get in touch here.'),
('survey_low_thanks', 'es', 'Gracias por tu nota {score}. Lamentamos que la experiencia no haya sido buena: nuestro equipo se pondrá en contacto por aquí.'),
('survey_range_nps', 'pt-BR', 'A nota vai de 0 a 10. Responda com um número de 0 a 10, por favor.'),
('survey_range_nps', 'en', 'The score goes from 0 to 10. Please reply with a number from 0 to 10.'),
('survey_range_nps', 'es', 'La nota va del 0 al 10. Responde con un número del 0 al 10, por favor.'),
('survey_range_csat', 'pt-BR', 'A nota vai de 1 a 5. Responda com um número de 1 a 5, por favor.'),
('survey_range_csat', 'en', 'The score goes from 1 to 5. Please reply with a number from 1 to 5.'),
('survey_range_csat', 'es', 'La nota va del 1 al 5. Responde con un número del 1 al 5, por favor.'),
('survey_already', 'pt-BR', 'A sua nota {score} já está registrada. Obrigado!'),
('survey_already', 'en', 'Your score of {score} is already recorded. Thank you!'),
('survey_already', 'es', 'Tu nota {score} ya está registrada. ¡Gracias!')
ON CONFLICT (event, locale) DO NOTHING;

-- notify asks which survey a notification carries (the WhatsApp list).
CREATE INDEX survey_notification ON survey (notification_id) WHERE notification_id IS NOT NULL;
CREATE INDEX survey_reminder_notification ON survey (reminder_notification_id)
  WHERE reminder_notification_id IS NOT NULL;
