/* at_log: one machine-readable line per event on stderr:
 *   ts=2026-11-22T18:00:00.123Z level=info comp=broker pid=42 msg="..." k=v ...
 * The format arguments give the key=value tail. */
#ifndef AT_LOG_H
#define AT_LOG_H

typedef enum { AT_LOG_DEBUG = 0, AT_LOG_INFO, AT_LOG_WARN, AT_LOG_ERROR } at_log_level_t;

void at_log_set_level (at_log_level_t level);
int at_log_level_parse (const char *name, at_log_level_t *out);
void at_log (at_log_level_t level, const char *comp, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

#define at_debug(comp, ...) at_log (AT_LOG_DEBUG, comp, __VA_ARGS__)
#define at_info(comp, ...)  at_log (AT_LOG_INFO, comp, __VA_ARGS__)
#define at_warn(comp, ...)  at_log (AT_LOG_WARN, comp, __VA_ARGS__)
#define at_error(comp, ...) at_log (AT_LOG_ERROR, comp, __VA_ARGS__)

#endif
