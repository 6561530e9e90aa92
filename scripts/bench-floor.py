#!/usr/bin/python3
"""The floor of scripts/bench's whole-run comparison: configure a star lab and ping, in ONE process.

scripts/bench builds the star's namespaces and veth pairs with one `ip -batch` in the root namespace
(every link created in place: `ip link add eth0 netns LEAF type veth peer name pI netns HUB`), then
runs this script, then deletes the namespaces with one more `ip -batch`. This script:

  1. for every namespace: setns() into it (libc through ctypes, /run/netns/NAME) and open there a
     NETLINK_ROUTE socket and a raw ICMP socket (a socket stays in the namespace it was made in);
  2. configures every namespace over its netlink socket, all requests sent before any answer is
     read: lo up; the hub's br0 up with 10.77.0.1/16 and every port pI enslaved to br0 and up; each
     leaf's eth0 up with its address (the same addresses as the bench's star lab);
  3. pings over the raw ICMP sockets: every source sends one echo request to each of its targets,
     sources all at once; what has no reply after --resend-after seconds is sent once more; what has
     none by --timeout is lost.

Star (default): each leaf pings the hub.  --all-pairs: every node (hub and leaves) pings every other.
--static-neigh: step 2 also adds a permanent neighbour entry for each peer (the MACs the build batch set).
Prints one JSON line: configMs, pingMs (the ping loop alone), pairs, ok, resent, lost (up to 20 pairs).
Standard library only; must run as root.  Usage:
  bench-floor.py --prefix NAMEPREFIX --leaves N [--all-pairs] [--static-neigh] [--resend-after S] [--timeout S]
"""
import argparse
import ctypes
import json
import os
import select
import socket
import struct
import sys
import time

CLONE_NEWNET = 0x40000000
NETNS_DIR = '/run/netns'
HUB_ADDR = '10.77.0.1'
PREFIX_LEN = 16

# netlink
NLMSG_ERROR = 2
RTM_NEWLINK = 16
RTM_NEWADDR = 20
RTM_NEWNEIGH = 28
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLM_F_REPLACE = 0x100
NLM_F_EXCL = 0x200
NLM_F_CREATE = 0x400
IFF_UP = 0x1
IFLA_MASTER = 10
IFA_ADDRESS = 1
IFA_LOCAL = 2
NDA_DST = 1
NDA_LLADDR = 2
NUD_PERMANENT = 0x80

libc = ctypes.CDLL(None, use_errno=True)


def node_address(i):
    """Leaf i (1-based): 10.77.0.11, 10.77.0.12, ... as scripts/bench's nodeAddress()."""
    v = 10 + i
    return '10.77.%d.%d' % (v >> 8, v & 255)


def setns(path):
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, 'setns %s: %s' % (path, os.strerror(e)))
    finally:
        os.close(fd)


def rtattr(kind, payload):
    length = 4 + len(payload)
    return struct.pack('=HH', length, kind) + payload + b'\0' * ((4 - length % 4) % 4)


def mac(k):
    """The MAC address the bench's build batch gives node k (0: the hub's br0, i: leaf i's eth0)."""
    return bytes([0x02, 0x4e, 0x4c, 0x00, k >> 8, k & 255])


class Netlink:
    """One NETLINK_ROUTE socket in one namespace. Requests are queued, sent in a few large writes, and only
    the last asks for an ack: the kernel handles a socket's requests in order and answers a failed one
    with an error whether asked or not, so the last ack means all are done (and the acks of hundreds of
    requests do not overflow the socket's receive buffer)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        self.sock.bind((0, 0))
        self.seq = 0
        self.out = []

    def request(self, kind, flags, body):
        self.seq += 1
        self.out.append([16 + len(body), kind, NLM_F_REQUEST | flags, self.seq, body])

    def add_neigh(self, index, addr, lladdr):
        body = struct.pack('=BxxxiHBB', socket.AF_INET, index, NUD_PERMANENT, 0, 0)
        body += rtattr(NDA_DST, socket.inet_aton(addr)) + rtattr(NDA_LLADDR, lladdr)
        self.request(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, body)

    def link_up(self, index, master=None):
        attrs = rtattr(IFLA_MASTER, struct.pack('=I', master)) if master else b''
        self.request(RTM_NEWLINK, 0, struct.pack('=BxHiII', socket.AF_UNSPEC, 0, index, IFF_UP, IFF_UP) + attrs)

    def add_addr(self, index, addr, plen):
        raw = socket.inet_aton(addr)
        body = struct.pack('=BBBBI', socket.AF_INET, plen, 0, 0, index) + rtattr(IFA_LOCAL, raw) + rtattr(IFA_ADDRESS, raw)
        self.request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, body)

    def flush(self):
        if not self.out:
            return
        self.out[-1][2] |= NLM_F_ACK
        chunk = b''
        for length, kind, flags, seq, body in self.out:
            msg = struct.pack('=IHHII', length, kind, flags, seq, 0) + body
            if len(chunk) + len(msg) > 32768:
                self.sock.send(chunk)
                chunk = b''
            chunk += msg
        self.sock.send(chunk)
        self.out = []

    def acks(self, where):
        """Reads until the last request's ack; raises on the first error."""
        while self.seq:
            data = self.sock.recv(65536)
            off = 0
            while off + 16 <= len(data):
                length, kind, _flags, seq, _pid = struct.unpack_from('=IHHII', data, off)
                if kind == NLMSG_ERROR:
                    (err,) = struct.unpack_from('=i', data, off + 16)
                    if err:
                        raise OSError(-err, '%s: netlink request %d: %s' % (where, seq, os.strerror(-err)))
                    if seq == self.seq:
                        self.seq = 0
                off += (length + 3) & ~3
        self.sock.close()


def checksum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff


def echo_request(ident, seq):
    header = struct.pack('!BBHHH', 8, 0, 0, ident, seq)
    payload = b'netlab-bench-floor'
    return struct.pack('!BBHHH', 8, 0, checksum(header + payload), ident, seq) + payload


def main():
    ap = argparse.ArgumentParser(description='scripts/bench floor: configure and ping a star lab from one process')
    ap.add_argument('--prefix', required=True)
    ap.add_argument('--leaves', type=int, required=True)
    ap.add_argument('--all-pairs', action='store_true')
    ap.add_argument('--static-neigh', action='store_true',
                    help='permanent neighbour entries for every address a node pings or is pinged from (no ARP; '
                         'permanent entries do not count against the kernel-wide gc_thresh3 limit)')
    ap.add_argument('--resend-after', type=float, default=0.2)
    ap.add_argument('--timeout', type=float, default=1.0)
    args = ap.parse_args()
    n = args.leaves
    hub = args.prefix + 'hub'
    leaves = ['%sn%d' % (args.prefix, i) for i in range(1, n + 1)]
    nodes = [hub] + leaves
    addr = {hub: HUB_ADDR}
    for i, ns in enumerate(leaves, 1):
        addr[ns] = node_address(i)
    # Whom each node talks to (for --static-neigh): the hub everyone, a leaf the hub (star) or everyone (all pairs).
    def peers(k):
        if args.all_pairs:
            return [j for j in range(len(nodes)) if j != k]
        return list(range(1, len(nodes))) if k == 0 else [0]

    t0 = time.monotonic()
    home = os.open('/proc/self/ns/net', os.O_RDONLY | os.O_CLOEXEC)
    links = {}
    icmp = {}
    for k, ns in enumerate(nodes):
        setns(os.path.join(NETNS_DIR, ns))
        nl = Netlink()
        nl.link_up(socket.if_nametoindex('lo'))
        if ns == hub:
            br = socket.if_nametoindex('br0')
            nl.link_up(br)
            nl.add_addr(br, HUB_ADDR, PREFIX_LEN)
            for i in range(1, n + 1):
                nl.link_up(socket.if_nametoindex('p%d' % i), master=br)
            dev = br
        else:
            dev = socket.if_nametoindex('eth0')
            nl.link_up(dev)
            nl.add_addr(dev, addr[ns], PREFIX_LEN)
        if args.static_neigh:
            for j in peers(k):
                nl.add_neigh(dev, addr[nodes[j]], mac(j))
        nl.flush()
        links[ns] = nl
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        s.setblocking(False)
        icmp[ns] = s
    if libc.setns(home, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), 'setns back to the root namespace')
    os.close(home)
    for ns, nl in links.items():
        nl.acks(ns)
    t1 = time.monotonic()

    # Who pings whom: (source namespace, target address) pairs; seq = index of the target in `nodes`.
    if args.all_pairs:
        todo = {(src, k) for src in nodes for k, dst in enumerate(nodes) if dst != src}
    else:
        todo = {(src, 0) for src in leaves}
    pairs = len(todo)
    ident = os.getpid() & 0xffff
    by_fd = {icmp[ns].fileno(): ns for ns in nodes}
    ep = select.epoll()
    for fd in by_fd:
        ep.register(fd, select.EPOLLIN)

    def send(batch):
        for src, k in sorted(batch):
            try:
                icmp[src].sendto(echo_request(ident, k), (addr[nodes[k]], 0))
            except (BlockingIOError, OSError):
                pass  # lost like a dropped packet: the resend or the timeout deals with it

    send(todo)
    resent = 0
    start = time.monotonic()
    resend_at = start + args.resend_after
    deadline = start + args.timeout
    while todo:
        now = time.monotonic()
        if resend_at and now >= resend_at:
            resent = len(todo)
            send(todo)
            resend_at = None
        if now >= deadline:
            break
        wait = (resend_at if resend_at else deadline) - now
        for fd, _ in ep.poll(max(wait, 0)):
            src = by_fd[fd]
            s = icmp[src]
            while True:
                try:
                    pkt, (frm, _) = s.recvfrom(2048)
                except BlockingIOError:
                    break
                ihl = (pkt[0] & 0x0f) * 4
                if len(pkt) < ihl + 8:
                    continue
                kind, _code, _sum, pid, seq = struct.unpack_from('!BBHHH', pkt, ihl)
                if kind == 0 and pid == ident and seq < len(nodes) and addr[nodes[seq]] == frm:
                    todo.discard((src, seq))
    t2 = time.monotonic()
    for s in icmp.values():
        s.close()
    lost = ['%s -> %s' % (src[len(args.prefix):], nodes[k][len(args.prefix):]) for src, k in sorted(todo)]
    json.dump({
        'configMs': (t1 - t0) * 1000, 'pingMs': (t2 - t1) * 1000, 'pairs': pairs, 'ok': pairs - len(todo),
        'resent': resent, 'lost': lost[:20],
    }, sys.stdout)
    sys.stdout.write('\n')
    return 0 if not todo else 1


if __name__ == '__main__':
    sys.exit(main())
