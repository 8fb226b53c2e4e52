/* Live UDP fan-out in one call per frame: for every viewer socket (already connected to the
 * viewer), send the frame's RTP packets with sendmmsg(2). Node's dgram makes one syscall and
 * one JS-to-C++ crossing per packet per viewer, which is where UDP fan-out spends its time.
 * File viewers' packets (each viewer its own) go out in batches: sendBatch on the calling thread,
 * or submitBatch to a sender thread, so the kernel's send work runs on another core. A run of
 * equal-length packets to one socket (a video frame's fragments) goes as one UDP GSO message. */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <node_api.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

/* Packets per sendmmsg batch. A frame may have any number of packets: it goes out in chunks of
 * this size, so the arrays stay on the stack (no allocation per frame). */
#define CHUNK 256

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

/* ---- UDP GSO (UDP_SEGMENT): one message carries a run of packets, the kernel cuts it ----
 * A run of consecutive packets of one length L, possibly ending with one shorter packet (how a
 * video frame's FU-A fragments look), goes as one msghdr whose iovecs are those packets, with a
 * UDP_SEGMENT = L cmsg: the kernel builds and routes one buffer instead of k, and cuts it into k
 * ordinary datagrams (on loopback at delivery, else in the driver or the stack). Receivers see
 * the same datagrams as without it. Measured on loopback (2 cores, kernel 6.18), process CPU
 * per datagram of sendBatch to 1,000 sockets: 3.2 -> 2.1 µs with runs of 4 (3 + a shorter
 * last), 2.8 -> 1.3 µs with runs of 8; single packets unchanged. */
#define GSO_MAX_SEGS 64     /* the kernel's UDP_MAX_SEGMENTS: 64 (later kernels take 128) */
#define GSO_MAX_BYTES 65000 /* a message's payload: below IPv4's 65507 and IPv6's 65527 */
#define GSO_MAX_LEN 65507

/* Whether messages may carry UDP_SEGMENT: process-wide, read by the sender threads. Off at load
 * with RIVULET_NO_GSO=1 or where the kernel does not know the option; off for good once a GSO
 * message is refused for a reason GSO itself may cause. GSO_REFUSED (set by tests only): on, but
 * with a cmsg the kernel refuses (EINVAL), as a kernel or route without UDP GSO would. */
#define GSO_REFUSED 2
static atomic_int gso_on = 1;
/* Whether the kernel knows UDP_SEGMENT (checked at load): setGso cannot turn GSO on without. */
static atomic_int gso_known = 0;

static int gso_enabled(void) {
  return atomic_load_explicit(&gso_on, memory_order_relaxed);
}

/* Control buffer of one message: one cmsg with the 16-bit segment size, aligned for cmsghdr. */
typedef union {
  char buf[CMSG_SPACE(sizeof(uint16_t))];
  struct cmsghdr align;
} gso_cmsg;

/* How many of iov[0..n) go in one message: a run of one length L, ending at the first shorter
 * packet (included) or longer one (not), within GSO_MAX_SEGS and GSO_MAX_BYTES. 1: no GSO. */
static uint32_t gso_run(const struct iovec *iov, uint32_t n) {
  size_t len = iov[0].iov_len, total = len;
  if (len == 0 || len > GSO_MAX_LEN) return 1;
  uint32_t k = 1;
  while (k < n && k < GSO_MAX_SEGS) {
    size_t l = iov[k].iov_len;
    if (l == 0 || l > len || total + l > GSO_MAX_BYTES) break;
    total += l;
    k++;
    if (l < len) break;
  }
  return k;
}

/* Fills msgs (and ctl, one per message) for the packets iov[0..n), coalescing runs when GSO is
 * on; returns the number of messages. *coalesced tells whether any message carries a cmsg. */
static uint32_t build_msgs(struct iovec *iov, uint32_t n, struct mmsghdr *msgs, gso_cmsg *ctl, int *coalesced) {
  int gso = gso_enabled();
  uint32_t m = 0;
  *coalesced = 0;
  for (uint32_t i = 0; i < n; m++) {
    uint32_t k = gso ? gso_run(iov + i, n - i) : 1;
    struct msghdr *h = &msgs[m].msg_hdr;
    memset(&msgs[m], 0, sizeof(struct mmsghdr));
    h->msg_iov = iov + i;
    h->msg_iovlen = k;
    if (k > 1) {
      h->msg_control = ctl[m].buf;
      h->msg_controllen = sizeof(ctl[m].buf);
      struct cmsghdr *c = CMSG_FIRSTHDR(h);
      c->cmsg_level = SOL_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = gso == GSO_REFUSED ? CMSG_LEN(sizeof(uint32_t)) : CMSG_LEN(sizeof(uint16_t));
      uint16_t seg = (uint16_t)iov[i].iov_len;
      memcpy(CMSG_DATA(c), &seg, sizeof(seg));
      *coalesced = 1;
    }
    i += k;
  }
  return m;
}

/* Errors a GSO message may get where single datagrams would go: no UDP GSO in this kernel or on
 * this route (EIO: IPsec, UDP-Lite; EINVAL: unknown cmsg, too many segments, SO_NO_CHECK). */
static int gso_refusal(int err) {
  return err == EIO || err == EINVAL || err == ENOPROTOOPT || err == EOPNOTSUPP || err == ENOTSUP;
}

/* The datagrams of a message not sent: counted, their payload octets (length minus the 12-byte
 * RTP header) added to *octets. */
static uint32_t count_lost(const struct msghdr *h, int64_t *octets) {
  for (size_t i = 0; i < h->msg_iovlen; i++) {
    size_t len = h->msg_iov[i].iov_len;
    *octets += len > 12 ? (int64_t)len - 12 : 0;
  }
  return (uint32_t)h->msg_iovlen;
}

static uint32_t send_all(int fd, struct mmsghdr *msgs, uint32_t n, int64_t *octets);

/* A GSO message refused: its packets again, one datagram each. */
static uint32_t send_singly(int fd, const struct msghdr *h, int64_t *octets) {
  struct mmsghdr one[GSO_MAX_SEGS];
  uint32_t k = (uint32_t)h->msg_iovlen;
  memset(one, 0, sizeof(struct mmsghdr) * k);
  for (uint32_t i = 0; i < k; i++) {
    one[i].msg_hdr.msg_iov = h->msg_iov + i;
    one[i].msg_hdr.msg_iovlen = 1;
  }
  return send_all(fd, one, k, octets);
}

/* Sends msgs[0..n) on fd with sendmmsg. A refused port (the viewer went away) or a full buffer:
 * the message's datagrams are skipped, as lost UDP packets would be, and the rest still go.
 * Returns how many DATAGRAMS were skipped (a GSO message holds several) and adds their payload
 * octets (length minus the 12-byte RTP header) to *octets. A GSO message the kernel or route
 * cannot take goes again as single datagrams; GSO is then off for the process (except for
 * EMSGSIZE: a segment larger than this route's MTU, which other routes may well take). */
static uint32_t send_all(int fd, struct mmsghdr *msgs, uint32_t n, int64_t *octets) {
  uint32_t sent = 0, lost = 0;
  while (sent < n) {
    int r;
    if (fd < 0) {
      r = -1;
      errno = EBADF;
    } else {
      r = sendmmsg(fd, msgs + sent, n - sent, MSG_DONTWAIT);
    }
    if (r > 0) {
      sent += (uint32_t)r;
      continue;
    }
    int err = r < 0 ? errno : 0;
    if (err == EINTR) continue;
    const struct msghdr *h = &msgs[sent].msg_hdr;
    if (h->msg_controllen && (gso_refusal(err) || err == EMSGSIZE)) {
      if (err != EMSGSIZE) atomic_store_explicit(&gso_on, 0, memory_order_relaxed);
      lost += send_singly(fd, h, octets);
    } else {
      lost += count_lost(h, octets);
    }
    sent++;
  }
  return lost;
}

/* sendFrame(fds: Int32Array, packets: Buffer[], failed?: Int32Array): datagrams not sent in all.
 * `failed` (2 per fd, zeroed here) receives, per fd, the datagrams not sent and their payload
 * octets (length minus the 12-byte RTP header), so each viewer's sender reports count only what
 * it really got. */
static napi_value send_frame(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value args[3];
  if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok || argc < 2) return throw_type(env, "sendFrame(fds, packets, failed?)");
  napi_typedarray_type type;
  size_t nfds;
  void *data;
  napi_value ab;
  size_t offset;
  if (napi_get_typedarray_info(env, args[0], &type, &nfds, &data, &ab, &offset) != napi_ok || type != napi_int32_array)
    return throw_type(env, "fds must be an Int32Array");
  const int32_t *fds = (const int32_t *)data;
  int32_t *per_fd = NULL;
  if (argc >= 3) {
    napi_valuetype vt;
    napi_typeof(env, args[2], &vt);
    if (vt != napi_undefined) {
      size_t nfailed;
      void *fdata;
      if (napi_get_typedarray_info(env, args[2], &type, &nfailed, &fdata, &ab, &offset) != napi_ok || type != napi_int32_array || nfailed < 2 * nfds)
        return throw_type(env, "failed must be an Int32Array of 2 entries per fd");
      per_fd = (int32_t *)fdata;
      memset(per_fd, 0, sizeof(int32_t) * 2 * nfds);
    }
  }
  uint32_t npk = 0;
  if (napi_get_array_length(env, args[1], &npk) != napi_ok) return throw_type(env, "packets must be an array");
  struct iovec iov[CHUNK];
  struct mmsghdr msgs[CHUNK];
  gso_cmsg ctl[CHUNK];
  int64_t failed = 0;
  for (uint32_t base = 0; base < npk; base += CHUNK) {
    uint32_t n = npk - base < CHUNK ? npk - base : CHUNK;
    for (uint32_t i = 0; i < n; i++) {
      napi_value el;
      void *p;
      size_t len;
      if (napi_get_element(env, args[1], base + i, &el) != napi_ok || napi_get_buffer_info(env, el, &p, &len) != napi_ok)
        return throw_type(env, "packets must be Buffers");
      iov[i].iov_base = p;
      iov[i].iov_len = len;
    }
    int coalesced;
    uint32_t m = build_msgs(iov, n, msgs, ctl, &coalesced);
    for (size_t f = 0; f < nfds; f++) {
      /* GSO turned off while sending to an earlier fd: the other fds get single datagrams. */
      if (coalesced && !gso_enabled()) m = build_msgs(iov, n, msgs, ctl, &coalesced);
      int64_t octets = 0;
      uint32_t lost = send_all(fds[f], msgs, m, &octets);
      failed += lost;
      if (per_fd && lost) {
        per_fd[2 * f] += (int32_t)lost;
        per_fd[2 * f + 1] += (int32_t)octets;
      }
    }
  }
  napi_value out;
  napi_create_int64(env, failed, &out);
  return out;
}

/* releaseFreeMemory(): gives memory that is free inside the C heap back to the system
 * (malloc_trim). Buffers are allocated there; after a burst (an attack, a crowd leaving) glibc
 * keeps the freed pages, so the process's resident size would stay at its peak. Returns whether
 * anything was released. */
static napi_value release_free_memory(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_get_boolean(env, malloc_trim(0) == 1, &out);
  return out;
}

/* unsentBytes(fd): bytes a TCP socket's kernel send queue still holds (TIOCOUTQ), so a stream
 * writer can tell how far behind a slow reader is beyond what Node buffers itself; -1 when the
 * fd cannot say. */
static napi_value unsent_bytes(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_value out;
  int32_t fd = -1;
  int queued = -1;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0 || ioctl(fd, TIOCOUTQ, &queued) != 0) queued = -1;
  napi_create_int32(env, queued, &out);
  return out;
}

/* ---- Batches: fd i gets counts[i] consecutive packets of the list ---- */

/* Bytes the sender thread may hold queued; submitBatch waits for room beyond that. A few ticks of
 * 2000 viewers: more only adds resident memory when the thread is behind (measured: 32 MiB cost
 * 40 KiB per viewer at 1000 UDP viewers, for no gain). */
#define QUEUE_LIMIT ((size_t)8 << 20)
/* A small batch (a new viewer's first packets, a live frame) does not wait behind a tick's big
 * one: it may take the queue up to twice the limit. Waiting would stall the event loop for most
 * of a tick each time. */
#define SMALL_BATCH (QUEUE_LIMIT / 16)

/* Sends iov[0..count) on fd in chunks of CHUNK packets (a GSO run does not cross a chunk's end);
 * returns datagrams not sent. */
static uint32_t send_run(int fd, struct iovec *iov, uint32_t count) {
  struct mmsghdr msgs[CHUNK];
  gso_cmsg ctl[CHUNK];
  uint32_t lost = 0;
  int64_t octets = 0;
  for (uint32_t base = 0; base < count; base += CHUNK) {
    uint32_t n = count - base < CHUNK ? count - base : CHUNK;
    int coalesced;
    uint32_t m = build_msgs(iov + base, n, msgs, ctl, &coalesced);
    lost += send_all(fd, msgs, m, &octets);
  }
  return lost;
}

static uint64_t send_runs(const int32_t *fds, const int32_t *counts, size_t nfds, struct iovec *iov) {
  uint64_t lost = 0;
  size_t k = 0;
  for (size_t f = 0; f < nfds; f++) {
    lost += send_run(fds[f], iov + k, (uint32_t)counts[f]);
    k += (size_t)counts[f];
  }
  return lost;
}

typedef struct {
  const int32_t *fds;
  const int32_t *counts;
  size_t nfds;
  uint32_t npk;
  struct iovec *iov; /* malloc'd, npk entries, pointing into the JS Buffers */
  size_t bytes;
} batch_args;

/* Reads (fds, counts, packets); throws and returns 0 on bad input. */
static int read_batch_args(napi_env env, napi_callback_info info, batch_args *a) {
  size_t argc = 3;
  napi_value args[3];
  memset(a, 0, sizeof(*a));
  if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok || argc < 3) return throw_type(env, "(fds, counts, packets)"), 0;
  napi_typedarray_type type;
  size_t ncounts, offset;
  void *data;
  napi_value ab;
  if (napi_get_typedarray_info(env, args[0], &type, &a->nfds, &data, &ab, &offset) != napi_ok || type != napi_int32_array)
    return throw_type(env, "fds must be an Int32Array"), 0;
  a->fds = (const int32_t *)data;
  if (napi_get_typedarray_info(env, args[1], &type, &ncounts, &data, &ab, &offset) != napi_ok || type != napi_int32_array || ncounts != a->nfds)
    return throw_type(env, "counts must be an Int32Array as long as fds"), 0;
  a->counts = (const int32_t *)data;
  if (napi_get_array_length(env, args[2], &a->npk) != napi_ok) return throw_type(env, "packets must be an array"), 0;
  uint64_t total = 0;
  for (size_t f = 0; f < a->nfds; f++) {
    if (a->counts[f] < 0) return throw_type(env, "counts must not be negative"), 0;
    total += (uint64_t)a->counts[f];
  }
  if (total != a->npk) return throw_type(env, "counts must add up to the number of packets"), 0;
  if (a->npk == 0) return 1;
  a->iov = malloc(sizeof(struct iovec) * a->npk);
  if (!a->iov) return napi_throw_error(env, NULL, "out of memory"), 0;
  for (uint32_t i = 0; i < a->npk; i++) {
    napi_value el;
    void *p;
    size_t len;
    if (napi_get_element(env, args[2], i, &el) != napi_ok || napi_get_buffer_info(env, el, &p, &len) != napi_ok) {
      free(a->iov);
      a->iov = NULL;
      return throw_type(env, "packets must be Buffers"), 0;
    }
    a->iov[i].iov_base = p;
    a->iov[i].iov_len = len;
    a->bytes += len;
  }
  return 1;
}

/* sendBatch(fds, counts, packets): sends now, on this thread; returns datagrams not sent. */
static napi_value send_batch(napi_env env, napi_callback_info info) {
  batch_args a;
  if (!read_batch_args(env, info, &a)) return NULL;
  uint64_t lost = a.npk ? send_runs(a.fds, a.counts, a.nfds, a.iov) : 0;
  free(a.iov);
  napi_value out;
  napi_create_int64(env, (int64_t)lost, &out);
  return out;
}

/* One submitted batch, in one malloc'd block: this header, the iovecs, fds, counts, then the
 * packets' bytes (copied: the JS Buffers may be gone before the thread sends). */
typedef struct batch {
  struct batch *next;
  uint64_t seq;
  size_t size;
  /* A live frame: every fd gets the same `frame` packets of iov (counts unused); 0 otherwise. */
  uint32_t frame;
  size_t nfds;
  int32_t *fds;
  int32_t *counts;
  struct iovec *iov;
} batch;

/* A batch for npk packets to nfds fds (with counts per fd unless `frame`), with room for `bytes`
 * of packet data; returns where that data goes, or NULL (out of memory: thrown). The fds and
 * counts are copied in. */
static uint8_t *new_batch(napi_env env, batch **out, const int32_t *fds, const int32_t *counts, size_t nfds, size_t npk, size_t bytes, uint32_t frame) {
  size_t head = sizeof(batch) + sizeof(struct iovec) * npk + sizeof(int32_t) * (frame ? 1 : 2) * nfds;
  batch *b = malloc(head + bytes);
  *out = b;
  if (!b) return napi_throw_error(env, NULL, "out of memory"), NULL;
  b->next = NULL;
  b->frame = frame;
  b->size = head + bytes;
  b->nfds = nfds;
  b->iov = (struct iovec *)(b + 1);
  b->fds = (int32_t *)(b->iov + npk);
  memcpy(b->fds, fds, sizeof(int32_t) * nfds);
  if (frame) {
    b->counts = NULL;
    return (uint8_t *)(b->fds + nfds);
  }
  b->counts = b->fds + nfds;
  if (counts) memcpy(b->counts, counts, sizeof(int32_t) * nfds);
  return (uint8_t *)(b->counts + nfds);
}

/* The sender thread of one Node environment (the main thread or a worker). */
typedef struct {
  pthread_mutex_t mu;
  pthread_cond_t work; /* a batch was queued, or stop */
  pthread_cond_t room; /* a batch was sent, or stop */
  pthread_t thread;
  int started;
  int stopping;
  batch *head, *tail;
  size_t queued_bytes;
  uint64_t submitted_seq, completed_seq, failed, batches;
} sender;

static void *sender_main(void *arg) {
  sender *s = arg;
  pthread_mutex_lock(&s->mu);
  for (;;) {
    while (!s->head && !s->stopping) pthread_cond_wait(&s->work, &s->mu);
    if (s->stopping) break;
    batch *b = s->head;
    s->head = b->next;
    if (!s->head) s->tail = NULL;
    pthread_mutex_unlock(&s->mu);
    uint64_t lost = 0;
    if (b->frame)
      for (size_t f = 0; f < b->nfds; f++) lost += send_run(b->fds[f], b->iov, b->frame);
    else
      lost = send_runs(b->fds, b->counts, b->nfds, b->iov);
    uint64_t seq = b->seq;
    size_t size = b->size;
    free(b);
    pthread_mutex_lock(&s->mu);
    s->queued_bytes -= size;
    s->completed_seq = seq;
    s->failed += lost;
    s->batches++;
    pthread_cond_broadcast(&s->room);
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

/* Env cleanup hook: stops and joins the thread so the process (or worker) exits cleanly.
 * Batches still queued are dropped: their sockets are being torn down too. */
static void sender_stop(void *arg) {
  sender *s = arg;
  pthread_mutex_lock(&s->mu);
  s->stopping = 1;
  pthread_cond_broadcast(&s->work);
  pthread_cond_broadcast(&s->room);
  pthread_mutex_unlock(&s->mu);
  if (s->started) pthread_join(s->thread, NULL);
  while (s->head) {
    batch *b = s->head;
    s->head = b->next;
    free(b);
  }
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->work);
  pthread_cond_destroy(&s->room);
  free(s);
}

static sender *get_sender(napi_env env) {
  void *s = NULL;
  napi_get_instance_data(env, &s);
  return s;
}

static int start_sender(napi_env env, sender *s) {
  if (s->started) return 1;
  /* Signals stay with Node's threads. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int err = pthread_create(&s->thread, NULL, sender_main, s);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (err) return napi_throw_error(env, NULL, "cannot start the UDP sender thread"), 0;
  s->started = 1;
  return 1;
}

static uint64_t enqueue(napi_env env, sender *s, batch *b, int *ok);
static napi_value queue_batch(napi_env env, sender *s, batch *b);

/* submitBatch(fds, counts, packets): copies the batch and queues it for the sender thread
 * (FIFO, so each fd's packets keep their order across batches). Waits while the queue holds
 * QUEUE_LIMIT bytes (back-pressure: nothing is dropped, memory stays bounded). Returns the
 * batch's sequence number: it has been sent once completedSeq() reaches it. */
static napi_value submit_batch(napi_env env, napi_callback_info info) {
  sender *s = get_sender(env);
  batch_args a;
  if (!s || !read_batch_args(env, info, &a)) return NULL;
  if (!start_sender(env, s)) return free(a.iov), NULL;
  napi_value out;
  if (a.npk == 0) {
    pthread_mutex_lock(&s->mu);
    double last = (double)s->submitted_seq;
    pthread_mutex_unlock(&s->mu);
    napi_create_double(env, last, &out);
    return out;
  }
  batch *b;
  uint8_t *p = new_batch(env, &b, a.fds, a.counts, a.nfds, a.npk, a.bytes, 0);
  if (!p) return free(a.iov), NULL;
  for (uint32_t i = 0; i < a.npk; i++) {
    memcpy(p, a.iov[i].iov_base, a.iov[i].iov_len);
    b->iov[i].iov_base = p;
    b->iov[i].iov_len = a.iov[i].iov_len;
    p += a.iov[i].iov_len;
  }
  free(a.iov);
  return queue_batch(env, s, b);
}

/* Queues b for the thread, waiting for room; returns its sequence number. On failure b is freed,
 * an error thrown and *ok is 0. */
static uint64_t enqueue(napi_env env, sender *s, batch *b, int *ok) {
  pthread_mutex_lock(&s->mu);
  /* A batch larger than the limit still goes when the queue is empty. */
  size_t limit = b->size <= SMALL_BATCH ? 2 * QUEUE_LIMIT : QUEUE_LIMIT;
  while (!s->stopping && s->queued_bytes > 0 && s->queued_bytes + b->size > limit) pthread_cond_wait(&s->room, &s->mu);
  if (s->stopping) {
    pthread_mutex_unlock(&s->mu);
    free(b);
    napi_throw_error(env, NULL, "the UDP sender thread is stopping");
    *ok = 0;
    return 0;
  }
  /* b belongs to the thread once queued (it may be freed before this returns). */
  uint64_t seq = b->seq = ++s->submitted_seq;
  if (s->tail) s->tail->next = b;
  else s->head = b;
  s->tail = b;
  s->queued_bytes += b->size;
  pthread_cond_signal(&s->work);
  pthread_mutex_unlock(&s->mu);
  *ok = 1;
  return seq;
}

/* enqueue, answering JS with the batch's sequence number (NULL with an error thrown). */
static napi_value queue_batch(napi_env env, sender *s, batch *b) {
  int ok;
  uint64_t seq = enqueue(env, s, b, &ok);
  if (!ok) return NULL;
  napi_value out;
  napi_create_double(env, (double)seq, &out);
  return out;
}

/* ---- Arenas: the packets' bytes in one Buffer, located by offsets and lengths ---- */

typedef struct {
  uint8_t *data;
  size_t data_len;
  const int32_t *fds, *counts, *offsets, *lengths;
  size_t nfds, npk;
  size_t span; /* bytes of data from 0 the packets lie in */
} arena_args;

static int typed_i32(napi_env env, napi_value v, const int32_t **out, size_t *n) {
  napi_typedarray_type type;
  void *data;
  napi_value ab;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &type, n, &data, &ab, &offset) != napi_ok || type != napi_int32_array) return 0;
  *out = (const int32_t *)data;
  return 1;
}

/* Reads (data, fds, counts, offsets, lengths); the packets of fd i are counts[i] consecutive
 * entries of offsets/lengths. Every packet must lie inside data. Throws and returns 0 otherwise. */
static int read_arena_args(napi_env env, napi_callback_info info, arena_args *a) {
  size_t argc = 5;
  napi_value args[5];
  memset(a, 0, sizeof(*a));
  if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok || argc < 5) return throw_type(env, "(data, fds, counts, offsets, lengths)"), 0;
  void *d;
  if (napi_get_buffer_info(env, args[0], &d, &a->data_len) != napi_ok) return throw_type(env, "data must be a Buffer"), 0;
  a->data = d;
  size_t ncounts, noffsets;
  if (!typed_i32(env, args[1], &a->fds, &a->nfds) || !typed_i32(env, args[2], &a->counts, &ncounts) || ncounts != a->nfds)
    return throw_type(env, "fds and counts must be Int32Arrays of one length"), 0;
  if (!typed_i32(env, args[3], &a->offsets, &noffsets) || !typed_i32(env, args[4], &a->lengths, &a->npk) || noffsets < a->npk)
    return throw_type(env, "offsets and lengths must be Int32Arrays of one length"), 0;
  size_t total = 0;
  for (size_t f = 0; f < a->nfds; f++) {
    if (a->counts[f] < 0) return throw_type(env, "counts must not be negative"), 0;
    total += (size_t)a->counts[f];
  }
  if (total != a->npk) return throw_type(env, "counts must add up to the number of packets"), 0;
  for (size_t i = 0; i < a->npk; i++) {
    if (a->offsets[i] < 0 || a->lengths[i] < 0 || (size_t)a->offsets[i] + (size_t)a->lengths[i] > a->data_len)
      return throw_type(env, "a packet lies outside data"), 0;
    size_t end = (size_t)a->offsets[i] + (size_t)a->lengths[i];
    if (end > a->span) a->span = end;
  }
  return 1;
}

static void arena_iov(const arena_args *a, uint8_t *base, struct iovec *iov) {
  for (size_t i = 0; i < a->npk; i++) {
    iov[i].iov_base = base + a->offsets[i];
    iov[i].iov_len = (size_t)a->lengths[i];
  }
}

/* sendArena(data, fds, counts, offsets, lengths): sends now, on this thread; returns datagrams
 * not sent. */
static napi_value send_arena(napi_env env, napi_callback_info info) {
  arena_args a;
  if (!read_arena_args(env, info, &a)) return NULL;
  uint64_t lost = 0;
  if (a.npk) {
    struct iovec *iov = malloc(sizeof(struct iovec) * a.npk);
    if (!iov) return napi_throw_error(env, NULL, "out of memory"), NULL;
    arena_iov(&a, a.data, iov);
    lost = send_runs(a.fds, a.counts, a.nfds, iov);
    free(iov);
  }
  napi_value out;
  napi_create_int64(env, (int64_t)lost, &out);
  return out;
}

/* submitArena(data, fds, counts, offsets, lengths): copies the packets' span of data once and
 * queues it for the sender thread (as submitBatch); the caller may reuse data at once. */
static napi_value submit_arena(napi_env env, napi_callback_info info) {
  sender *s = get_sender(env);
  arena_args a;
  if (!s || !read_arena_args(env, info, &a)) return NULL;
  if (!start_sender(env, s)) return NULL;
  batch *b;
  uint8_t *p = new_batch(env, &b, a.fds, a.counts, a.nfds, a.npk, a.span, 0);
  if (!p) return NULL;
  memcpy(p, a.data, a.span);
  arena_iov(&a, p, b->iov);
  return queue_batch(env, s, b);
}

/* submitFrame(fds: Int32Array, packets: Buffer[]): a live frame for the sender thread: the
 * packets are copied once and every fd gets all of them (as sendFrame does on the calling thread).
 * Returns the batch's sequence number. */
static napi_value submit_frame(napi_env env, napi_callback_info info) {
  sender *s = get_sender(env);
  size_t argc = 2;
  napi_value args[2];
  if (!s || napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok || argc < 2) return throw_type(env, "submitFrame(fds, packets)");
  const int32_t *fds;
  size_t nfds;
  uint32_t npk;
  if (!typed_i32(env, args[0], &fds, &nfds)) return throw_type(env, "fds must be an Int32Array");
  if (napi_get_array_length(env, args[1], &npk) != napi_ok) return throw_type(env, "packets must be an array");
  size_t bytes = 0;
  for (uint32_t i = 0; i < npk; i++) {
    napi_value el;
    void *p;
    size_t len;
    if (napi_get_element(env, args[1], i, &el) != napi_ok || napi_get_buffer_info(env, el, &p, &len) != napi_ok) return throw_type(env, "packets must be Buffers");
    bytes += len;
  }
  if (!start_sender(env, s)) return NULL;
  batch *b;
  /* A frame without packets sends nothing: no fds. */
  uint8_t *at = new_batch(env, &b, fds, NULL, npk ? nfds : 0, npk, bytes, npk);
  if (!at) return NULL;
  for (uint32_t i = 0; i < npk; i++) {
    napi_value el;
    void *p;
    size_t len;
    napi_get_element(env, args[1], i, &el);
    napi_get_buffer_info(env, el, &p, &len);
    memcpy(at, p, len);
    b->iov[i].iov_base = at;
    b->iov[i].iov_len = len;
    at += len;
  }
  return queue_batch(env, s, b);
}

/* completedSeq(): the sequence number of the last batch the thread has sent (0: none yet). */
static napi_value completed_seq(napi_env env, napi_callback_info info) {
  (void)info;
  sender *s = get_sender(env);
  uint64_t seq = 0;
  if (s) {
    pthread_mutex_lock(&s->mu);
    seq = s->completed_seq;
    pthread_mutex_unlock(&s->mu);
  }
  napi_value out;
  napi_create_double(env, (double)seq, &out);
  return out;
}

static void set_number(napi_env env, napi_value obj, const char *name, double v) {
  napi_value n;
  napi_create_double(env, v, &n);
  napi_set_named_property(env, obj, name, n);
}

/* senderStats(): { running, queuedBytes, submittedSeq, completedSeq, batches, failed }. */
static napi_value sender_stats(napi_env env, napi_callback_info info) {
  (void)info;
  sender *s = get_sender(env);
  napi_value out;
  napi_create_object(env, &out);
  if (!s) return out;
  pthread_mutex_lock(&s->mu);
  double v[6] = {s->started && !s->stopping, (double)s->queued_bytes, (double)s->submitted_seq, (double)s->completed_seq, (double)s->batches, (double)s->failed};
  pthread_mutex_unlock(&s->mu);
  napi_value b;
  napi_get_boolean(env, v[0] != 0, &b);
  napi_set_named_property(env, out, "running", b);
  set_number(env, out, "queuedBytes", v[1]);
  set_number(env, out, "submittedSeq", v[2]);
  set_number(env, out, "completedSeq", v[3]);
  set_number(env, out, "batches", v[4]);
  set_number(env, out, "failed", v[5]);
  return out;
}

/* gso(): whether runs of packets go out as UDP GSO messages (UDP_SEGMENT). */
static napi_value gso(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_get_boolean(env, gso_enabled() != 0, &out);
  return out;
}

/* setGso(on: boolean | 'refused'): for tests and before/after measurements: turns GSO on (where
 * the kernel knows UDP_SEGMENT) or off for the process; 'refused': on, but the kernel refuses
 * every GSO message (to test the fallback). Returns whether it is on now. */
static napi_value set_gso(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  bool on = false;
  char mode[16] = "";
  size_t len = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) return throw_type(env, "setGso(on: boolean | 'refused')");
  if (napi_get_value_string_utf8(env, argv[0], mode, sizeof(mode), &len) == napi_ok) {
    if (strcmp(mode, "refused") != 0) return throw_type(env, "setGso(on: boolean | 'refused')");
  } else if (napi_get_value_bool(env, argv[0], &on) != napi_ok) {
    return throw_type(env, "setGso(on: boolean | 'refused')");
  }
  int known = atomic_load(&gso_known) == 1;
  atomic_store(&gso_on, !known ? 0 : *mode ? GSO_REFUSED : on ? 1 : 0);
  return gso(env, info);
}

/* Once per process: whether this kernel knows UDP_SEGMENT (4.18 and later), and RIVULET_NO_GSO. */
static void gso_init(void) {
  int known = 0;
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  if (s >= 0) {
    int v = 0;
    socklen_t len = sizeof(v);
    known = getsockopt(s, SOL_UDP, UDP_SEGMENT, &v, &len) == 0;
    close(s);
  }
  /* Each environment (main thread, workers) loading the addon: this only ever turns GSO off. */
  const char *no = getenv("RIVULET_NO_GSO");
  if (!known || (no && *no && strcmp(no, "0") != 0)) atomic_store(&gso_on, 0);
  atomic_store(&gso_known, known);
}

static void export_fn(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn);
  napi_set_named_property(env, exports, name, fn);
}

static napi_value init(napi_env env, napi_value exports) {
  export_fn(env, exports, "sendFrame", send_frame);
  export_fn(env, exports, "releaseFreeMemory", release_free_memory);
  export_fn(env, exports, "unsentBytes", unsent_bytes);
  export_fn(env, exports, "sendBatch", send_batch);
  export_fn(env, exports, "sendArena", send_arena);
  gso_init();
  export_fn(env, exports, "gso", gso);
  export_fn(env, exports, "setGso", set_gso);
  /* The thread itself starts on the first submitBatch. */
  sender *s = calloc(1, sizeof(sender));
  if (s && pthread_mutex_init(&s->mu, NULL) == 0 && pthread_cond_init(&s->work, NULL) == 0 && pthread_cond_init(&s->room, NULL) == 0 &&
      napi_set_instance_data(env, s, NULL, NULL) == napi_ok && napi_add_env_cleanup_hook(env, sender_stop, s) == napi_ok) {
    export_fn(env, exports, "submitBatch", submit_batch);
    export_fn(env, exports, "submitArena", submit_arena);
    export_fn(env, exports, "submitFrame", submit_frame);
    export_fn(env, exports, "completedSeq", completed_seq);
    export_fn(env, exports, "senderStats", sender_stats);
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
