/* Live UDP fan-out in one call per frame: for every viewer socket (already connected to the
 * viewer), send the frame's RTP packets with sendmmsg(2). Node's dgram makes one syscall and
 * one JS-to-C++ crossing per packet per viewer, which is where UDP fan-out spends its time. */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <node_api.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* Packets per sendmmsg batch. A frame may have any number of packets: it goes out in chunks of
 * this size, so the arrays stay on the stack (no allocation per frame). */
#define CHUNK 256

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
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
  int64_t failed = 0;
  for (uint32_t base = 0; base < npk; base += CHUNK) {
    uint32_t n = npk - base < CHUNK ? npk - base : CHUNK;
    memset(msgs, 0, sizeof(struct mmsghdr) * n);
    for (uint32_t i = 0; i < n; i++) {
      napi_value el;
      void *p;
      size_t len;
      if (napi_get_element(env, args[1], base + i, &el) != napi_ok || napi_get_buffer_info(env, el, &p, &len) != napi_ok)
        return throw_type(env, "packets must be Buffers");
      iov[i].iov_base = p;
      iov[i].iov_len = len;
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    for (size_t f = 0; f < nfds; f++) {
      int fd = fds[f];
      uint32_t sent = 0;
      while (sent < n) {
        int r = fd < 0 ? -1 : sendmmsg(fd, msgs + sent, n - sent, MSG_DONTWAIT);
        if (r > 0) {
          sent += (uint32_t)r;
          continue;
        }
        if (r < 0 && errno == EINTR) continue;
        /* A refused port (the viewer went away) or a full buffer: skip this datagram, as a lost
         * UDP packet would be, count it against this viewer, and carry on with the rest. */
        failed++;
        if (per_fd) {
          size_t len = iov[sent].iov_len;
          per_fd[2 * f]++;
          per_fd[2 * f + 1] += (int32_t)(len > 12 ? len - 12 : 0);
        }
        sent++;
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

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "sendFrame", NAPI_AUTO_LENGTH, send_frame, NULL, &fn);
  napi_set_named_property(env, exports, "sendFrame", fn);
  napi_create_function(env, "releaseFreeMemory", NAPI_AUTO_LENGTH, release_free_memory, NULL, &fn);
  napi_set_named_property(env, exports, "releaseFreeMemory", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
