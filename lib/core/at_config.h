/* at_config: the one table of settings. Each row gives the field, its type,
 * the environment variable, the default, bounds (for INT) and the help text.
 * Flags are derived from the field name: database_url -> --database-url.
 * Read once at start into an immutable at_config_t passed down explicitly. */
#ifndef AT_CONFIG_H
#define AT_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "at_list.h"

/* Where route finds the intent model unless ATENDE_INTENT_MODEL says: the
 * build sets the source tree's lib/inbound/intents.model (CMake cache
 * variable ATENDE_INTENT_MODEL_DEFAULT; the Docker image its installed copy). */
#ifndef AT_INTENT_MODEL_DEFAULT
#define AT_INTENT_MODEL_DEFAULT "/usr/local/share/atende/intents.model"
#endif

/* Where the api finds the inbox page's files unless ATENDE_WEB_DIR says: the
 * build sets the source tree's web/ (CMake cache variable
 * ATENDE_WEB_DIR_DEFAULT; the Docker image its installed copy). */
#ifndef AT_WEB_DIR_DEFAULT
#define AT_WEB_DIR_DEFAULT "/usr/local/share/atende/web"
#endif

/* X(type, field, env, default, min, max, help)
 *   type: STR | INT | SECRET, or a list parsed at load (at_list.h):
 *         LIST (a,b) | MAP (key=value,...) | SECRETS (a secret, or account=secret,...) */
#define AT_SETTINGS(X) \
  X(STR, database_url, "ATENDE_DATABASE_URL", "postgresql:///atende", 0, 0, \
    "libpq connection string of the store") \
  X(STR, log_level, "ATENDE_LOG_LEVEL", "info", 0, 0, \
    "debug | info | warn | error") \
  X(STR, broker_bind, "ATENDE_BROKER_BIND", "tcp://127.0.0.1:7700", 0, 0, \
    "ZeroMQ endpoint the broker binds") \
  X(LIST, broker_endpoints, "ATENDE_BROKER_ENDPOINTS", "tcp://127.0.0.1:7700", 0, 0, \
    "comma-separated broker endpoints that workers and publishers connect to") \
  X(SECRET, bus_curve_secret, "ATENDE_BUS_CURVE_SECRET", "", 0, 0, \
    "broker: its CURVE secret key (Z85, `atende keys curve`); set: the bus is encrypted and only ATENDE_BUS_CURVE_CLIENTS get in (\"\": CURVE off)") \
  X(MAP, bus_curve_clients, "ATENDE_BUS_CURVE_CLIENTS", "", 0, 0, \
    "broker: admitted client public keys by role, several with +: publisher=K1+K2,worker:notify=K3,worker:*=K4") \
  X(STR, bus_curve_server_key, "ATENDE_BUS_CURVE_SERVER_KEY", "", 0, 0, \
    "publishers and workers: the broker's CURVE public key (Z85); set: connect with CURVE (\"\": plain)") \
  X(STR, bus_curve_client_public, "ATENDE_BUS_CURVE_CLIENT_PUBLIC", "", 0, 0, \
    "publishers and workers: this process's CURVE public key (Z85), listed in the broker's ATENDE_BUS_CURVE_CLIENTS") \
  X(SECRET, bus_curve_client_secret, "ATENDE_BUS_CURVE_CLIENT_SECRET", "", 0, 0, \
    "publishers and workers: this process's CURVE secret key (Z85)") \
  X(INT, broker_metrics_port, "ATENDE_BROKER_METRICS_PORT", "9700", 0, 65535, \
    "HTTP port of the broker's /metrics, /healthz, /readyz (0: off)") \
  X(INT, broker_queue_cap, "ATENDE_BROKER_QUEUE_CAP", "10000", 16, 10000000, \
    "messages per stage the broker holds in memory; the rest wait in PostgreSQL") \
  X(INT, bus_backlog_max, "ATENDE_BUS_BACKLOG_MAX", "1000000", 1, 1000000000, \
    "pending messages per stage above which publishers are told busy") \
  X(INT, broker_sweep_ms, "ATENDE_BROKER_SWEEP_MS", "250", 10, 60000, \
    "how often the broker looks in PostgreSQL for messages it does not hold") \
  X(INT, publish_batch_max, "ATENDE_PUBLISH_BATCH_MAX", "2000", 1, 100000, \
    "most messages the broker commits in one grouped publish transaction") \
  X(INT, publish_groups_in_flight, "ATENDE_PUBLISH_GROUPS_IN_FLIGHT", "2", 1, 4, \
    "grouped publish transactions the broker has in flight at once (each commits after the one before)") \
  X(INT, heartbeat_ms, "ATENDE_HEARTBEAT_MS", "1000", 50, 60000, \
    "heartbeat interval; a peer silent for 3 intervals is gone") \
  X(INT, max_attempts, "ATENDE_MAX_ATTEMPTS", "8", 1, 1000, \
    "deliveries of a failing message before it is dead-lettered") \
  X(INT, retry_base_ms, "ATENDE_RETRY_BASE_MS", "500", 1, 3600000, \
    "first retry delay; doubles per attempt, with jitter") \
  X(INT, retry_max_ms, "ATENDE_RETRY_MAX_MS", "300000", 1, 86400000, \
    "longest retry delay") \
  X(INT, worker_credit, "ATENDE_WORKER_CREDIT", "128", 1, 100000, \
    "messages a worker may hold at once (flow-control credit)") \
  X(INT, worker_batch, "ATENDE_WORKER_BATCH", "64", 1, 10000, \
    "messages a worker applies in one transaction") \
  X(INT, worker_lock_timeout_ms, "ATENDE_WORKER_LOCK_TIMEOUT_MS", "200", 0, 600000, \
    "a message that waits this long on a row lock is set aside and run again after its batch commits (0: wait)") \
  X(INT, drain_grace_ms, "ATENDE_DRAIN_GRACE_MS", "10000", 0, 600000, \
    "on SIGTERM, time to finish in-flight work before exiting") \
  X(STR, api_address, "ATENDE_API_ADDRESS", "0.0.0.0", 0, 0, \
    "address the api listens on") \
  X(INT, api_port, "ATENDE_API_PORT", "8080", 1, 65535, \
    "port the api listens on") \
  X(INT, api_threads, "ATENDE_API_THREADS", "4", 1, 256, \
    "api request threads") \
  X(INT, api_max_body_bytes, "ATENDE_API_MAX_BODY_BYTES", "65536", 256, 67108864, \
    "largest request body the api accepts (413 above)") \
  X(INT, api_key_cache_ms, "ATENDE_API_KEY_CACHE_MS", "30000", 0, 300000, \
    "how long an api thread trusts a verified API key without asking the database (a revoke takes effect within it; 0: ask every time)") \
  X(INT, api_session_ttl_s, "ATENDE_API_SESSION_TTL_S", "43200", 60, 7776000, \
    "how long a person's sign-in (the atende_session cookie) lasts") \
  X(INT, api_rate_per_key, "ATENDE_API_RATE_PER_KEY", "20000", 0, 10000000, \
    "requests a second one API key or signed-in person may make (token bucket; 429 above; 0: no limit)") \
  X(INT, api_burst_per_key, "ATENDE_API_BURST_PER_KEY", "0", 0, 100000000, \
    "bucket size of ATENDE_API_RATE_PER_KEY (0: twice the rate)") \
  X(INT, api_rate_per_addr, "ATENDE_API_RATE_PER_ADDR", "2000", 0, 10000000, \
    "requests a second from one client address without a valid credential: public routes, anonymous or refused calls (IPv6: per /64; 429 above; 0: no limit)") \
  X(INT, api_burst_per_addr, "ATENDE_API_BURST_PER_ADDR", "0", 0, 100000000, \
    "bucket size of ATENDE_API_RATE_PER_ADDR (0: twice the rate)") \
  X(INT, api_auth_failures_per_addr, "ATENDE_API_AUTH_FAILURES_PER_ADDR", "30", 0, 1000000, \
    "refused keys, cookies or passwords (401) from one address within a minute after which it gets 429 on protected routes and sign-in until the minute is over (0: no limit)") \
  X(INT, api_conn_per_addr, "ATENDE_API_CONN_PER_ADDR", "64", 0, 4096, \
    "open connections to the api from one client address; more are closed at once (0: no limit)") \
  X(STR, web_dir, "ATENDE_WEB_DIR", AT_WEB_DIR_DEFAULT, 0, 0, \
    "api: the directory of the agents' inbox page (index.html, app.js, app.css, i18n.js) and the leads' dashboard (dashboard.html), served at / and /app/") \
  X(STR, chartjs_path, "ATENDE_CHARTJS", "/usr/share/javascript/chart.js/chart.min.js", 0, 0, \
    "api: Chart.js for the leads' dashboard, served at /app/vendor/chart.min.js (Debian's libjs-chart.js)") \
  X(LIST, api_trusted_proxies, "ATENDE_API_TRUSTED_PROXIES", "", 0, 0, \
    "address ranges (10.0.0.0/8,fd00::/8) of the ingress or load balancers in front of the api: from them the client is read from X-Forwarded-For for the per-address limits, the audit and keys' last use (empty: the socket's address)") \
  X(INT, publish_timeout_ms, "ATENDE_PUBLISH_TIMEOUT_MS", "5000", 10, 600000, \
    "how long a publisher waits for the broker's confirm") \
  X(STR, webhook_url, "ATENDE_WEBHOOK_URL", "http://127.0.0.1:8099/hooks", 0, 0, \
    "where notify POSTs outgoing messages (Standard Webhooks)") \
  X(SECRET, webhook_secret, "ATENDE_WEBHOOK_SECRET", "", 0, 0, \
    "Standard Webhooks signing secret, whsec_ + base64") \
  X(INT, webhook_timeout_ms, "ATENDE_WEBHOOK_TIMEOUT_MS", "10000", 100, 600000, \
    "timeout of one webhook delivery") \
  X(INT, webhook_concurrency, "ATENDE_WEBHOOK_CONCURRENCY", "32", 1, 1024, \
    "deliveries in flight at once per notify worker") \
  X(SECRET, survey_secret, "ATENDE_SURVEY_SECRET", "", 0, 0, \
    "key that signs survey tokens (HMAC-SHA256)") \
  X(STR, survey_url_base, "ATENDE_SURVEY_URL_BASE", "http://localhost:8080/v1/surveys/", 0, 0, \
    "public URL prefix of survey links") \
  X(STR, store_name, "ATENDE_STORE_NAME", "nossa loja", 0, 0, \
    "the store's name as surveys say it ({store_name}: \"De 0 a 10, quanto você recomendaria a <loja>...\")") \
  X(INT, nps_delay_h, "ATENDE_NPS_DELAY_H", "24", 0, 8760, \
    "survey: hours after an order is delivered that its NPS survey is considered (a delayed survey.nps message)") \
  X(INT, survey_period_days, "ATENDE_SURVEY_PERIOD_DAYS", "30", 0, 3650, \
    "survey: at most one survey sent per customer within this many days (0: no limit); a survey held back is recorded as skipped") \
  X(INT, survey_expire_h, "ATENDE_SURVEY_EXPIRE_H", "72", 1, 8760, \
    "survey: hours a sent survey waits for its answer (pending: no other survey meanwhile; answers typed later are normal messages)") \
  X(INT, survey_reminder_h, "ATENDE_SURVEY_REMINDER_H", "24", 0, 8760, \
    "survey: hours after sending that one reminder goes to a survey still unanswered (0: no reminder)") \
  X(INT, survey_hour_s, "ATENDE_SURVEY_HOUR_S", "3600", 1, 3600, \
    "survey: seconds in an hour of ATENDE_NPS_DELAY_H, ATENDE_SURVEY_EXPIRE_H and ATENDE_SURVEY_REMINDER_H (tests shorten it; keep 3600)") \
  X(INT, survey_low_csat, "ATENDE_SURVEY_LOW_CSAT", "2", 0, 4, \
    "survey: a CSAT score at or below this opens a follow-up ticket for the team (0: never)") \
  X(INT, survey_low_nps, "ATENDE_SURVEY_LOW_NPS", "6", -1, 9, \
    "survey: an NPS score at or below this opens a follow-up ticket for the team (-1: never)") \
  X(INT, sla_first_response_min, "ATENDE_SLA_FIRST_RESPONSE_MIN", "240", 1, 100000, \
    "first-response SLA for normal priority, minutes") \
  X(INT, sla_urgent_first_response_min, "ATENDE_SLA_URGENT_FIRST_RESPONSE_MIN", "30", 1, 100000, \
    "first-response SLA for high priority, minutes") \
  X(STR, intent_model, "ATENDE_INTENT_MODEL", AT_INTENT_MODEL_DEFAULT, 0, 0, \
    "route: the intent model file (tools/intents); missing or malformed stops route at start; SIGHUP reloads it") \
  X(INT, sla_warn_pct, "ATENDE_SLA_WARN_PCT", "80", 0, 99, \
    "route: an SLA clock warns when this share (percent) of its target is used (0: no warnings)") \
  X(INT, sla_metrics_window_h, "ATENDE_SLA_METRICS_WINDOW_H", "168", 1, 87600, \
    "api: the SLA gauges of /metrics count tickets created within this many hours") \
  X(INT, intent_min_confidence_pct, "ATENDE_INTENT_MIN_CONFIDENCE", "30", 0, 100, \
    "route: an intent whose confidence (percent) is below this makes the ticket `other` (goes to people)") \
  X(INT, kb_min_score_pct, "ATENDE_KB_MIN_SCORE", "50", 0, 100, \
    "route: a question of intent other or product_question is answered with the best knowledge-base article when its score (percent) is at least this (100: never)") \
  X(INT, kb_answer_wait_s, "ATENDE_KB_ANSWER_WAIT_S", "3600", 1, 604800, \
    "route: a knowledge-base answer without a \"sim/não\" this many seconds later hands the ticket to people") \
  X(STR, desk_default_team, "ATENDE_DESK_DEFAULT_TEAM", "support", 0, 0, \
    "route: the team a new ticket that needs a person is queued for, when no team is marked default (created if missing)") \
  X(MAP, desk_channel_weights, "ATENDE_DESK_CHANNEL_WEIGHTS", "chat=1,whatsapp=1,sms=1,messenger=1,instagram=1,phone=1,email=0.3,form=0.3,*=1", 0, 0, \
    "desk: what one ticket of each channel counts in an agent's capacity (an agent's own weights override)") \
  X(INT, desk_agent_limit, "ATENDE_DESK_AGENT_LIMIT", "3", 0, 1000, \
    "desk: the capacity limit a new agent gets (the sum of the weights of the tickets they hold)") \
  X(INT, desk_widen_after_s, "ATENDE_DESK_WIDEN_AFTER_S", "600", 0, 604800, \
    "desk: a ticket waiting this long may go to an agent without its skills; twice this long, in another language (0: never)") \
  X(INT, desk_reply_within_s, "ATENDE_DESK_REPLY_WITHIN_S", "900", 0, 604800, \
    "desk: an assignee who has not answered the customer this many seconds after it was given or they wrote loses the ticket to the queue (0: never)") \
  X(INT, desk_assign_batch, "ATENDE_DESK_ASSIGN_BATCH", "50", 1, 1000, \
    "desk: most tickets one desk.assign round gives out before it asks for another round") \
  X(INT, priority_repeat_contacts, "ATENDE_PRIORITY_REPEAT_CONTACTS", "3", 0, 1000, \
    "route: this many messages of a customer since their latest order last changed (within the window) raise priority (repeat_contact); 0: off") \
  X(INT, priority_repeat_window_h, "ATENDE_PRIORITY_REPEAT_WINDOW_H", "72", 1, 8760, \
    "route: hours a customer's messages count as repeat contacts") \
  X(STR, default_locale, "ATENDE_DEFAULT_LOCALE", "pt-BR", 0, 0, \
    "locale of customers whose language is not known: pt-BR | en | es") \
  X(INT, broker_index, "ATENDE_BROKER_INDEX", "0", 0, 63, \
    "this broker's shard: it sweeps and dispatches the keys with at_bus_shard(key) == index") \
  X(INT, broker_count, "ATENDE_BROKER_COUNT", "1", 1, 64, \
    "brokers sharing the bus; ATENDE_BROKER_ENDPOINTS lists them in index order") \
  X(INT, lease_ms, "ATENDE_LEASE_MS", "300000", 100, 86400000, \
    "a delivered message's lease; a worker renews it with Extend, else it is redelivered") \
  X(INT, broker_durable, "ATENDE_BROKER_DURABLE", "1", 0, 1, \
    "1: confirm after COMMIT; 0: no PostgreSQL at all (benchmarks only, needs ATENDE_BROKER_BENCHMARK=1)") \
  X(INT, broker_benchmark, "ATENDE_BROKER_BENCHMARK", "0", 0, 1, \
    "1: allow ATENDE_BROKER_DURABLE=0, which LOSES messages on any crash") \
  X(STR, store_timezone, "ATENDE_STORE_TIMEZONE", "America/Sao_Paulo", 0, 0, \
    "IANA time zone of the store: an expected delivery date ends at midnight there") \
  X(STR, delay_checks, "ATENDE_DELAY_CHECKS", "bus", 0, 0, \
    "bus: notify schedules order.check_delay itself | external: a scheduler publishes them") \
  X(INT, template_cache_ms, "ATENDE_TEMPLATE_CACHE_MS", "5000", 0, 3600000, \
    "how long a notify worker keeps message templates before reading them again") \
  X(SECRETS, shopify_secret, "ATENDE_SHOPIFY_SECRET", "", 0, 0, \
    "Shopify webhook secret, or shop=secret,shop2=secret2 by X-Shopify-Shop-Domain") \
  X(MAP, stage_max_attempts, "ATENDE_STAGE_MAX_ATTEMPTS", "", 0, 0, \
    "per-stage deliveries before dead-lettering, e.g. notify=12,ingest=5 (others: max_attempts)") \
  X(INT, worker_metrics_port, "ATENDE_WORKER_METRICS_PORT", "0", 0, 65535, \
    "HTTP port of a worker's /metrics, /healthz, /readyz (0: off)") \
  X(SECRETS, meta_app_secret, "ATENDE_META_APP_SECRET", "", 0, 0, \
    "Meta app secret (X-Hub-Signature-256), or phone_number_id/page_id=secret,...,*=secret") \
  X(SECRET, whatsapp_verify_token, "ATENDE_WHATSAPP_VERIFY_TOKEN", "", 0, 0, \
    "token Meta sends in hub.verify_token when the WhatsApp webhook is registered") \
  X(SECRETS, twilio_auth_token, "ATENDE_TWILIO_AUTH_TOKEN", "", 0, 0, \
    "Twilio auth token (X-Twilio-Signature), or AccountSid=token,...") \
  X(STR, public_url_base, "ATENDE_PUBLIC_URL_BASE", "", 0, 0, \
    "public URL of this api as providers call it (https://support.example.com); Twilio signs it") \
  X(SECRET, mailgun_signing_key, "ATENDE_MAILGUN_SIGNING_KEY", "", 0, 0, \
    "Mailgun HTTP webhook signing key (inbound routes)") \
  X(INT, mailgun_replay_window_s, "ATENDE_MAILGUN_REPLAY_WINDOW_S", "300", 1, 86400, \
    "Mailgun posts whose timestamp is further than this from now are refused") \
  X(SECRET, inbound_secret, "ATENDE_INBOUND_SECRET", "", 0, 0, \
    "Standard Webhooks secret (whsec_...) of the store's chat and contact form") \
  X(INT, inbound_tolerance_s, "ATENDE_INBOUND_TOLERANCE_S", "300", 1, 86400, \
    "Standard Webhooks timestamp tolerance of inbound chat, form and phone posts, seconds") \
  X(SECRET, phone_webhook_secret, "ATENDE_PHONE_WEBHOOK_SECRET", "", 0, 0, \
    "Standard Webhooks secret (whsec_...) of the store's telephony posting call events to /v1/channels/phone") \
  X(SECRET, email_relay_secret, "ATENDE_EMAIL_RELAY_SECRET", "", 0, 0, \
    "Standard Webhooks secret (whsec_...) of the mail relay posting raw email to /v1/channels/email") \
  X(INT, email_max_bytes, "ATENDE_EMAIL_MAX_BYTES", "1048576", 1024, 67108864, \
    "largest raw email accepted (413 above; ATENDE_API_MAX_BODY_BYTES caps every body too)") \
  X(STR, email_message_id_domain, "ATENDE_EMAIL_MESSAGE_ID_DOMAIN", "atende.invalid", 0, 0, \
    "domain of the Message-IDs atende gives outbound email (atende.<notification id>@domain)") \
  X(INT, conversation_window_min, "ATENDE_CONVERSATION_WINDOW_MIN", "1440", 1, 525600, \
    "chat, WhatsApp, SMS, Messenger: a message after this long a ticket was quiet opens a new one") \
  X(STR, default_phone_country, "ATENDE_DEFAULT_PHONE_COUNTRY", "55", 0, 0, \
    "country calling code given to phone numbers written without one (55 Brazil, 1 US ...)") \
  X(LIST, channel_fallback, "ATENDE_CHANNEL_FALLBACK", "whatsapp,sms,email", 0, 0, \
    "channels tried, in order, after the customer's preferred one (no identity or failed for good)") \
  X(MAP, provider_routes, "ATENDE_PROVIDER_ROUTES", "*=webhook", 0, 0, \
    "providers per channel, failover order with +: whatsapp=whatsapp,sms=twilio+webhook2,email=smtp,*=webhook") \
  X(STR, whatsapp_api_url, "ATENDE_WHATSAPP_API_URL", "https://graph.facebook.com", 0, 0, \
    "WhatsApp Cloud API base URL (tests point it at a fake)") \
  X(STR, whatsapp_api_version, "ATENDE_WHATSAPP_API_VERSION", "v21.0", 0, 0, \
    "Graph API version in the messages URL") \
  X(STR, whatsapp_phone_number_id, "ATENDE_WHATSAPP_PHONE_NUMBER_ID", "", 0, 0, \
    "the business phone number id messages are sent from") \
  X(SECRET, whatsapp_token, "ATENDE_WHATSAPP_TOKEN", "", 0, 0, \
    "WhatsApp Cloud API access token (Bearer)") \
  X(MAP, whatsapp_templates, "ATENDE_WHATSAPP_TEMPLATES", "", 0, 0, \
    "approved templates used outside the 24 h window, per kind: order_status=order_update,survey=survey_invite,*=generic_update") \
  X(STR, twilio_api_url, "ATENDE_TWILIO_API_URL", "https://api.twilio.com", 0, 0, \
    "Twilio REST API base URL (tests point it at a fake)") \
  X(STR, twilio_account_sid, "ATENDE_TWILIO_ACCOUNT_SID", "", 0, 0, \
    "Twilio AccountSid that sends SMS (its token: ATENDE_TWILIO_AUTH_TOKEN)") \
  X(STR, twilio_from, "ATENDE_TWILIO_FROM", "", 0, 0, \
    "Twilio sender: an E.164 number, or a MessagingServiceSid (MG...)") \
  X(STR, twilio_status_callback, "ATENDE_TWILIO_STATUS_CALLBACK", "", 0, 0, \
    "StatusCallback URL given to Twilio (\"\": ATENDE_PUBLIC_URL_BASE + /v1/channels/twilio, if set)") \
  X(STR, smtp_url, "ATENDE_SMTP_URL", "smtp://127.0.0.1:587", 0, 0, \
    "SMTP server: smtp://host:587 (STARTTLS) or smtps://host:465") \
  X(STR, smtp_tls, "ATENDE_SMTP_TLS", "all", 0, 0, \
    "all: STARTTLS required | try: if offered | none: plain (tests only)") \
  X(STR, smtp_user, "ATENDE_SMTP_USER", "", 0, 0, \
    "SMTP login (\"\": no AUTH)") \
  X(SECRET, smtp_password, "ATENDE_SMTP_PASSWORD", "", 0, 0, \
    "SMTP password") \
  X(STR, smtp_from, "ATENDE_SMTP_FROM", "", 0, 0, \
    "envelope and header From address of outgoing email") \
  X(STR, webhook2_url, "ATENDE_WEBHOOK2_URL", "", 0, 0, \
    "a second signed-webhook provider (name webhook2, same secret), e.g. an SMS gateway for failover") \
  X(INT, provider_timeout_ms, "ATENDE_PROVIDER_TIMEOUT_MS", "10000", 100, 600000, \
    "timeout of one provider call (WhatsApp, Twilio, SMTP, webhook2)") \
  X(INT, provider_rate_per_sec, "ATENDE_PROVIDER_RATE_PER_SEC", "0", 0, 1000000, \
    "calls per second per provider and notify process (token bucket; 0: unlimited)") \
  X(INT, provider_burst, "ATENDE_PROVIDER_BURST", "50", 1, 1000000, \
    "token bucket size per provider") \
  X(INT, breaker_failures, "ATENDE_BREAKER_FAILURES", "5", 1, 1000, \
    "consecutive retryable failures that open a provider's circuit breaker") \
  X(INT, breaker_cooldown_ms, "ATENDE_BREAKER_COOLDOWN_MS", "30000", 10, 3600000, \
    "an open breaker lets one probe through after this") \
  X(STR, quiet_hours, "ATENDE_QUIET_HOURS", "", 0, 0, \
    "local hours (customer's time zone) when non-urgent messages are held, e.g. 21-8 (\"\": none)") \
  X(INT, notify_cap_count, "ATENDE_NOTIFY_CAP_COUNT", "0", 0, 100000, \
    "most non-urgent messages per customer per window; more are held, not dropped (0: no cap)") \
  X(INT, notify_cap_window_min, "ATENDE_NOTIFY_CAP_WINDOW_MIN", "60", 1, 525600, \
    "the frequency cap's window, minutes") \
  X(INT, urgent_window_min, "ATENDE_URGENT_WINDOW_MIN", "60", 0, 10080, \
    "a reply to a customer who wrote within this many minutes is urgent: never held") \
  X(SECRET, bus_key_secret, "ATENDE_BUS_KEY_SECRET", "", 0, 0, \
    "HMAC key of the bus ordering keys of customers' handles (the same in every api; \"\": unkeyed hash)") \
  X(INT, retention_days, "ATENDE_RETENTION_DAYS", "0", 0, 36500, \
    "texts of tickets resolved this many days ago are erased by a scheduled run on the bus (survey workers) and by `atende retention run` (0: kept forever)") \
  X(INT, retention_batch, "ATENDE_RETENTION_BATCH", "1000", 1, 100000, \
    "messages whose texts one scheduled retention run erases in its transaction (a full batch schedules the next at once)") \
  X(INT, retention_interval_s, "ATENDE_RETENTION_INTERVAL_S", "86400", 1, 31536000, \
    "seconds between scheduled retention runs (a delayed maintenance.retention message on the survey stage)") \
  X(STR, store_webhook_url, "ATENDE_STORE_WEBHOOK_URL", "", 0, 0, \
    "where notify POSTs customers' return and cancel requests for the store's systems (Standard Webhooks; \"\": people handle them)") \
  X(SECRET, store_webhook_secret, "ATENDE_STORE_WEBHOOK_SECRET", "", 0, 0, \
    "Standard Webhooks secret (whsec_...) that signs the store webhook") \
  X(INT, return_window_days, "ATENDE_RETURN_WINDOW_DAYS", "7", 0, 3650, \
    "days after delivery during which a customer may open a return by themselves (CDC art. 49: 7)")

typedef struct {
#define AT_CFG_FIELD_STR(f) char *f;
#define AT_CFG_FIELD_SECRET(f) char *f;
#define AT_CFG_FIELD_INT(f) long f;
#define AT_CFG_FIELD_LIST(f) at_list_t f;
#define AT_CFG_FIELD_MAP(f) at_list_t f;
#define AT_CFG_FIELD_SECRETS(f) at_list_t f;
#define AT_CFG_FIELD(type, f, env, def, lo, hi, help) AT_CFG_FIELD_##type (f)
  AT_SETTINGS (AT_CFG_FIELD)
#undef AT_CFG_FIELD
  unsigned char source_[256]; /* internal: 0 default, 1 environment, 2 flag */
} at_config_t;

/* Builds the configuration from defaults, then the environment, then flags
 * (--name=value or --name value) found in argv. Recognised flags are removed
 * from argv (argc updated) so subcommands see only their own arguments.
 * On a bad value prints a clear message to stderr and returns NULL. */
at_config_t *at_config_new (int *argc, char **argv);
/* Defaults and environment only. */
at_config_t *at_config_from_env (void);
void at_config_destroy (at_config_t **self_p);

/* The deliveries of a failing message of stage before it is dead-lettered:
 * its stage_max_attempts entry, else max_attempts. */
long at_config_max_attempts (const at_config_t *self, const char *stage);

/* The brokers a row's shard is counted over (at_bus_shard_of): a broker's
 * ATENDE_BROKER_COUNT, or, when larger, the number of
 * ATENDE_BROKER_ENDPOINTS, which is how workers, the api and the cli know
 * the brokers (they sort what they send by it; a row written with another
 * count would never be swept by the broker that owns its key). */
int at_config_shards (const at_config_t *self);

/* CURVE keys (ZeroMQ's Z85 text: 40 characters for 32 bytes). */
#define AT_CURVE_KEY_BYTES 32
#define AT_CURVE_Z85_LEN 40
#define AT_CURVE_KEYS_MAX 256   /* keys in ATENDE_BUS_CURVE_CLIENTS, over all roles */
/* Decodes one Z85 key of 40 characters into out (32 bytes); AT_INVALID otherwise. */
int at_config_curve_key (const char *z85, unsigned char *out);
/* The keys of one ATENDE_BUS_CURVE_CLIENTS value, "K1" or "K1+K2+..." (the
 * split is by position: every key is 40 characters, Z85 itself may hold '+'),
 * into keys[0..*n); AT_INVALID when one is not a key or there are more than cap. */
int at_config_curve_keys (const char *value, unsigned char (*keys)[AT_CURVE_KEY_BYTES],
                          size_t cap, size_t *n);
/* Whether role is a role of ATENDE_BUS_CURVE_CLIENTS: publisher, worker:<stage>, worker:*. */
bool at_config_curve_role_valid (const char *role);

/* Prints name, variable, effective value (secrets masked) and its source. */
void at_config_print (const at_config_t *self, FILE *out);
/* Prints the settings table (for --help). */
void at_config_print_help (FILE *out);

#endif
