/* at_proc: starting and stopping child processes (demo, tests).
 * posix_spawn, not fork: safe in a threaded parent and cheap. Children get
 * a clean signal mask and default dispositions, whatever the parent blocks. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "at_proc.h"
#include "at_log.h"

extern char **environ;

#define S_ENV_MAX 4096   /* environment entries a child gets, at most */

/* True when "NAME=..." entry names the same variable as one of extra. */
static bool
s_env_overridden (const char *entry, char *const extra[])
{
  const char *eq = strchr (entry, '=');
  size_t len = eq ? (size_t) (eq - entry) : strlen (entry);
  for (size_t i = 0; extra && extra[i]; i++)
    if (strncmp (extra[i], entry, len) == 0 && extra[i][len] == '=')
      return true;
  return false;
}

/* The parent's environment with extra's variables replaced or added. */
static char **
s_env_merge (char *const extra[])
{
  char **env = at_calloc (S_ENV_MAX + 1, sizeof (char *));
  size_t n = 0;
  for (size_t i = 0; environ && environ[i] && n < S_ENV_MAX; i++)
    if (!s_env_overridden (environ[i], extra))
      env[n++] = environ[i];
  for (size_t i = 0; extra && extra[i] && n < S_ENV_MAX; i++)
    env[n++] = extra[i];
  env[n] = NULL;
  return env;
}

pid_t
at_proc_spawn (char *const argv[], char *const env[], const char *log_path)
{
  if (!argv || !argv[0])
    return -1;
  pid_t pid = -1;
  char **child_env = s_env_merge (env);
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init (&fa);
  posix_spawnattr_init (&attr);

  posix_spawn_file_actions_addopen (&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  if (log_path) {
    posix_spawn_file_actions_addopen (&fa, STDOUT_FILENO, log_path,
                                      O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2 (&fa, STDOUT_FILENO, STDERR_FILENO);
  }
  sigset_t none, defaults;
  sigemptyset (&none);
  sigemptyset (&defaults);
  sigaddset (&defaults, SIGINT);
  sigaddset (&defaults, SIGTERM);
  sigaddset (&defaults, SIGPIPE);
  sigaddset (&defaults, SIGCHLD);
  posix_spawnattr_setsigmask (&attr, &none);
  posix_spawnattr_setsigdefault (&attr, &defaults);
  posix_spawnattr_setflags (&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  int rc = posix_spawn (&pid, argv[0], &fa, &attr, argv, child_env);
  if (rc != 0) {
    at_error ("proc", "msg=\"spawn failed\" path=\"%s\" error=\"%s\"", argv[0], strerror (rc));
    pid = -1;
  }
  posix_spawnattr_destroy (&attr);
  posix_spawn_file_actions_destroy (&fa);
  free (child_env);
  return pid;
}

int
at_proc_stop (pid_t pid, int sig, int timeout_ms)
{
  if (pid <= 0)
    return -1;
  int status = 0;
  pid_t got = waitpid (pid, &status, WNOHANG);
  if (got == pid)
    return status;          /* already gone */
  if (got < 0)
    return -1;              /* not our child, or already reaped */
  kill (pid, sig);
  struct timespec tick = { 0, 10 * 1000 * 1000 };
  for (int waited = 0; waited < timeout_ms; waited += 10) {
    got = waitpid (pid, &status, WNOHANG);
    if (got == pid)
      return status;
    if (got < 0)
      return -1;
    nanosleep (&tick, NULL);
  }
  at_warn ("proc", "msg=\"child did not stop in time, killing\" pid=%d grace_ms=%d",
           (int) pid, timeout_ms);
  kill (pid, SIGKILL);
  while ((got = waitpid (pid, &status, 0)) < 0 && errno == EINTR)
    ;
  return got == pid ? status : -1;
}

int
at_proc_self_exe (char *out, size_t cap)
{
  if (!out || cap < 2)
    return AT_ERROR;
  ssize_t n = readlink ("/proc/self/exe", out, cap - 1);
  if (n <= 0 || (size_t) n >= cap - 1)
    return AT_ERROR;
  out[n] = '\0';
  return AT_OK;
}

#define S_PORT_LO 20000   /* below every usual ephemeral range (Linux: 32768) */

/* The first port of the kernel's ephemeral range, 32768 if unknown. */
static int
s_ephemeral_lo (void)
{
  int lo = 32768;
  FILE *f = fopen ("/proc/sys/net/ipv4/ip_local_port_range", "r");
  if (f) {
    if (fscanf (f, "%d", &lo) != 1)
      lo = 32768;
    fclose (f);
  }
  return lo;
}

/* True when a listener can bind port on 127.0.0.1 right now. */
static bool
s_port_bindable (int port)
{
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return false;
  int one = 1;
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);   /* as listeners do */
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  bool ok = bind (fd, (struct sockaddr *) &a, sizeof a) == 0;
  close (fd);
  return ok;
}

int
at_proc_free_port (void)
{
  static int next;
  int hi = s_ephemeral_lo ();
  if (hi <= S_PORT_LO + 1000)
    hi = 65536;                       /* an odd range: use the one above 20000 */
  int span = hi - S_PORT_LO;
  if (next < S_PORT_LO || next >= hi)   /* this process's stretch starts at a pid-spread place */
    next = S_PORT_LO + (int) (((long) getpid () * 211) % span);
  for (int tries = 0; tries < span; tries++) {
    int port = next++;
    if (next >= hi)
      next = S_PORT_LO;
    if (s_port_bindable (port))
      return port;
  }
  return -1;
}
