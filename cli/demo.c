/* demo: the sales-peak scenario (see cli/demo.h). */
#include <stdio.h>
#include "demo.h"

int
demo_run (const at_config_t *cfg, int argc, char **argv)
{
  (void) cfg; (void) argc; (void) argv;
  fprintf (stderr, "demo: not ready\n");
  return 1;
}
