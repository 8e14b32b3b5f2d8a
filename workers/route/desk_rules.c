/* desk_rules: the pure part of the desk (desk.h): widening, ranks,
 * languages. No database, no bus. */
#include <ctype.h>
#include <string.h>

#include "route/desk.h"

wrk_desk_widen_t
wrk_route_desk_widen (double waited_s, long widen_after_s)
{
  if (widen_after_s <= 0 || !(waited_s >= (double) widen_after_s))
    return WRK_DESK_WIDEN_NONE;
  return waited_s >= 2.0 * (double) widen_after_s ? WRK_DESK_WIDEN_LANGUAGE
                                                  : WRK_DESK_WIDEN_SKILLS;
}

int
wrk_route_desk_rank (const char *priority)
{
  return priority && strcmp (priority, "high") == 0 ? 0 : 1;
}

void
wrk_route_desk_language (const char *ticket_language, char *out, size_t cap)
{
  size_t n = 0;
  if (cap == 0)
    return;
  out[0] = '\0';
  if (!ticket_language || strcmp (ticket_language, "other") == 0)
    return;
  for (const char *c = ticket_language; *c && *c != '-' && *c != '_' && n + 1 < cap; c++) {
    if (!isalpha ((unsigned char) *c)) {
      n = 0;                        /* not a language tag: anyone */
      break;
    }
    out[n++] = (char) tolower ((unsigned char) *c);
  }
  out[n] = '\0';
}

const char *
wrk_route_desk_widened (wrk_desk_widen_t w, bool needs_skills, const char *language)
{
  if (w == WRK_DESK_WIDEN_LANGUAGE && language && *language)
    return "language";
  if (w >= WRK_DESK_WIDEN_SKILLS && needs_skills)
    return "skills";
  return "";
}
