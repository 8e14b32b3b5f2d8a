/* fake_smtp: a tiny SMTP responder on 127.0.0.1, no TLS (see fakes.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include "fakes.h"

#define FAKE_MAILS_MAX 1024
#define FAKE_LINE_MAX 1024

struct fake_smtp {
  int listen_fd, port;
  atomic_bool stop;
  atomic_int threads;
  pthread_t acceptor;
  pthread_mutex_t lock;
  fake_mail_t *mails;
  int nmails, connections;
};

typedef struct {
  fake_smtp_t *self;
  int fd;
  char buf[FAKE_LINE_MAX * 2];
  size_t len;
} fake_session_t;

static void
fake_strlcpy (char *out, const char *in, size_t cap)
{
  size_t n = strlen (in);
  if (n >= cap)
    n = cap - 1;
  memcpy (out, in, n);
  out[n] = 0;
}

static void
fake_say (int fd, const char *text)
{
  size_t len = strlen (text);
  while (len > 0) {
    ssize_t w = send (fd, text, len, MSG_NOSIGNAL);
    if (w <= 0)
      return;
    text += w;
    len -= (size_t) w;
  }
}

/* Reads one CRLF line into line (without CRLF); false on close or stop. */
static bool
fake_line (fake_session_t *s, char *line, size_t cap)
{
  for (;;) {
    char *nl = memchr (s->buf, '\n', s->len);
    if (nl) {
      size_t n = (size_t) (nl - s->buf);
      size_t take = n < cap - 1 ? n : cap - 1;
      memcpy (line, s->buf, take);
      line[take] = 0;
      if (take > 0 && line[take - 1] == '\r')
        line[take - 1] = 0;
      memmove (s->buf, nl + 1, s->len - n - 1);
      s->len -= n + 1;
      return true;
    }
    if (s->len == sizeof s->buf)
      s->len = 0;   /* an over-long line: dropped */
    struct pollfd p = {.fd = s->fd, .events = POLLIN};
    int r = poll (&p, 1, 100);
    if (atomic_load (&s->self->stop))
      return false;
    if (r <= 0)
      continue;
    ssize_t got = recv (s->fd, s->buf + s->len, sizeof s->buf - s->len, 0);
    if (got <= 0)
      return false;
    s->len += (size_t) got;
  }
}

static void
fake_data (fake_session_t *s, fake_mail_t *mail)
{
  char line[FAKE_LINE_MAX];
  mail->data_len = 0;
  while (fake_line (s, line, sizeof line)) {
    if (strcmp (line, ".") == 0) {
      fake_smtp_t *self = s->self;
      pthread_mutex_lock (&self->lock);
      if (self->nmails < FAKE_MAILS_MAX)
        self->mails[self->nmails++] = *mail;
      pthread_mutex_unlock (&self->lock);
      fake_say (s->fd, "250 2.0.0 queued\r\n");
      return;
    }
    const char *text = line[0] == '.' ? line + 1 : line;   /* dot-stuffing */
    size_t n = strlen (text);
    if (mail->data_len + n + 2 < sizeof mail->data) {
      memcpy (mail->data + mail->data_len, text, n);
      mail->data_len += n;
      mail->data[mail->data_len++] = '\r';
      mail->data[mail->data_len++] = '\n';
      mail->data[mail->data_len] = 0;
    }
  }
}

static void *
fake_session (void *arg)
{
  fake_session_t *s = arg;
  fake_mail_t *mail = calloc (1, sizeof *mail);
  char line[FAKE_LINE_MAX];
  fake_say (s->fd, "220 fake.smtp ESMTP\r\n");
  while (fake_line (s, line, sizeof line)) {
    if (strncasecmp (line, "EHLO", 4) == 0)
      fake_say (s->fd, "250-fake.smtp\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n");
    else if (strncasecmp (line, "HELO", 4) == 0)
      fake_say (s->fd, "250 fake.smtp\r\n");
    else if (strncasecmp (line, "MAIL FROM:", 10) == 0) {
      memset (mail, 0, sizeof *mail);
      fake_strlcpy (mail->mail_from, line + 10, sizeof mail->mail_from);
      fake_say (s->fd, "250 2.1.0 ok\r\n");
    } else if (strncasecmp (line, "RCPT TO:", 8) == 0) {
      fake_strlcpy (mail->rcpt, line + 8, sizeof mail->rcpt);
      fake_say (s->fd, strstr (line, "reject") ? "550 5.1.1 no such user\r\n"
                       : strstr (line, "later") ? "451 4.3.0 try later\r\n" : "250 2.1.5 ok\r\n");
    } else if (strncasecmp (line, "DATA", 4) == 0) {
      fake_say (s->fd, "354 go ahead\r\n");
      fake_data (s, mail);
    } else if (strncasecmp (line, "QUIT", 4) == 0) {
      fake_say (s->fd, "221 2.0.0 bye\r\n");
      break;
    } else if (strncasecmp (line, "RSET", 4) == 0 || strncasecmp (line, "NOOP", 4) == 0)
      fake_say (s->fd, "250 2.0.0 ok\r\n");
    else
      fake_say (s->fd, "502 5.5.1 not implemented\r\n");
  }
  close (s->fd);
  atomic_fetch_sub (&s->self->threads, 1);
  free (mail);
  free (s);
  return NULL;
}

static void *
fake_acceptor (void *arg)
{
  fake_smtp_t *self = arg;
  while (!atomic_load (&self->stop)) {
    struct pollfd p = {.fd = self->listen_fd, .events = POLLIN};
    if (poll (&p, 1, 100) <= 0)
      continue;
    int fd = accept (self->listen_fd, NULL, NULL);
    if (fd < 0)
      continue;
    fake_session_t *s = calloc (1, sizeof *s);
    s->self = self;
    s->fd = fd;
    pthread_mutex_lock (&self->lock);
    self->connections++;
    pthread_mutex_unlock (&self->lock);
    atomic_fetch_add (&self->threads, 1);
    pthread_t t;
    if (pthread_create (&t, NULL, fake_session, s) != 0) {
      atomic_fetch_sub (&self->threads, 1);
      close (fd);
      free (s);
      continue;
    }
    pthread_detach (t);
  }
  return NULL;
}

fake_smtp_t *
fake_smtp_start (int port)
{
  fake_smtp_t *self = calloc (1, sizeof *self);
  pthread_mutex_init (&self->lock, NULL);
  self->mails = calloc (FAKE_MAILS_MAX, sizeof *self->mails);
  self->port = port;
  self->listen_fd = socket (AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt (self->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons ((uint16_t) port)};
  inet_pton (AF_INET, "127.0.0.1", &addr.sin_addr);
  if (self->listen_fd < 0 || bind (self->listen_fd, (struct sockaddr *) &addr, sizeof addr) != 0
      || listen (self->listen_fd, 64) != 0
      || pthread_create (&self->acceptor, NULL, fake_acceptor, self) != 0) {
    if (self->listen_fd >= 0)
      close (self->listen_fd);
    free (self->mails);
    free (self);
    return NULL;
  }
  return self;
}

void
fake_smtp_stop (fake_smtp_t **self_p)
{
  if (!self_p || !*self_p)
    return;
  fake_smtp_t *self = *self_p;
  atomic_store (&self->stop, true);
  pthread_join (self->acceptor, NULL);
  for (int i = 0; i < 100 && atomic_load (&self->threads) > 0; i++)
    usleep (20000);   /* sessions see stop within 100 ms */
  close (self->listen_fd);
  free (self->mails);
  pthread_mutex_destroy (&self->lock);
  free (self);
  *self_p = NULL;
}

int
fake_smtp_count (fake_smtp_t *self)
{
  pthread_mutex_lock (&self->lock);
  int n = self->nmails;
  pthread_mutex_unlock (&self->lock);
  return n;
}

bool
fake_smtp_get (fake_smtp_t *self, int i, fake_mail_t *out)
{
  pthread_mutex_lock (&self->lock);
  bool ok = i >= 0 && i < self->nmails;
  if (ok)
    *out = self->mails[i];
  pthread_mutex_unlock (&self->lock);
  return ok;
}

int
fake_smtp_connections (fake_smtp_t *self)
{
  pthread_mutex_lock (&self->lock);
  int n = self->connections;
  pthread_mutex_unlock (&self->lock);
  return n;
}
