/*
 * The benchmark's MSNP server: epoll, one thread, never the bottleneck. It answers the first line of
 * every connection like Escargot: `VER <trId> MSNP<n>` with the highest n in 2..21 that the client
 * offered (the connection then stays open until the client closes), or `VER <trId> 0` and a close.
 *
 *   server [-n PORTS] [-d DELAY_MS] [-l]
 *
 * -n: listen on PORTS ephemeral ports (default 1). -d: hold every reply DELAY_MS (a fixed delay, so
 * the pending replies form a FIFO ordered by deadline: one timerfd armed at the head is enough).
 * -l: bind 0.0.0.0 restricted to the loopback device (SO_BINDTODEVICE, needs root), so that every
 * 127.x.y.z address reaches the same ports; without it, 127.0.0.1 only.
 * Prints `ready {"ports":[...]}`, then answers each `stats` line on stdin with
 * `{"connections":N,"userMs":U,"systemMs":S}`. Exits when stdin ends or on SIGTERM.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

enum kind { LISTENER, CONN, TIMER, INPUT };

struct conn {
  enum kind kind;
  int fd;
  int answered;  /* reply sent (or queued): the rest of the input is discarded */
  int queued;    /* in the delay queue: freed by the queue, not by a close */
  int dead;      /* closed while queued */
  int close_after;
  char reply[48];
  int len;
  char buf[1024];
  unsigned long long due_ms;
  struct conn *next;
};

struct tag { enum kind kind; int fd; };

static int ep;
static long delay_ms;
static unsigned long long connections;
static struct conn *queue_head, *queue_tail;
static struct tag timer_tag;

static unsigned long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (unsigned long long)ts.tv_sec * 1000ULL + (unsigned long long)ts.tv_nsec / 1000000ULL;
}

/* Freed after the current epoll batch, which may still name a connection closed earlier in it. */
static struct conn *graveyard;

static void drop(struct conn *c) {
  if (c->dead) return;
  close(c->fd);
  c->dead = 1;
  if (!c->queued) { c->next = graveyard; graveyard = c; }
}

static void send_reply(struct conn *c) {
  ssize_t n = send(c->fd, c->reply, (size_t)strlen(c->reply), MSG_NOSIGNAL);
  (void)n; /* a 20-byte reply to a fresh loopback socket fits its buffer; a failed send ends with the close */
  if (c->close_after) drop(c);
}

static void arm_timer(void) {
  struct itimerspec its = {0};
  if (queue_head) {
    unsigned long long t = queue_head->due_ms, n = now_ms();
    unsigned long long wait = t > n ? t - n : 1;
    its.it_value.tv_sec = (time_t)(wait / 1000);
    its.it_value.tv_nsec = (long)(wait % 1000) * 1000000L;
  }
  timerfd_settime(timer_tag.fd, 0, &its, NULL);
}

/* Escargot's choice: the highest offered MSNPn in 2..21, else 0 (and the server hangs up). */
static void answer(struct conn *c, char *line) {
  char *save = NULL, *tok = strtok_r(line, " \r", &save);
  char tr[16] = "0";
  int best = 0;
  if (tok && strcmp(tok, "VER") == 0) {
    char *t = strtok_r(NULL, " \r", &save);
    if (t) snprintf(tr, sizeof tr, "%s", t);
    while ((t = strtok_r(NULL, " \r", &save)) != NULL) {
      if (strncmp(t, "MSNP", 4) == 0) {
        int v = atoi(t + 4);
        if (v >= 2 && v <= 21 && v > best) best = v;
      }
    }
  }
  if (best) snprintf(c->reply, sizeof c->reply, "VER %s MSNP%d\r\n", tr, best);
  else snprintf(c->reply, sizeof c->reply, "VER %s 0\r\n", tr);
  c->close_after = best == 0;
  c->answered = 1;
  if (delay_ms <= 0) { send_reply(c); return; }
  c->queued = 1;
  c->due_ms = now_ms() + (unsigned long long)delay_ms;
  c->next = NULL;
  if (queue_tail) queue_tail->next = c; else queue_head = c;
  queue_tail = c;
  if (queue_head == c) arm_timer();
}

static void on_readable(struct conn *c) {
  while (!c->dead) {
    char scratch[1024];
    char *into = c->answered ? scratch : c->buf + c->len;
    size_t room = c->answered ? sizeof scratch : sizeof c->buf - 1 - (size_t)c->len;
    if (room == 0) { drop(c); return; } /* no line within 1 KiB */
    ssize_t n = read(c->fd, into, room);
    if (n == 0) { drop(c); return; }
    if (n < 0) {
      if (errno == EAGAIN) return;
      drop(c);
      return;
    }
    if (c->answered) continue;
    c->len += (int)n;
    c->buf[c->len] = 0;
    char *nl = strchr(c->buf, '\n');
    if (nl) {
      *nl = 0;
      answer(c, c->buf);
    }
  }
}

static void on_timer(void) {
  unsigned long long expirations;
  if (read(timer_tag.fd, &expirations, sizeof expirations) < 0) { /* spurious: re-armed below */ }
  unsigned long long n = now_ms();
  while (queue_head && queue_head->due_ms <= n) {
    struct conn *c = queue_head;
    queue_head = c->next;
    if (!queue_head) queue_tail = NULL;
    c->queued = 0;
    if (c->dead) { c->next = graveyard; graveyard = c; } else send_reply(c);
  }
  arm_timer();
}

static void on_input(void) {
  char line[256];
  ssize_t n = read(0, line, sizeof line - 1);
  if (n <= 0) exit(0);
  line[n] = 0;
  for (char *p = line; (p = strstr(p, "stats")) != NULL; p += 5) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"connections\":%llu,\"userMs\":%.1f,\"systemMs\":%.1f}\n", connections,
           ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3, ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3);
    fflush(stdout);
  }
}

static void on_term(int sig) { (void)sig; _exit(0); }

int main(int argc, char **argv) {
  int ports = 1, any_on_lo = 0, opt;
  while ((opt = getopt(argc, argv, "n:d:l")) != -1) {
    if (opt == 'n') ports = atoi(optarg);
    else if (opt == 'd') delay_ms = atol(optarg);
    else if (opt == 'l') any_on_lo = 1;
    else { fprintf(stderr, "usage: server [-n PORTS] [-d DELAY_MS] [-l]\n"); return 2; }
  }
  if (ports < 1) { fprintf(stderr, "server: -n must be at least 1\n"); return 2; }
  signal(SIGTERM, on_term);
  signal(SIGPIPE, SIG_IGN);
  ep = epoll_create1(0);
  timer_tag.kind = TIMER;
  timer_tag.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
  struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &timer_tag };
  epoll_ctl(ep, EPOLL_CTL_ADD, timer_tag.fd, &ev);
  static struct tag input_tag = { INPUT, 0 };
  ev.data.ptr = &input_tag;
  epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
  struct tag *listeners = calloc((size_t)ports, sizeof *listeners);
  printf("ready {\"ports\":[");
  for (int i = 0; i < ports; i++) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0 };
    if (any_on_lo) {
      /* Every 127.x.y.z, and nothing that arrives on another interface. */
      if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3) < 0) { perror("server: SO_BINDTODEVICE"); return 1; }
      sa.sin_addr.s_addr = htonl(INADDR_ANY);
    } else {
      sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    }
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 4096) < 0) { perror("server: listen"); return 1; }
    socklen_t len = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &len);
    printf("%s%d", i ? "," : "", ntohs(sa.sin_port));
    listeners[i].kind = LISTENER;
    listeners[i].fd = fd;
    ev.events = EPOLLIN;
    ev.data.ptr = &listeners[i];
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }
  printf("]}\n");
  fflush(stdout);
  struct epoll_event events[256];
  for (;;) {
    int n = epoll_wait(ep, events, 256, -1);
    if (n < 0) { if (errno == EINTR) continue; perror("server: epoll_wait"); return 1; }
    for (int i = 0; i < n; i++) {
      struct tag *t = events[i].data.ptr;
      if (t->kind == LISTENER) {
        int fd;
        while ((fd = accept4(t->fd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          struct conn *c = calloc(1, sizeof *c);
          c->kind = CONN;
          c->fd = fd;
          connections++;
          struct epoll_event cev = { .events = EPOLLIN, .data.ptr = c };
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
        }
      } else if (t->kind == CONN) {
        on_readable((struct conn *)t);
      } else if (t->kind == TIMER) {
        on_timer();
      } else {
        on_input();
      }
    }
    while (graveyard) {
      struct conn *c = graveyard;
      graveyard = c->next;
      free(c);
    }
  }
}
