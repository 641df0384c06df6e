/*
 * The C reference prober: msnp-probe's work with epoll, one thread, to show the machine's limit.
 *
 *   prober FIRST LAST PER_TARGET GLOBAL OFFER TIMEOUT_MS LINGER_MS  < targets
 *
 * Targets are `a.b.c.d:port` lines on stdin (IPv4 literals only: the bench gives loopback ones),
 * read as they are needed. Per target: one connection per version FIRST..LAST sending
 * `VER 1 MSNPn CVR0`, and with OFFER=1 one more offering every version, highest first. Each reads
 * the first CRLF line, then closes like msnp-probe: its FIN, then up to LINGER_MS for the server's
 * FIN. At most PER_TARGET connections per target and GLOBAL in all; each bounded by TIMEOUT_MS
 * (connect and reply). One NDJSON line per target on stdout.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum phase { CONNECTING, READING, LINGERING };

struct target {
  char name[136];
  struct sockaddr_in addr;
  int next;      /* next job: 0..count-1 (versions, then the offer) */
  int inflight;
  int done;
  int count;
  char *out;     /* the NDJSON probes so far */
  size_t out_len, out_cap;
  char offer[96];
  struct target *link;
};

struct conn {
  int fd;
  int version; /* 0: the combined offer */
  enum phase phase;
  unsigned long long deadline;
  struct target *t;
  int len;
  char buf[256];
  int used;
};

static int first, last, per_target, global, offer, timeout_ms, linger_ms;
static int ep, inflight_total, input_done;
static struct target *active_head, *active_tail;
static struct conn *conns; /* GLOBAL slots */
static char offer_line[512];

static unsigned long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (unsigned long long)ts.tv_sec * 1000ULL + (unsigned long long)ts.tv_nsec / 1000000ULL;
}

static void append(struct target *t, const char *s) {
  size_t n = strlen(s);
  if (t->out_len + n + 1 > t->out_cap) {
    t->out_cap = (t->out_len + n + 1) * 2;
    t->out = realloc(t->out, t->out_cap);
  }
  memcpy(t->out + t->out_len, s, n + 1);
  t->out_len += n;
}

/* The reply line, JSON-escaped enough for what a loopback MSNP server sends (printable ASCII kept). */
static void record(struct conn *c, const char *status, const char *line) {
  char esc[300], item[400];
  size_t j = 0;
  for (size_t i = 0; line[i] && j < sizeof esc - 7; i++) {
    unsigned char ch = (unsigned char)line[i];
    if (ch == '"' || ch == '\\') { esc[j++] = '\\'; esc[j++] = (char)ch; }
    else if (ch < 0x20 || ch > 0x7e) j += (size_t)snprintf(esc + j, 7, "\\u%04x", ch);
    else esc[j++] = (char)ch;
  }
  esc[j] = 0;
  struct target *t = c->t;
  if (c->version == 0) {
    snprintf(t->offer, sizeof t->offer, "{\"status\":\"%s\",\"reply\":\"%.60s\"}", status, esc);
  } else {
    snprintf(item, sizeof item, "%s{\"version\":%d,\"status\":\"%s\",\"reply\":\"%s\"}",
             t->out_len ? "," : "", c->version, status, esc);
    append(t, item);
  }
}

static int read_target(void) {
  static char line[128];
  for (;;) {
    if (!fgets(line, sizeof line, stdin)) { input_done = 1; return 0; }
    line[strcspn(line, "\r\n")] = 0;
    char *colon = strrchr(line, ':');
    if (!colon) continue;
    *colon = 0;
    struct target *t = calloc(1, sizeof *t);
    t->addr.sin_family = AF_INET;
    t->addr.sin_port = htons((unsigned short)atoi(colon + 1));
    if (inet_pton(AF_INET, line, &t->addr.sin_addr) != 1) { free(t); continue; }
    snprintf(t->name, sizeof t->name, "%s:%s", line, colon + 1);
    t->count = last - first + 1 + (offer ? 1 : 0);
    if (active_tail) active_tail->link = t; else active_head = t;
    active_tail = t;
    return 1;
  }
}

static void finish_target(struct target *t) {
  printf("{\"target\":\"%s\",\"probes\":[%s],\"offer\":%s}\n", t->name, t->out ? t->out : "",
         offer ? t->offer : "null");
  struct target **p = &active_head, *prev = NULL;
  while (*p != t) { prev = *p; p = &(*p)->link; }
  *p = t->link;
  if (active_tail == t) active_tail = prev;
  free(t->out);
  free(t);
}

static void release(struct conn *c) {
  close(c->fd);
  c->used = 0;
  inflight_total--;
  struct target *t = c->t;
  t->inflight--;
  if (++t->done == t->count) finish_target(t);
}

static void start(struct conn *c, struct target *t) {
  int job = t->next++;
  memset(c, 0, sizeof *c);
  c->used = 1;
  c->t = t;
  c->version = job < last - first + 1 ? first + job : 0;
  c->deadline = now_ms() + (unsigned long long)timeout_ms;
  t->inflight++;
  inflight_total++;
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (c->fd < 0 || (connect(c->fd, (struct sockaddr *)&t->addr, sizeof t->addr) < 0 && errno != EINPROGRESS)) {
    record(c, "error", strerror(errno));
    release(c); /* close(-1) when socket() failed is a harmless EBADF */
    return;
  }
  c->phase = CONNECTING;
  struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN | EPOLLRDHUP, .data.ptr = c };
  epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

/* Fills free slots: the earliest target with work and room first, then a new target from stdin. */
static void fill(void) {
  while (inflight_total < global) {
    struct target *t = active_head;
    while (t && (t->next >= t->count || t->inflight >= per_target)) t = t->link;
    if (!t) {
      if (input_done || !read_target()) return;
      t = active_tail;
    }
    struct conn *slot = NULL;
    for (int i = 0; i < global; i++) if (!conns[i].used) { slot = &conns[i]; break; }
    if (!slot) return;
    start(slot, t);
  }
}

static void linger_start(struct conn *c) {
  c->phase = LINGERING;
  c->deadline = now_ms() + (unsigned long long)linger_ms;
  shutdown(c->fd, SHUT_WR);
  struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = c };
  epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void on_event(struct conn *c, unsigned events) {
  if (c->phase == CONNECTING) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) { record(c, "error", strerror(err)); release(c); return; }
    char msg[512];
    if (c->version) snprintf(msg, sizeof msg, "VER 1 MSNP%d CVR0\r\n", c->version);
    else snprintf(msg, sizeof msg, "%s", offer_line);
    if (send(c->fd, msg, strlen(msg), MSG_NOSIGNAL) < 0) { record(c, "error", strerror(errno)); release(c); return; }
    c->phase = READING;
    struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = c };
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    if (!(events & EPOLLIN)) return;
  }
  for (;;) {
    char scratch[512];
    int reading = c->phase == READING;
    char *into = reading ? c->buf + c->len : scratch;
    size_t room = reading ? sizeof c->buf - 1 - (size_t)c->len : sizeof scratch;
    ssize_t n = read(c->fd, into, room);
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {
      if (reading) { c->buf[c->len] = 0; record(c, n == 0 ? "closed" : "reset", c->buf); }
      release(c);
      return;
    }
    if (!reading) continue;
    c->len += (int)n;
    c->buf[c->len] = 0;
    char *cr = strstr(c->buf, "\r\n");
    if (cr || c->len == (int)sizeof c->buf - 1) {
      if (cr) *cr = 0;
      char want[32];
      snprintf(want, sizeof want, "MSNP%d", c->version ? c->version : last);
      const char *sp = strchr(c->buf + 4, ' ');
      int ok = strncmp(c->buf, "VER ", 4) == 0 && sp && strcmp(sp + 1, want) == 0;
      record(c, ok ? "accepted" : "rejected", c->buf);
      linger_start(c);
    }
  }
}

/*
 * The bench's usage file, as bench/usage-preload.ts writes it for node children: peak RSS from
 * /proc/self/status VmHWM (getrusage's ru_maxrss would include the spawning parent's image).
 */
static void write_usage(void) {
  const char *file = getenv("BENCH_USAGE_FILE");
  if (!file) return;
  long hwm = -1;
  char line[256];
  FILE *st = fopen("/proc/self/status", "r");
  while (st && fgets(line, sizeof line, st)) if (sscanf(line, "VmHWM: %ld kB", &hwm) == 1) break;
  if (st) fclose(st);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  if (hwm < 0) hwm = ru.ru_maxrss;
  FILE *f = fopen(file, "w");
  if (!f) return;
  fprintf(f, "{\"maxRssKiB\":%ld,\"userMs\":%.3f,\"systemMs\":%.3f}", hwm,
          ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3, ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3);
  fclose(f);
}

int main(int argc, char **argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: prober FIRST LAST PER_TARGET GLOBAL OFFER TIMEOUT_MS LINGER_MS < targets\n");
    return 2;
  }
  first = atoi(argv[1]); last = atoi(argv[2]); per_target = atoi(argv[3]); global = atoi(argv[4]);
  offer = atoi(argv[5]); timeout_ms = atoi(argv[6]); linger_ms = atoi(argv[7]);
  if (first < 0 || last < first || per_target < 1 || global < 1) {
    fprintf(stderr, "prober: bad arguments\n");
    return 2;
  }
  size_t off = (size_t)snprintf(offer_line, sizeof offer_line, "VER 1");
  for (int v = last; v >= first && off < sizeof offer_line - 16; v--) {
    off += (size_t)snprintf(offer_line + off, sizeof offer_line - off, " MSNP%d", v);
  }
  snprintf(offer_line + off, sizeof offer_line - off, " CVR0\r\n");
  static char outbuf[1 << 16];
  setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
  ep = epoll_create1(0);
  conns = calloc((size_t)global, sizeof *conns);
  struct epoll_event events[256];
  fill();
  while (inflight_total > 0) {
    unsigned long long now = now_ms(), next = now + 1000;
    for (int i = 0; i < global; i++) if (conns[i].used && conns[i].deadline < next) next = conns[i].deadline;
    int n = epoll_wait(ep, events, 256, next > now ? (int)(next - now) : 0);
    for (int i = 0; i < n; i++) {
      struct conn *c = events[i].data.ptr;
      if (c->used) on_event(c, events[i].events);
    }
    now = now_ms();
    for (int i = 0; i < global; i++) {
      struct conn *c = &conns[i];
      if (!c->used || c->deadline > now) continue;
      if (c->phase != LINGERING) record(c, "timeout", "");
      release(c);
    }
    fill();
  }
  fflush(stdout);
  write_usage();
  return 0;
}
