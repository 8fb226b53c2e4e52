/* Live UDP fan-out in one call per frame: for every viewer socket (already connected to the
 * viewer), send the frame's RTP packets with one sendmmsg(2). Node's dgram makes one syscall and
 * one JS-to-C++ crossing per packet per viewer, which is where UDP fan-out spends its time. */
#define _GNU_SOURCE
#include <errno.h>
#include <node_api.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#define MAX_PACKETS 512

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

/* sendFrame(fds: Int32Array, packets: Buffer[]): number of datagrams not sent. */
static napi_value send_frame(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2];
  if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok || argc < 2) return throw_type(env, "sendFrame(fds, packets)");
  napi_typedarray_type type;
  size_t nfds;
  void *data;
  napi_value ab;
  size_t offset;
  if (napi_get_typedarray_info(env, args[0], &type, &nfds, &data, &ab, &offset) != napi_ok || type != napi_int32_array)
    return throw_type(env, "fds must be an Int32Array");
  const int32_t *fds = (const int32_t *)data;
  uint32_t npk = 0;
  if (napi_get_array_length(env, args[1], &npk) != napi_ok) return throw_type(env, "packets must be an array");
  if (npk > MAX_PACKETS) npk = MAX_PACKETS;
  struct iovec iov[MAX_PACKETS];
  struct mmsghdr msgs[MAX_PACKETS];
  memset(msgs, 0, sizeof(struct mmsghdr) * npk);
  for (uint32_t i = 0; i < npk; i++) {
    napi_value el;
    void *p;
    size_t len;
    if (napi_get_element(env, args[1], i, &el) != napi_ok || napi_get_buffer_info(env, el, &p, &len) != napi_ok)
      return throw_type(env, "packets must be Buffers");
    iov[i].iov_base = p;
    iov[i].iov_len = len;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  int64_t failed = 0;
  for (size_t f = 0; f < nfds; f++) {
    int fd = fds[f];
    if (fd < 0) continue;
    uint32_t sent = 0;
    while (sent < npk) {
      int r = sendmmsg(fd, msgs + sent, npk - sent, MSG_DONTWAIT);
      if (r > 0) {
        sent += (uint32_t)r;
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      /* A refused port (the viewer went away) or a full buffer: skip this datagram, as a lost
       * UDP packet would be, and carry on with the rest. */
      failed++;
      sent++;
    }
  }
  napi_value out;
  napi_create_int64(env, failed, &out);
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "sendFrame", NAPI_AUTO_LENGTH, send_frame, NULL, &fn);
  napi_set_named_property(env, exports, "sendFrame", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
