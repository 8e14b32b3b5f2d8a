/* api_server: libmicrohttpd server (placeholder until the full server lands). */
#include "api.h"
#include "at_log.h"

int
api_run (const at_config_t *cfg)
{
  (void) cfg;
  at_error ("api", "msg=\"api not built yet\"");
  return 1;
}
