/*
 * ha's native addon: the few system calls Node.js has no API for.
 *
 *   flock(2)                      state-file and kernel locks the kernel releases when we die
 *   setns(2)                      open sockets inside another network namespace
 *   socket/bind/setsockopt/...    netlink sockets with the options ha needs (extended ACKs,
 *                                 capped ACKs, a forced receive buffer), raw IP and AF_PACKET
 *                                 sockets (VRRP, gratuitous ARP, unsolicited NA)
 *   sendmsg/recvmsg with cmsgs    the hop limit and destination of each received packet
 *   a readability watch (uv_poll) receive loops driven by the event loop, which report socket
 *                                 errors (a netlink receive overrun: ENOBUFS) instead of dying
 *
 * Everything else (packet formats, checksums, state machines) is TypeScript.
 *
 * Conventions: every function returns a number >= 0 (or a value) on success and -errno on a
 * failed system call; it throws only for a JavaScript type error (a bug of the caller). Nothing
 * here ever aborts the process: a callback that throws is handed to Node's own uncaught-exception
 * path (napi_fatal_exception), never to C++ terminate().
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define CHECK(call)                                                              \
  do {                                                                           \
    if ((call) != napi_ok) {                                                     \
      return throw_last(env);                                                    \
    }                                                                            \
  } while (0)

static napi_value throw_last(napi_env env) {
  const napi_extended_error_info *info = NULL;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) {
    napi_get_last_error_info(env, &info);
    napi_throw_error(env, "EHANATIVE", info && info->error_message ? info->error_message : "ha_native: N-API call failed");
  }
  return NULL;
}

static napi_value number(napi_env env, double v) {
  napi_value out;
  if (napi_create_double(env, v, &out) != napi_ok) return throw_last(env);
  return out;
}

static napi_value errno_result(napi_env env, int err) { return number(env, -(double)err); }

/* Read argument i as an int32; throws a TypeError (and returns false) otherwise. */
static bool arg_int(napi_env env, napi_value *argv, size_t argc, size_t i, int32_t *out) {
  napi_valuetype t = napi_undefined;
  if (i >= argc || napi_typeof(env, argv[i], &t) != napi_ok || t != napi_number) {
    napi_throw_type_error(env, "EINVAL", "ha_native: expected a number argument");
    return false;
  }
  return napi_get_value_int32(env, argv[i], out) == napi_ok;
}

/* Argument i as bytes: a Buffer or a TypedArray. *data is NULL for null/undefined when optional. */
static bool arg_bytes(napi_env env, napi_value *argv, size_t argc, size_t i, void **data, size_t *len, bool optional) {
  *data = NULL;
  *len = 0;
  napi_valuetype t = napi_undefined;
  if (i < argc) napi_typeof(env, argv[i], &t);
  if (optional && (t == napi_undefined || t == napi_null)) return true;
  bool is = false;
  if (i < argc && napi_is_buffer(env, argv[i], &is) == napi_ok && is) {
    return napi_get_buffer_info(env, argv[i], data, len) == napi_ok;
  }
  if (i < argc && napi_is_typedarray(env, argv[i], &is) == napi_ok && is) {
    napi_typedarray_type tt;
    size_t length, offset;
    napi_value ab;
    if (napi_get_typedarray_info(env, argv[i], &tt, &length, data, &ab, &offset) != napi_ok) return false;
    *len = length * (tt == napi_uint8_array || tt == napi_int8_array || tt == napi_uint8_clamped_array ? 1 : 0);
    if (*len == 0 && length != 0) {
      napi_throw_type_error(env, "EINVAL", "ha_native: expected a byte array");
      return false;
    }
    return true;
  }
  napi_throw_type_error(env, "EINVAL", "ha_native: expected a Buffer or Uint8Array argument");
  return false;
}

#define ARGS(n)                                                                  \
  size_t argc = (n);                                                             \
  napi_value argv[(n) > 0 ? (n) : 1];                                            \
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL))

/* flock(fd, operation) -> 0 | -errno (operation: LOCK_SH 1, LOCK_EX 2, LOCK_NB 4, LOCK_UN 8) */
static napi_value js_flock(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd, op;
  if (!arg_int(env, argv, argc, 0, &fd) || !arg_int(env, argv, argc, 1, &op)) return NULL;
  int rc;
  do rc = flock(fd, op); while (rc == -1 && errno == EINTR);
  return rc == 0 ? number(env, 0) : errno_result(env, errno);
}

/* setns(fd) -> 0 | -errno: move this thread into the network namespace open at fd. */
static napi_value js_setns(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t fd;
  if (!arg_int(env, argv, argc, 0, &fd)) return NULL;
  return setns(fd, CLONE_NEWNET) == 0 ? number(env, 0) : errno_result(env, errno);
}

/*
 * schedSetScheduler(tid, policy, priority) -> 0 | -errno: sched_setscheduler(2) of one thread (0:
 * the calling one). The agent puts its threads at SCHED_FIFO | SCHED_RESET_ON_FORK, so that its
 * protocol timers keep time on a loaded machine and the scripts it starts run as ordinary tasks.
 */
static napi_value js_sched_setscheduler(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t tid, policy, priority;
  if (!arg_int(env, argv, argc, 0, &tid) || !arg_int(env, argv, argc, 1, &policy) || !arg_int(env, argv, argc, 2, &priority)) return NULL;
  struct sched_param param = {.sched_priority = priority};
  return sched_setscheduler(tid, policy, &param) == 0 ? number(env, 0) : errno_result(env, errno);
}

/* socket(domain, type, protocol) -> fd | -errno; always non-blocking and close-on-exec. */
static napi_value js_socket(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t domain, type, protocol;
  if (!arg_int(env, argv, argc, 0, &domain) || !arg_int(env, argv, argc, 1, &type) || !arg_int(env, argv, argc, 2, &protocol)) return NULL;
  int fd = socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  return fd >= 0 ? number(env, fd) : errno_result(env, errno);
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t fd;
  if (!arg_int(env, argv, argc, 0, &fd)) return NULL;
  /* Linux releases the descriptor even when close reports EINTR: never retry */
  return close(fd) == 0 ? number(env, 0) : errno_result(env, errno);
}

/* setsockopt(fd, level, name, value: number | bytes) -> 0 | -errno */
static napi_value js_setsockopt(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t fd, level, name;
  if (!arg_int(env, argv, argc, 0, &fd) || !arg_int(env, argv, argc, 1, &level) || !arg_int(env, argv, argc, 2, &name)) return NULL;
  napi_valuetype t = napi_undefined;
  if (argc > 3) napi_typeof(env, argv[3], &t);
  int rc;
  if (t == napi_number) {
    int32_t v;
    CHECK(napi_get_value_int32(env, argv[3], &v));
    int iv = v;
    rc = setsockopt(fd, level, name, &iv, sizeof(iv));
  } else {
    void *data;
    size_t len;
    if (!arg_bytes(env, argv, argc, 3, &data, &len, false)) return NULL;
    rc = setsockopt(fd, level, name, data, (socklen_t)len);
  }
  return rc == 0 ? number(env, 0) : errno_result(env, errno);
}

/* getsockopt(fd, level, name, size) -> Buffer | -errno */
static napi_value js_getsockopt(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t fd, level, name, size;
  if (!arg_int(env, argv, argc, 0, &fd) || !arg_int(env, argv, argc, 1, &level) || !arg_int(env, argv, argc, 2, &name)
      || !arg_int(env, argv, argc, 3, &size)) return NULL;
  if (size < 0 || size > 4096) size = 4096;
  unsigned char buf[4096];
  socklen_t len = (socklen_t)size;
  if (getsockopt(fd, level, name, buf, &len) != 0) return errno_result(env, errno);
  napi_value out;
  CHECK(napi_create_buffer_copy(env, len, buf, NULL, &out));
  return out;
}

/* bind(fd, sockaddr bytes) -> 0 | -errno */
static napi_value js_bind(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd;
  void *addr;
  size_t len;
  if (!arg_int(env, argv, argc, 0, &fd) || !arg_bytes(env, argv, argc, 1, &addr, &len, false)) return NULL;
  return bind(fd, (struct sockaddr *)addr, (socklen_t)len) == 0 ? number(env, 0) : errno_result(env, errno);
}

/* getsockname(fd) -> Buffer (the sockaddr) | -errno */
static napi_value js_getsockname(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t fd;
  if (!arg_int(env, argv, argc, 0, &fd)) return NULL;
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return errno_result(env, errno);
  napi_value out;
  CHECK(napi_create_buffer_copy(env, len, &ss, NULL, &out));
  return out;
}

#define MAX_IOV 64

/*
 * sendmsg(fd, data: bytes | bytes[], address: bytes | null, control: bytes | null) -> bytes sent | -errno.
 * Non-blocking: -EAGAIN when the socket buffer is full.
 */
static napi_value js_sendmsg(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t fd;
  if (!arg_int(env, argv, argc, 0, &fd)) return NULL;
  struct iovec iov[MAX_IOV];
  size_t n = 0;
  bool is_array = false;
  if (argc > 1) napi_is_array(env, argv[1], &is_array);
  if (is_array) {
    uint32_t count;
    CHECK(napi_get_array_length(env, argv[1], &count));
    if (count > MAX_IOV) {
      napi_throw_range_error(env, "EINVAL", "ha_native: at most 64 pieces per message");
      return NULL;
    }
    for (uint32_t i = 0; i < count; i++) {
      napi_value item;
      CHECK(napi_get_element(env, argv[1], i, &item));
      napi_value one[1] = {item};
      if (!arg_bytes(env, one, 1, 0, &iov[n].iov_base, &iov[n].iov_len, false)) return NULL;
      n++;
    }
  } else {
    if (!arg_bytes(env, argv, argc, 1, &iov[0].iov_base, &iov[0].iov_len, false)) return NULL;
    n = 1;
  }
  void *addr, *control;
  size_t addrlen, controllen;
  if (!arg_bytes(env, argv, argc, 2, &addr, &addrlen, true) || !arg_bytes(env, argv, argc, 3, &control, &controllen, true)) return NULL;
  struct msghdr msg;
  memset(&msg, 0, sizeof(msg));
  msg.msg_name = addr;
  msg.msg_namelen = (socklen_t)addrlen;
  msg.msg_iov = iov;
  msg.msg_iovlen = n;
  msg.msg_control = control;
  msg.msg_controllen = controllen;
  ssize_t rc;
  do rc = sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL); while (rc == -1 && errno == EINTR);
  return rc >= 0 ? number(env, (double)rc) : errno_result(env, errno);
}

/* One recvmsg into data (cap bytes), non-blocking, with MSG_TRUNC: the datagram's real size or -1. */
static ssize_t recv_one(int fd, void *data, size_t cap, void *name, socklen_t namelen, void *control, size_t controllen, struct msghdr *msg) {
  struct iovec iov = {data, cap};
  memset(msg, 0, sizeof(*msg));
  msg->msg_name = name;
  msg->msg_namelen = namelen;
  msg->msg_iov = &iov;
  msg->msg_iovlen = 1;
  msg->msg_control = controllen > 0 ? control : NULL;
  msg->msg_controllen = controllen;
  ssize_t rc;
  do rc = recvmsg(fd, msg, MSG_DONTWAIT | MSG_TRUNC); while (rc == -1 && errno == EINTR);
  msg->msg_iov = NULL; /* iov lived on this stack */
  return rc;
}

#define CUT(rc, cap) ((double)((size_t)(rc) < (cap) ? (size_t)(rc) : (cap)))

/*
 * recvmsg(fd, buffer, controlSize) -> -errno, or an array
 *   [length, truncatedLength, address: Buffer, control: Buffer, flags]
 * The datagram is written into `buffer` (reused by the caller, so receiving allocates little);
 * `truncatedLength` is the datagram's real size (MSG_TRUNC), larger than length when it was cut.
 */
static napi_value js_recvmsg(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t fd, csize;
  void *data;
  size_t cap;
  if (!arg_int(env, argv, argc, 0, &fd) || !arg_bytes(env, argv, argc, 1, &data, &cap, false) || !arg_int(env, argv, argc, 2, &csize)) return NULL;
  if (csize < 0 || csize > 4096) csize = 4096;
  unsigned char control[4096];
  struct sockaddr_storage ss;
  struct msghdr msg;
  ssize_t rc = recv_one(fd, data, cap, &ss, sizeof(ss), control, (size_t)csize, &msg);
  if (rc < 0) return errno_result(env, errno);
  napi_value out, v;
  CHECK(napi_create_array_with_length(env, 5, &out));
  CHECK(napi_set_element(env, out, 0, number(env, CUT(rc, cap))));
  CHECK(napi_set_element(env, out, 1, number(env, (double)rc)));
  CHECK(napi_create_buffer_copy(env, msg.msg_namelen, &ss, NULL, &v));
  CHECK(napi_set_element(env, out, 2, v));
  CHECK(napi_create_buffer_copy(env, msg.msg_controllen, control, NULL, &v));
  CHECK(napi_set_element(env, out, 3, v));
  CHECK(napi_set_element(env, out, 4, number(env, msg.msg_flags)));
  return out;
}

/*
 * recvNetlink(fd, buffer) -> -errno, or [length, realLength, senderPort, groups]: one netlink
 * datagram into `buffer` without allocating anything but the small result.
 */
static napi_value js_recv_netlink(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd;
  void *data;
  size_t cap;
  if (!arg_int(env, argv, argc, 0, &fd) || !arg_bytes(env, argv, argc, 1, &data, &cap, false)) return NULL;
  struct sockaddr_nl nl;
  memset(&nl, 0, sizeof(nl));
  struct msghdr msg;
  ssize_t rc = recv_one(fd, data, cap, &nl, sizeof(nl), NULL, 0, &msg);
  if (rc < 0) return errno_result(env, errno);
  napi_value out;
  CHECK(napi_create_array_with_length(env, 4, &out));
  CHECK(napi_set_element(env, out, 0, number(env, CUT(rc, cap))));
  CHECK(napi_set_element(env, out, 1, number(env, (double)rc)));
  CHECK(napi_set_element(env, out, 2, number(env, nl.nl_pid)));
  CHECK(napi_set_element(env, out, 3, number(env, nl.nl_groups)));
  return out;
}

/* ---- readability watches ---- */

typedef struct watch watch_t;

/* What the JS handle points to: the watch, until it is stopped (then NULL). */
typedef struct {
  watch_t *w;
} box_t;

struct watch {
  uv_poll_t poll;
  int fd;
  napi_env env;
  napi_ref callback;
  napi_async_context async;
  box_t *box;
};

static void watch_closed(uv_handle_t *h) { free(h->data); }

/* Stop a watch, drop its references and free it once libuv has closed the handle. */
static void watch_stop(watch_t *w) {
  uv_poll_stop(&w->poll);
  if (w->callback) napi_delete_reference(w->env, w->callback);
  if (w->async) napi_async_destroy(w->env, w->async);
  w->callback = NULL;
  w->async = NULL;
  if (w->box) w->box->w = NULL;
  w->box = NULL;
  uv_close((uv_handle_t *)&w->poll, watch_closed);
}

/* Call the watch's callback with (status); a throwing callback goes to process 'uncaughtException'. */
static void watch_ready(uv_poll_t *p, int status, int events) {
  watch_t *w = (watch_t *)p->data;
  if (!w->callback) return;
  napi_env env = w->env;
  if (status < 0) {
    /* POLLERR: libuv has stopped the watch. Report the socket's pending error (reading it clears
     * it; for netlink, ENOBUFS: the receive queue overran and messages were lost) and watch on. */
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(w->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0) status = -err;
    uv_poll_start(&w->poll, UV_READABLE, watch_ready);
  }
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, arg, result;
  if (napi_get_reference_value(env, w->callback, &cb) == napi_ok && cb != NULL && napi_get_global(env, &recv) == napi_ok
      && napi_create_int32(env, status, &arg) == napi_ok) {
    napi_status s = napi_make_callback(env, w->async, recv, cb, 1, &arg, &result);
    if (s == napi_pending_exception) {
      napi_value exc;
      if (napi_get_and_clear_last_exception(env, &exc) == napi_ok) napi_fatal_exception(env, exc);
    }
  }
  napi_close_handle_scope(env, scope);
}

static void box_finalize(napi_env env, void *data, void *hint) {
  box_t *box = (box_t *)data;
  if (box->w) watch_stop(box->w); /* collected without unwatch() */
  free(box);
}

/* watch(fd, callback(status)) -> handle | -errno: callback runs whenever fd is readable (status < 0 on a poll error). */
static napi_value js_watch(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd;
  if (!arg_int(env, argv, argc, 0, &fd)) return NULL;
  napi_valuetype t = napi_undefined;
  if (argc > 1) napi_typeof(env, argv[1], &t);
  if (t != napi_function) {
    napi_throw_type_error(env, "EINVAL", "ha_native: watch needs a callback");
    return NULL;
  }
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  watch_t *w = calloc(1, sizeof(*w));
  box_t *box = calloc(1, sizeof(*box));
  if (!w || !box) {
    free(w);
    free(box);
    return errno_result(env, ENOMEM);
  }
  w->env = env;
  int rc = uv_poll_init(loop, &w->poll, fd);
  if (rc != 0) {
    free(w);
    free(box);
    return number(env, rc); /* libuv errors are negative errnos */
  }
  w->poll.data = w;
  w->fd = fd;
  w->box = box;
  box->w = w;
  napi_value name, handle;
  if (napi_create_reference(env, argv[1], 1, &w->callback) != napi_ok
      || napi_create_string_utf8(env, "ha:watch", NAPI_AUTO_LENGTH, &name) != napi_ok
      || napi_async_init(env, NULL, name, &w->async) != napi_ok) {
    watch_stop(w);
    free(box);
    return throw_last(env);
  }
  rc = uv_poll_start(&w->poll, UV_READABLE, watch_ready);
  if (rc != 0) {
    watch_stop(w);
    free(box);
    return number(env, rc);
  }
  if (napi_create_external(env, box, box_finalize, NULL, &handle) != napi_ok) {
    watch_stop(w);
    free(box);
    return throw_last(env);
  }
  return handle;
}

static box_t *arg_box(napi_env env, napi_value *argv, size_t argc) {
  napi_valuetype t = napi_undefined;
  if (argc > 0) napi_typeof(env, argv[0], &t);
  void *data = NULL;
  if (t != napi_external || napi_get_value_external(env, argv[0], &data) != napi_ok || !data) {
    napi_throw_type_error(env, "EINVAL", "ha_native: expected a watch handle");
    return NULL;
  }
  return (box_t *)data;
}

/* unwatch(handle): stop watching (idempotent). Call it before closing the descriptor. */
static napi_value js_unwatch(napi_env env, napi_callback_info info) {
  ARGS(1);
  box_t *box = arg_box(env, argv, argc);
  if (!box) return NULL;
  if (box->w) watch_stop(box->w);
  return number(env, 0);
}

/* ref(handle, keepAlive): whether the watch keeps the process running. */
static napi_value js_ref(napi_env env, napi_callback_info info) {
  ARGS(2);
  box_t *box = arg_box(env, argv, argc);
  if (!box) return NULL;
  bool on = false;
  if (argc > 1) napi_get_value_bool(env, argv[1], &on);
  if (box->w) {
    if (on) uv_ref((uv_handle_t *)&box->w->poll);
    else uv_unref((uv_handle_t *)&box->w->poll);
  }
  return number(env, 0);
}

static napi_value init(napi_env env, napi_value exports) {
  static const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {
      {"flock", js_flock},       {"setns", js_setns},   {"socket", js_socket},         {"close", js_close},
      {"setsockopt", js_setsockopt}, {"getsockopt", js_getsockopt}, {"bind", js_bind},   {"getsockname", js_getsockname},
      {"sendmsg", js_sendmsg},   {"recvmsg", js_recvmsg}, {"recvNetlink", js_recv_netlink}, {"watch", js_watch},
      {"unwatch", js_unwatch},   {"ref", js_ref},         {"schedSetScheduler", js_sched_setscheduler},
  };
  for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
    napi_value f;
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f) != napi_ok) return NULL;
    if (napi_set_named_property(env, exports, fns[i].name, f) != napi_ok) return NULL;
  }
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
