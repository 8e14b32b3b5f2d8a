/* at_proc: starting and stopping child processes (demo, tests). */
#ifndef AT_PROC_H
#define AT_PROC_H
#include <sys/types.h>
#include "at_common.h"
/* Starts argv[0] (a path) with argv and the current environment plus the
 * "NAME=value" strings in env (NULL-terminated, may be NULL). stdout/stderr
 * go to log_path when not NULL (appended). Returns the pid or -1. */
pid_t at_proc_spawn (char *const argv[], char *const env[], const char *log_path);
/* Sends sig, waits up to timeout_ms, then SIGKILL. Returns the exit status
 * as waitpid gives it, or -1. */
int at_proc_stop (pid_t pid, int sig, int timeout_ms);
/* A loopback TCP port nothing listens on, for a child to bind. It comes
 * from below the kernel's ephemeral range (ip_local_port_range), so no
 * outgoing connection can take it as its source port between this call
 * and the child's bind; each process walks its own stretch of that range,
 * so parallel callers rarely pick the same one. Returns -1 if none. */
int at_proc_free_port (void);
/* Path of the running executable (readlink /proc/self/exe) into out. */
int at_proc_self_exe (char *out, size_t cap);
#endif
