/* Which commands a role may send (broker/brk_access.h). */
#include "brk_access.h"
#include "at_common.h"
#include "at_msg.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Whether the comma list roles holds role. */
static bool
s_has (const char *roles, const char *role)
{
  size_t len = strlen (role);
  for (const char *p = roles; p && *p;) {
    const char *end = strchr (p, ',');
    size_t n = end ? (size_t) (end - p) : strlen (p);
    if (n == len && strncmp (p, role, len) == 0)
      return true;
    p = end ? end + 1 : NULL;
  }
  return false;
}

static bool
s_worker_of (const char *roles, const char *stage)
{
  char role[AT_STAGE_LEN + 8];
  if (s_has (roles, "worker:*"))
    return true;
  if (stage == NULL || snprintf (role, sizeof role, "worker:%s", stage) >= (int) sizeof role)
    return false;
  return s_has (roles, role);
}

/* Any worker role at all. */
static bool
s_worker (const char *roles)
{
  for (const char *p = roles; p && *p;) {
    if (strncmp (p, "worker:", 7) == 0)
      return true;
    p = strchr (p, ',');
    p = p ? p + 1 : NULL;
  }
  return false;
}

static const char *
s_name (Atende__Bus__Command__BodyCase body)
{
  switch (body) {
  case ATENDE__BUS__COMMAND__BODY_PUBLISH: return "Publish";
  case ATENDE__BUS__COMMAND__BODY_READY: return "Ready";
  case ATENDE__BUS__COMMAND__BODY_SETTLE: return "Settle";
  case ATENDE__BUS__COMMAND__BODY_HEARTBEAT: return "Heartbeat";
  case ATENDE__BUS__COMMAND__BODY_EXTEND: return "Extend";
  case ATENDE__BUS__COMMAND__BODY_DISCONNECT: return "Disconnect";
  default: return "this command";
  }
}

int
brk_access_check (const char *roles, const Atende__Bus__Command *cmd, char *reason,
                  size_t reason_cap)
{
  const char *have = roles && *roles ? roles : "(none)";
  switch (cmd->body_case) {
  case ATENDE__BUS__COMMAND__BODY_PUBLISH:
    if (s_has (roles, "publisher"))
      return AT_OK;
    break;
  case ATENDE__BUS__COMMAND__BODY_READY:
    for (size_t i = 0; cmd->ready && i < cmd->ready->n_stages; i++)
      if (!s_worker_of (roles, cmd->ready->stages[i])) {
        snprintf (reason, reason_cap, "forbidden: roles %.120s may not Ready for stage %.32s",
                  have, cmd->ready->stages[i] ? cmd->ready->stages[i] : "");
        return AT_INVALID;
      }
    if (s_worker (roles))
      return AT_OK;
    break;
  case ATENDE__BUS__COMMAND__BODY_SETTLE:
  case ATENDE__BUS__COMMAND__BODY_EXTEND:
  case ATENDE__BUS__COMMAND__BODY_HEARTBEAT:
  case ATENDE__BUS__COMMAND__BODY_DISCONNECT:
    if (s_worker (roles))
      return AT_OK;
    break;
  default:
    break;
  }
  snprintf (reason, reason_cap, "forbidden: roles %.120s may not send %s", have,
            s_name (cmd->body_case));
  return AT_INVALID;
}
