/* The table of embedded migrations, generated at build time. */
#ifndef AT_MIGRATE_H
#define AT_MIGRATE_H
#include <stddef.h>
typedef struct { int version; const char *name; const char *sql; } at_migration_t;
extern const at_migration_t at_migrations[];   /* ends with {0, NULL, NULL} */
#endif
