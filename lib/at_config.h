/* at_config: the one table of settings. Each row gives the field, its type,
 * the environment variable, the default, bounds (for INT) and the help text.
 * Flags are derived from the field name: database_url -> --database-url.
 * Read once at start into an immutable at_config_t passed down explicitly. */
#ifndef AT_CONFIG_H
#define AT_CONFIG_H

#include <stdio.h>

/* X(type, field, env, default, min, max, help)   type: STR | INT | SECRET */
#define AT_SETTINGS(X) \
  X(STR, database_url, "ATENDE_DATABASE_URL", "postgresql:///atende", 0, 0, \
    "libpq connection string of the store") \
  X(STR, log_level, "ATENDE_LOG_LEVEL", "info", 0, 0, \
    "debug | info | warn | error") \
  X(STR, broker_bind, "ATENDE_BROKER_BIND", "tcp://127.0.0.1:7700", 0, 0, \
    "ZeroMQ endpoint the broker binds") \
  X(STR, broker_endpoints, "ATENDE_BROKER_ENDPOINTS", "tcp://127.0.0.1:7700", 0, 0, \
    "comma-separated broker endpoints that workers and publishers connect to") \
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
  X(INT, sla_first_response_min, "ATENDE_SLA_FIRST_RESPONSE_MIN", "240", 1, 100000, \
    "first-response SLA for normal priority, minutes") \
  X(INT, sla_urgent_first_response_min, "ATENDE_SLA_URGENT_FIRST_RESPONSE_MIN", "30", 1, 100000, \
    "first-response SLA for high priority, minutes") \
  X(STR, default_locale, "ATENDE_DEFAULT_LOCALE", "pt-BR", 0, 0, \
    "locale of customers whose language is not known: pt-BR | en | es")

typedef struct {
#define AT_CFG_FIELD_STR(f) char *f;
#define AT_CFG_FIELD_SECRET(f) char *f;
#define AT_CFG_FIELD_INT(f) long f;
#define AT_CFG_FIELD(type, f, env, def, lo, hi, help) AT_CFG_FIELD_##type (f)
  AT_SETTINGS (AT_CFG_FIELD)
#undef AT_CFG_FIELD
  unsigned char source_[64]; /* internal: 0 default, 1 environment, 2 flag */
} at_config_t;

/* Builds the configuration from defaults, then the environment, then flags
 * (--name=value or --name value) found in argv. Recognised flags are removed
 * from argv (argc updated) so subcommands see only their own arguments.
 * On a bad value prints a clear message to stderr and returns NULL. */
at_config_t *at_config_new (int *argc, char **argv);
/* Defaults and environment only. */
at_config_t *at_config_from_env (void);
void at_config_destroy (at_config_t **self_p);

/* Prints name, variable, effective value (secrets masked) and its source. */
void at_config_print (const at_config_t *self, FILE *out);
/* Prints the settings table (for --help). */
void at_config_print_help (FILE *out);

#endif
