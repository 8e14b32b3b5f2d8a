/* The broker's entry point. */
#include "brk.h"
#include "at_log.h"

int
brk_run (const at_config_t *cfg)
{
  at_error ("broker", "msg=\"broker not built yet\" endpoint=\"%s\"", cfg->broker_bind);
  return 1;
}
