/* The VOD benchmark reader's UDP receiver (bench/vod-readers.ts): Node's dgram costs ~6 µs per
 * datagram ('message' event, Buffer, JS call), so one reader process could take only ~1,000 UDP
 * viewers. Here the sockets are made in C, watched by one epoll set, and drained with recvmmsg
 * counting each datagram by its 12-byte RTP header into per-track counters in a Float64Array
 * that JS owns. Node never sees these fds. One receiver per process (a reader worker).
 *
 * The sockets take UDP GRO (UDP_GRO): a sender's GSO message (the server sends a frame's
 * equal-size fragments as one) comes through loopback as one buffer instead of being cut into
 * datagrams on the way in, which on one machine is work charged to the server's sending thread.
 * Each segment (gso_size bytes, the last shorter) is still counted as the datagram it was sent as,
 * from its own RTP header: so the whole buffer is read.
 *
 *   bindPair(port, rcvbuf, slot) -> [rtpFd, rtcpFd] | null (a port in use)
 *   drain(stats: Float64Array) -> RTP packets counted (RTCP is read and dropped)
 *   close(fds: Int32Array)
 *   now() -> CLOCK_REALTIME in ms (arrival times are in that clock)
 *
 * stats holds STRIDE doubles per slot (see the S_ indices; JS initialises ssrc, firstTs and
 * firstAt to -1). Loss is counted as the JS reader does: per SSRC, a forward sequence jump of d
 * (16-bit, wrap aware) adds d - 1; duplicates are ignored; a packet older than the last one is
 * counted as reordered (its earlier gap stays counted as loss). */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { S_PKTS, S_BYTES, S_LOST, S_SSRC, S_LAST_SEQ, S_FIRST_TS, S_LAST_TS, S_FIRST_AT, S_REORDERED, STRIDE };

/* Datagrams per recvmmsg and epoll events per epoll_wait: on the stack. */
#define BATCH 64
#define EVENTS 512
/* The RTP fixed header; a datagram shorter than it is not counted. */
#define HDR 12
/* Bytes read per message: a coalesced GSO message is at most 64 KiB. */
#define MSG_MAX 65536
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

static int ep = -1;

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

static napi_value throw_errno(napi_env env, const char *what) {
  char buf[160];
  snprintf(buf, sizeof buf, "%s: %s", what, strerror(errno));
  napi_throw_error(env, NULL, buf);
  return NULL;
}

static double real_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* A non-blocking UDP socket bound to 127.0.0.1:port; -1 with errno set when it cannot be. */
static int udp_bound(int port, int rcvbuf) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  // Capped by net.core.rmem_max: the default stands, as with dgram's setRecvBufferSize.
  if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  // Kernels without it refuse: datagrams then come one by one, as before.
  int on = 1;
  setsockopt(fd, SOL_UDP, UDP_GRO, &on, sizeof on);
  return fd;
}

static int watch(int fd, uint32_t tag) {
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = ((uint64_t)(uint32_t)fd << 32) | tag};
  return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static napi_value bind_pair(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value args[3];
  int32_t port, rcvbuf;
  uint32_t slot;
  if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok || argc < 3 || napi_get_value_int32(env, args[0], &port) != napi_ok ||
      napi_get_value_int32(env, args[1], &rcvbuf) != napi_ok || napi_get_value_uint32(env, args[2], &slot) != napi_ok || port <= 0 || port > 65534 ||
      slot >= 0x7fffffffu)
    return throw_type(env, "bindPair(port: 1..65534, rcvbuf, slot)");
  if (ep < 0 && (ep = epoll_create1(EPOLL_CLOEXEC)) < 0) return throw_errno(env, "epoll_create1");
  napi_value out;
  int a = udp_bound(port, rcvbuf);
  int b = a < 0 ? -1 : udp_bound(port + 1, rcvbuf);
  if (b < 0) {
    int e = errno;
    if (a >= 0) close(a);
    if (e == EADDRINUSE || e == EACCES) {
      napi_get_null(env, &out);
      return out;
    }
    errno = e;
    return throw_errno(env, "bind");
  }
  // The first packet's arrival time comes from the kernel; turned off after it (drain).
  int on = 1;
  setsockopt(a, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  // Tag 0 = RTCP (dropped), otherwise slot + 1.
  if (watch(a, slot + 1) < 0 || watch(b, 0) < 0) {
    int e = errno;
    close(a);
    close(b);
    errno = e;
    return throw_errno(env, "epoll_ctl");
  }
  napi_value va, vb;
  napi_create_array_with_length(env, 2, &out);
  napi_create_int32(env, a, &va);
  napi_create_int32(env, b, &vb);
  napi_set_element(env, out, 0, va);
  napi_set_element(env, out, 1, vb);
  return out;
}

static inline uint32_t be32(const uint8_t *p) { return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]; }

/* The segment size of a coalesced message (UDP_GRO), or 0 when it is one datagram. */
static int gro_size(struct msghdr *h) {
  for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
    if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
      int seg;
      memcpy(&seg, CMSG_DATA(c), sizeof seg);
      return seg;
    }
  }
  return 0;
}

/* The datagram's kernel arrival time (SCM_TIMESTAMPNS), or now when it carries none. */
static double arrival_ms(struct msghdr *h) {
  for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      struct timespec t;
      memcpy(&t, CMSG_DATA(c), sizeof t);
      return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
    }
  }
  return real_ms();
}

static void count(int fd, double *st, const uint8_t *b, uint32_t len, struct msghdr *h) {
  if (len < HDR || (b[0] >> 6) != 2) return;
  st[S_PKTS] += 1;
  st[S_BYTES] += len;
  if (st[S_FIRST_AT] < 0) {
    st[S_FIRST_AT] = arrival_ms(h);
    int off = 0;
    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &off, sizeof off);
  }
  uint32_t seq = ((uint32_t)b[2] << 8) | b[3];
  double ts = be32(b + 4);
  double ssrc = be32(b + 8);
  if (st[S_FIRST_TS] < 0) st[S_FIRST_TS] = ts;
  st[S_LAST_TS] = ts;
  if (ssrc != st[S_SSRC]) {
    st[S_SSRC] = ssrc;
    st[S_LAST_SEQ] = seq;
    return;
  }
  uint32_t d = (seq - (uint32_t)st[S_LAST_SEQ]) & 0xffff;
  if (d == 0) return; // duplicate
  if (d > 0x8000) {
    st[S_REORDERED] += 1;
    return;
  }
  st[S_LOST] += d - 1;
  st[S_LAST_SEQ] = seq;
}

/* Reads fd until it is empty (a short batch says so: level-triggered epoll reports it again if
 * more came meanwhile). st NULL: the datagrams are dropped. Returns the RTP packets counted. The
 * headers are set up once; every message has room for the GRO segment size and the first arrival
 * stamp. */
static double drain_fd(int fd, double *st) {
  static uint8_t bufs[BATCH][MSG_MAX];
  static char ctrl[BATCH][CMSG_SPACE(sizeof(struct timespec)) + CMSG_SPACE(sizeof(int))];
  static struct iovec iov[BATCH];
  static struct mmsghdr msgs[BATCH];
  static int ready = 0;
  if (!ready) {
    for (int i = 0; i < BATCH; i++) {
      iov[i].iov_base = bufs[i];
      iov[i].iov_len = MSG_MAX;
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    ready = 1;
  }
  double n0 = st ? st[S_PKTS] : 0;
  for (;;) {
    for (int i = 0; i < BATCH; i++) {
      msgs[i].msg_hdr.msg_control = ctrl[i];
      msgs[i].msg_hdr.msg_controllen = sizeof ctrl[i];
    }
    int r = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    if (st) {
      for (int i = 0; i < r; i++) {
        uint32_t len = msgs[i].msg_len;
        int seg = gro_size(&msgs[i].msg_hdr);
        if (seg <= 0 || (uint32_t)seg >= len) {
          count(fd, st, bufs[i], len, &msgs[i].msg_hdr);
          continue;
        }
        for (uint32_t off = 0; off < len; off += (uint32_t)seg) {
          uint32_t n = len - off < (uint32_t)seg ? len - off : (uint32_t)seg;
          count(fd, st, bufs[i] + off, n, &msgs[i].msg_hdr);
        }
      }
    }
    if (r < BATCH) break;
  }
  return st ? st[S_PKTS] - n0 : 0;
}

/* The data and length of the call's only argument, a typed array of `want`; NULL if it is not. */
static void *typed_arg(napi_env env, napi_callback_info info, napi_typedarray_type want, size_t *len) {
  size_t argc = 1;
  napi_value arg, ab;
  napi_typedarray_type type;
  void *data;
  size_t offset;
  if (napi_get_cb_info(env, info, &argc, &arg, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_typedarray_info(env, arg, &type, len, &data, &ab, &offset) != napi_ok || type != want)
    return NULL;
  return data ? data : (void *)"";
}

static napi_value drain(napi_env env, napi_callback_info info) {
  size_t len;
  void *data = typed_arg(env, info, napi_float64_array, &len);
  if (!data) return throw_type(env, "drain(stats: Float64Array)");
  double *stats = (double *)data;
  size_t slots = len / STRIDE;
  double got = 0;
  if (ep >= 0) {
    struct epoll_event evs[EVENTS];
    // Bounded rounds: a reader that cannot keep up still returns to its event loop.
    for (int round = 0; round < 16; round++) {
      int n = epoll_wait(ep, evs, EVENTS, 0);
      if (n < 0 && errno == EINTR) continue;
      for (int i = 0; i < n; i++) {
        int fd = (int)(evs[i].data.u64 >> 32);
        uint32_t tag = (uint32_t)evs[i].data.u64;
        // Untagged (RTCP) or beyond the array JS passed: read and dropped.
        double *st = tag && tag - 1 < slots ? stats + (size_t)(tag - 1) * STRIDE : NULL;
        got += drain_fd(fd, st);
      }
      if (n < EVENTS) break;
    }
  }
  napi_value out;
  napi_create_double(env, got, &out);
  return out;
}

static napi_value close_fds(napi_env env, napi_callback_info info) {
  size_t len;
  void *data = typed_arg(env, info, napi_int32_array, &len);
  if (!data) return throw_type(env, "close(fds: Int32Array)");
  const int32_t *fds = (const int32_t *)data;
  for (size_t i = 0; i < len; i++) {
    if (fds[i] < 0) continue;
    if (ep >= 0) epoll_ctl(ep, EPOLL_CTL_DEL, fds[i], NULL);
    close(fds[i]);
  }
  return NULL;
}

static napi_value now(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_create_double(env, real_ms(), &out);
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"bindPair", NULL, bind_pair, NULL, NULL, NULL, napi_default, NULL},
      {"drain", NULL, drain, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, close_fds, NULL, NULL, NULL, napi_default, NULL},
      {"now", NULL, now, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value stride;
  napi_create_uint32(env, STRIDE, &stride);
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  napi_set_named_property(env, exports, "STRIDE", stride);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
