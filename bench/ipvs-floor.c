/*
 * ipvs-floor: the physical limit of an IPVS restore. Replays the netlink requests that
 * `ha ipvs restore` sent (recorded by bench/ipvs-record.ts), pre-encoded, as fast as the kernel
 * takes them: one NETLINK_GENERIC socket, as many messages per datagram as fit in -b bytes, at most
 * -w datagrams in flight, an ACK asked for only on the last message of each datagram (the kernel
 * handles a datagram's messages in order and reports every error anyway).
 *
 *   cc -O2 -o ipvs-floor bench/ipvs-floor.c
 *   ipvs-floor [-b BYTES] [-w WINDOW] RECORDING
 *
 *   -b BYTES   most bytes per datagram (default 262144); 0 puts every message in one datagram
 *   -w WINDOW  most datagrams sent and not yet acknowledged (default 4)
 *
 * Before the clock for sending starts: the file is read, the family named in it ("IPVS") is
 * resolved with CTRL_CMD_GETFAMILY and its id written into every nlmsg_type (so a file recorded
 * in another boot, or after the module was reloaded, still works), the messages are renumbered
 * 1..N (nlmsg_seq), given pid 0, packed, and NLM_F_ACK is set on the last of each datagram only.
 *
 * On success, one line of JSON on standard output:
 *   {"family":"IPVS","familyId":..,"recordedFamilyId":..,"messages":..,"bytes":..,"datagrams":..,
 *    "datagramBytes":..,"largestDatagram":..,"window":..,"readMs":..,"resolveMs":..,"sendMs":..,"totalMs":..}
 * readMs: reading and packing the file; resolveMs: socket and family lookup; sendMs: from the
 * first send to the last ACK (CLOCK_MONOTONIC); totalMs: all of main(). Time the process as a
 * whole for start-up and exit on top.
 *
 * Exit status: 0 every message acknowledged; 1 the kernel refused one (standard error names the
 * first: its index, command, errno and the kernel's text); 2 usage or a bad recording; 3 a system
 * call failed (socket, send, receive, ENOBUFS).
 *
 * The recording (integers little-endian; written by bench/ipvs-record.ts, described there too):
 *   0  8  magic "HANLREC1"             12  4  netlink protocol (16)
 *   8  4  header size (48)             16 16  family name, NUL-padded
 *  32  2  family id in nlmsg_type      34  2  reserved
 *  36  4  number of messages           40  4  number of datagrams     44  4  reserved
 *  then per datagram: 4 bytes length L, then L bytes of whole netlink messages, each 4-byte padded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif
#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NLM_F_CAPPED
#define NLM_F_CAPPED 0x100
#endif
#ifndef NLM_F_ACK_TLVS
#define NLM_F_ACK_TLVS 0x200
#endif
#ifndef NLMSGERR_ATTR_MSG
#define NLMSGERR_ATTR_MSG 1
#endif

#define HEADER_SIZE 48
#define RESOLVE_SEQ 0x7fffffffu

static double start_ms;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void die(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("ipvs-floor: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(code);
}

static const char *errno_name(int e) {
  const char *n = strerrorname_np(e);
  return n ? n : "E?";
}

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p) {
  return (uint16_t)(p[0] | p[1] << 8);
}

static const char *ipvs_cmd(unsigned cmd) {
  static const char *const names[] = {
    "UNSPEC", "NEW_SERVICE", "SET_SERVICE", "DEL_SERVICE", "GET_SERVICE", "NEW_DEST", "SET_DEST", "DEL_DEST",
    "GET_DEST", "NEW_DAEMON", "DEL_DAEMON", "GET_DAEMON", "SET_CONFIG", "GET_CONFIG", "SET_INFO", "GET_INFO",
    "ZERO", "FLUSH",
  };
  return cmd < sizeof names / sizeof names[0] ? names[cmd] : "?";
}

static uint8_t *read_file(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die(2, "%s: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) < 0) die(2, "%s: %s", path, strerror(errno));
  size_t size = (size_t)st.st_size;
  uint8_t *buf = malloc(size ? size : 1);
  if (!buf) die(3, "out of memory for %zu bytes", size);
  size_t got = 0;
  while (got < size) {
    ssize_t n = read(fd, buf + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die(2, "%s: %s", path, strerror(errno));
    if (n == 0) break;
    got += (size_t)n;
  }
  close(fd);
  *len = got;
  return buf;
}

/*
 * The netlink attributes after an NLMSG_ERROR's payload (extended ACK): the kernel's text, if any.
 */
static const char *ext_ack_text(const struct nlmsghdr *h) {
  if (!(h->nlmsg_flags & NLM_F_ACK_TLVS)) return NULL;
  const struct nlmsgerr *e = NLMSG_DATA(h);
  size_t skip = sizeof *e;
  if (!(h->nlmsg_flags & NLM_F_CAPPED)) skip += NLMSG_ALIGN(e->msg.nlmsg_len) - NLMSG_HDRLEN;
  const uint8_t *p = (const uint8_t *)e + skip;
  const uint8_t *end = (const uint8_t *)h + h->nlmsg_len;
  while (p + NLA_HDRLEN <= end) {
    const struct nlattr *a = (const struct nlattr *)p;
    if (a->nla_len < NLA_HDRLEN || p + a->nla_len > end) break;
    if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG && a->nla_len > NLA_HDRLEN) return (const char *)p + NLA_HDRLEN;
    p += NLA_ALIGN(a->nla_len);
  }
  return NULL;
}

/* The id of a generic netlink family, looked up through the controller (one request, one reply). */
static uint16_t resolve_family(int fd, const char *name) {
  union {
    uint8_t bytes[256];
    struct nlmsghdr h;
  } req;
  memset(&req, 0, sizeof req);
  size_t namelen = strlen(name) + 1;
  struct genlmsghdr *g = (struct genlmsghdr *)(req.bytes + NLMSG_HDRLEN);
  g->cmd = CTRL_CMD_GETFAMILY;
  g->version = 1;
  struct nlattr *a = (struct nlattr *)(req.bytes + NLMSG_HDRLEN + GENL_HDRLEN);
  a->nla_type = CTRL_ATTR_FAMILY_NAME;
  a->nla_len = (uint16_t)(NLA_HDRLEN + namelen);
  memcpy((uint8_t *)a + NLA_HDRLEN, name, namelen);
  req.h.nlmsg_len = (uint32_t)(NLMSG_HDRLEN + GENL_HDRLEN + NLA_ALIGN(a->nla_len));
  req.h.nlmsg_type = GENL_ID_CTRL;
  req.h.nlmsg_flags = NLM_F_REQUEST;
  req.h.nlmsg_seq = RESOLVE_SEQ;
  if (send(fd, req.bytes, req.h.nlmsg_len, 0) < 0) die(3, "send (family lookup): %s", strerror(errno));

  static uint8_t reply[65536] __attribute__((aligned(4)));
  for (;;) {
    ssize_t n = recv(fd, reply, sizeof reply, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die(3, "recv (family lookup): %s", strerror(errno));
    size_t left = (size_t)n;
    for (struct nlmsghdr *h = (struct nlmsghdr *)reply; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_seq != RESOLVE_SEQ) continue;
      if (h->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *e = NLMSG_DATA(h);
        if (e->error == -ENOENT) die(3, "generic netlink family %s is not available in this kernel (modprobe ip_vs)", name);
        die(3, "family lookup of %s: %s (%s)", name, errno_name(-e->error), strerror(-e->error));
      }
      if (h->nlmsg_type != GENL_ID_CTRL) continue;
      const uint8_t *p = (const uint8_t *)NLMSG_DATA(h) + GENL_HDRLEN;
      const uint8_t *end = (const uint8_t *)h + h->nlmsg_len;
      while (p + NLA_HDRLEN <= end) {
        const struct nlattr *at = (const struct nlattr *)p;
        if (at->nla_len < NLA_HDRLEN || p + at->nla_len > end) break;
        if ((at->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_FAMILY_ID && at->nla_len >= NLA_HDRLEN + 2) {
          uint16_t id;
          memcpy(&id, p + NLA_HDRLEN, 2);
          return id;
        }
        p += NLA_ALIGN(at->nla_len);
      }
      die(3, "family lookup of %s: the reply has no family id", name);
    }
  }
}

static void usage(void) {
  fputs("usage: ipvs-floor [-b BYTES] [-w WINDOW] RECORDING\n", stderr);
  exit(2);
}

int main(int argc, char **argv) {
  start_ms = now_ms();
  size_t max_bytes = 262144;
  size_t window = 4;
  int opt;
  while ((opt = getopt(argc, argv, "b:w:")) != -1) {
    char *end;
    unsigned long long v;
    switch (opt) {
    case 'b':
      v = strtoull(optarg, &end, 10);
      if (*end || v > (1ull << 30)) usage();
      max_bytes = (size_t)v;
      break;
    case 'w':
      v = strtoull(optarg, &end, 10);
      if (*end || v < 1 || v > 1000000) usage();
      window = (size_t)v;
      break;
    default:
      usage();
    }
  }
  if (optind != argc - 1) usage();
  const char *path = argv[optind];

  /* ---- read the recording; gather its messages, contiguous, at the start of the buffer ---- */
  size_t len;
  uint8_t *buf = read_file(path, &len);
  if (len < HEADER_SIZE || memcmp(buf, "HANLREC1", 8) != 0) die(2, "%s: not a recording (no HANLREC1 header)", path);
  uint32_t header_size = le32(buf + 8);
  if (header_size < HEADER_SIZE || header_size > len) die(2, "%s: bad header size %u", path, header_size);
  if (le32(buf + 12) != NETLINK_GENERIC) die(2, "%s: netlink protocol %u: only generic netlink (16) is replayed", path, le32(buf + 12));
  char family[17];
  memcpy(family, buf + 16, 16);
  family[16] = 0;
  if (!family[0]) die(2, "%s: no family name", path);
  uint16_t recorded_family = le16(buf + 32);
  uint32_t nmsg = le32(buf + 36);
  uint32_t ndg_recorded = le32(buf + 40);
  if (nmsg == 0) die(2, "%s: no messages", path);
  if ((uint64_t)nmsg * (NLMSG_HDRLEN + GENL_HDRLEN) > len) die(2, "%s: %u messages cannot fit in %zu bytes", path, nmsg, len);

  /* off[i]: where message i starts in buf (after compaction); off[nmsg]: the end of the last */
  size_t *off = malloc(((size_t)nmsg + 1) * sizeof *off);
  if (!off) die(3, "out of memory");
  size_t pos = header_size, w = 0, m = 0;
  for (uint32_t d = 0; d < ndg_recorded; d++) {
    if (len - pos < 4) die(2, "%s: datagram %u: truncated length", path, d);
    size_t dlen = le32(buf + pos);
    pos += 4;
    if (dlen > len - pos) die(2, "%s: datagram %u: %zu bytes, past the end of the file", path, d, dlen);
    size_t q = pos, end = pos + dlen;
    while (q < end) {
      if (end - q < NLMSG_HDRLEN) die(2, "%s: datagram %u: truncated message header", path, d);
      uint32_t mlen = le32(buf + q);
      if (mlen < NLMSG_HDRLEN + GENL_HDRLEN || mlen > end - q) die(2, "%s: datagram %u: message of bad length %u", path, d, mlen);
      if (m == nmsg) die(2, "%s: more messages than the header's %u", path, nmsg);
      size_t padded = NLMSG_ALIGN(mlen);
      /* w <= q: moving down never overwrites what is still to be read */
      memmove(buf + w, buf + q, mlen);
      memset(buf + w + mlen, 0, padded - mlen);
      off[m++] = w;
      w += padded;
      q += padded < end - q ? padded : end - q;
    }
    pos = end;
  }
  if (pos != len) die(2, "%s: %zu bytes after the last datagram", path, len - pos);
  if (m != nmsg) die(2, "%s: %zu messages, the header says %u", path, m, nmsg);
  off[nmsg] = w;
  uint8_t *msgs = buf;

  /* ---- pack: datagram k holds messages first[k] .. first[k+1]-1 ---- */
  size_t *first = malloc(((size_t)nmsg + 1) * sizeof *first);
  if (!first) die(3, "out of memory");
  size_t ndg = 0, largest = 0;
  for (size_t i = 0; i < nmsg;) {
    first[ndg++] = i;
    size_t start = off[i++];
    while (i < nmsg && (max_bytes == 0 || off[i + 1] - start <= max_bytes)) i++;
    if (off[i] - start > largest) largest = off[i] - start;
  }
  first[ndg] = nmsg;
  double read_ms = now_ms() - start_ms;

  /* ---- the socket, and the family id of this boot ---- */
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
  if (fd < 0) die(3, "socket(NETLINK_GENERIC): %s", strerror(errno));
  struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) die(3, "bind: %s", strerror(errno));
  int one = 1;
  /* errors do not echo the request back, and carry the kernel's text */
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  /* room for an error reply to every message in flight */
  int rcvbuf = 32 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  /* the kernel refuses a datagram larger than the send buffer less 32 bytes (it doubles what is set) */
  int sndbuf = (int)(largest + 4096 > 212992 ? largest + 4096 : 212992);
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf) < 0) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  int got_snd = 0;
  socklen_t sl = sizeof got_snd;
  getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &got_snd, &sl);
  if ((size_t)got_snd < largest + 32) die(3, "send buffer of %d bytes is too small for datagrams of %zu (run as root, or a smaller -b)", got_snd, largest);
  double resolve_start = now_ms();
  uint16_t family_id = resolve_family(fd, family);
  double resolve_ms = now_ms() - resolve_start;

  /* ---- patch: this boot's family id, sequence numbers 1..N, an ACK only at each datagram's end ---- */
  for (size_t i = 0; i < nmsg; i++) {
    struct nlmsghdr *h = (struct nlmsghdr *)(msgs + off[i]);
    if (h->nlmsg_type != recorded_family) die(2, "%s: message %zu has type %u, not the recorded family id %u", path, i + 1, h->nlmsg_type, recorded_family);
    h->nlmsg_type = family_id;
    h->nlmsg_seq = (uint32_t)(i + 1);
    h->nlmsg_pid = 0;
    h->nlmsg_flags = (uint16_t)((h->nlmsg_flags & ~NLM_F_ACK) | NLM_F_REQUEST);
  }
  for (size_t k = 0; k < ndg; k++) ((struct nlmsghdr *)(msgs + off[first[k + 1] - 1]))->nlmsg_flags |= NLM_F_ACK;

  /* ---- send, a window of datagrams at a time; each ACK frees one place ---- */
  static uint8_t reply[65536] __attribute__((aligned(4)));
  size_t next = 0, acked = 0;
  int failed = 0, fail_errno = 0;
  size_t fail_index = 0;
  char fail_text[512] = "";
  double send_start = now_ms();
  while (acked < ndg && !failed) {
    while (next < ndg && next - acked < window) {
      size_t a = off[first[next]], b = off[first[next + 1]];
      ssize_t n = send(fd, msgs + a, b - a, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) die(3, "send of datagram %zu (%zu bytes, messages %zu-%zu): %s (%s)", next + 1, b - a, first[next] + 1, first[next + 1], errno_name(errno), strerror(errno));
      next++;
    }
    ssize_t n = recv(fd, reply, sizeof reply, MSG_TRUNC);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == ENOBUFS) die(3, "the receive queue overran (ENOBUFS): replies were lost after %zu of %zu datagrams", acked, ndg);
    if (n < 0) die(3, "recv: %s (%s)", errno_name(errno), strerror(errno));
    if ((size_t)n > sizeof reply) die(3, "a reply of %zd bytes was cut", n);
    size_t left = (size_t)n;
    for (struct nlmsghdr *h = (struct nlmsghdr *)reply; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_seq < 1 || h->nlmsg_seq > nmsg) continue;
      const struct nlmsgerr *e = NLMSG_DATA(h);
      size_t i = h->nlmsg_seq - 1;
      if (e->error != 0 && !failed) {
        /* the kernel answers in order: the first error heard is the first message refused */
        failed = 1;
        fail_errno = -e->error;
        fail_index = i;
        const char *t = ext_ack_text(h);
        if (t) snprintf(fail_text, sizeof fail_text, ": %s", t);
      }
      if (((struct nlmsghdr *)(msgs + off[i]))->nlmsg_flags & NLM_F_ACK) acked++;
    }
  }
  double send_ms = now_ms() - send_start;

  if (failed) {
    const struct nlmsghdr *h = (const struct nlmsghdr *)(msgs + off[fail_index]);
    unsigned cmd = ((const struct genlmsghdr *)NLMSG_DATA(h))->cmd;
    size_t dg = 0;
    while (first[dg + 1] <= fail_index) dg++;
    fprintf(stderr, "ipvs-floor: the kernel refused message %zu of %u (%s %s, in datagram %zu of %zu): %s (%s, errno %d)%s\n",
      fail_index + 1, nmsg, family, strcmp(family, "IPVS") == 0 ? ipvs_cmd(cmd) : "cmd", dg + 1, ndg,
      errno_name(fail_errno), strerror(fail_errno), fail_errno, fail_text);
    return 1;
  }
  close(fd);
  printf("{\"family\":\"%s\",\"familyId\":%u,\"recordedFamilyId\":%u,\"messages\":%u,\"bytes\":%zu,\"datagrams\":%zu,"
    "\"datagramBytes\":%zu,\"largestDatagram\":%zu,\"window\":%zu,\"readMs\":%.3f,\"resolveMs\":%.3f,\"sendMs\":%.3f,\"totalMs\":%.3f}\n",
    family, family_id, recorded_family, nmsg, off[nmsg], ndg, max_bytes, largest, window, read_ms, resolve_ms, send_ms, now_ms() - start_ms);
  return 0;
}
