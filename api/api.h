/* api: the HTTP/JSON server (libmicrohttpd). */
#ifndef API_H
#define API_H
#include "at_config.h"
/* Runs until SIGTERM/SIGINT; returns the process exit code. */
int api_run (const at_config_t *cfg);
#endif
