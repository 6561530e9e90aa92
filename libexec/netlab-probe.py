# netlab's prober: ONE process per netlab run that sends the ICMP echo of every ping check, from any of the lab's
# network namespaces, through raw sockets it opens in each of them (setns into the namespace, open the socket, setns
# back: a socket stays in the namespace it was made in). No process per check: a check is a line on stdin, its
# result a line on stdout. Python 3 standard library only; started by src/runner/prober.ts as
# `python3 -I -S -c BOOT .../netlab-probe.py`, BOOT importing this file as a module so that Python keeps its compiled
# code in __pycache__ (compiling it was ~13 ms of every start), then calling run() (inside the sandbox's box when the
# lab is boxed; `python3 -I -S netlab-probe.py` runs it too).
#
# Protocol (JSON, one object per line):
#   in:  {"id": N, "op": "ping", "netns": "/run/netns/NS", "target": "10.0.0.1", "count": 1,
#         "interval": 0.05, "wait": 2.0, "resend": 0.25}
#   out: {"id": N, "outcome": "reply"|"no-route"|"icmp-unreachable"|"no-reply"|"error",
#         "sent": S, "received": R, "ttls": [...], "message": "...", "lines": ["64 bytes from ...", ...]}
#   out at start: {"ready": true}
# `count` echoes go `interval` s apart; the probe ends when every one was answered (a reply or an ICMP error) or
# `wait` s after the last. With count 1 and `resend` > 0, an echo not answered after `resend` s is sent once more
# (the first packet to a new neighbour can wait on ARP/ND): either reply counts, and the wait runs from the first.
# The outcomes mean what iputils ping's output means to netlab (src/checks/ping.ts parsePing): reply; no-route (the
# source's own routing refused the packet: ENETUNREACH/EHOSTUNREACH on send); icmp-unreachable (an ICMP destination
# unreachable came back, or the source's neighbour resolution failed); no-reply; error (the probe could not be made).
# netlab only ever sends what a check asks; stdin's end (netlab gone, however it ended) ends the prober.
import _socket as socket  # socket.py's enum and selectors imports are ~7 ms of the start; _socket is all it uses
import errno
import os
import select
import struct
import sys
import time

try:
    # json's C half, without json's own imports (re, enum: ~20 ms of the prober's start, which is on every run's
    # clock). Requests are netlab's own JSON lines; answers are dicts of str, int, float, bool and lists of them.
    from _json import encode_basestring_ascii as _quote, make_scanner as _make_scanner

    class _Scan:
        strict = True
        object_hook = None
        object_pairs_hook = None
        parse_float = float
        parse_int = int

        @staticmethod
        def parse_constant(name):
            raise ValueError('not JSON: ' + name)

    _scan = _make_scanner(_Scan)

    def loads(data):
        text = data.decode('utf-8').strip()
        try:
            value, end = _scan(text, 0)
        except StopIteration:
            raise ValueError('not JSON')
        if end != len(text):
            raise ValueError('not one JSON value')
        return value

    def dumps(v):
        if isinstance(v, str):
            return _quote(v)
        if v is True:
            return 'true'
        if v is False:
            return 'false'
        if v is None:
            return 'null'
        if isinstance(v, int):
            return int.__repr__(v)
        if isinstance(v, float):
            return float.__repr__(v) if v == v and v not in (float('inf'), float('-inf')) else 'null'
        if isinstance(v, dict):
            return '{' + ', '.join(_quote(str(k)) + ': ' + dumps(x) for k, x in v.items()) + '}'
        if isinstance(v, (list, tuple)):
            return '[' + ', '.join(dumps(x) for x in v) + ']'
        raise TypeError('cannot write %r as JSON' % (v,))
except ImportError:  # a Python without the C accelerator
    import json
    loads, dumps = json.loads, json.dumps

CLONE_NEWNET = 0x40000000
IP_RECVERR = 11
IPV6_RECVERR = 25
IPV6_RECVHOPLIMIT = 51
IPV6_HOPLIMIT = 52
SO_EE_ORIGIN_LOCAL = 1
MSG_ERRQUEUE = 0x2000
PAYLOAD = 56  # as ping's default: 64-byte ICMP packets

# setns(2): os.setns from Python 3.12; before that, libc's through ctypes, imported on first use (~8 ms of the
# start otherwise) or while the first batch runs (run_exec), when nothing waits on the prober.
libc = None
HOME = os.open('/proc/self/ns/net', os.O_RDONLY | os.O_CLOEXEC)

# iputils' words for ICMP errors (ping_common / ping6 pr_icmph), so a report reads as ping's did.
UNREACH4 = {
    0: 'Destination Net Unreachable', 1: 'Destination Host Unreachable', 2: 'Destination Protocol Unreachable',
    3: 'Destination Port Unreachable', 4: 'Frag needed and DF set', 5: 'Source Route Failed',
    6: 'Destination Net Unknown', 7: 'Destination Host Unknown', 8: 'Source Host Isolated',
    9: 'Destination Net Prohibited', 10: 'Destination Host Prohibited',
    11: 'Destination Net Unreachable for Type of Service', 12: 'Destination Host Unreachable for Type of Service',
    13: 'Packet filtered', 14: 'Precedence Violation', 15: 'Precedence Cutoff',
}
UNREACH6 = {
    0: 'Destination unreachable: No route', 1: 'Destination unreachable: Administratively prohibited',
    2: 'Destination unreachable: Beyond scope of source address', 3: 'Destination unreachable: Address unreachable',
    4: 'Destination unreachable: Port unreachable', 5: 'Destination unreachable: Source address failed policy',
    6: 'Destination unreachable: Reject route',
}


def load_setns():
    global libc
    if libc is None and not hasattr(os, 'setns'):
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.get_errno = ctypes.get_errno


def setns(fd):
    if hasattr(os, 'setns'):
        os.setns(fd, CLONE_NEWNET)
        return
    load_setns()
    if libc.setns(fd, CLONE_NEWNET) != 0:
        e = libc.get_errno()
        raise OSError(e, os.strerror(e))


def checksum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


class Sock:
    """A raw ICMP (or ICMPv6) socket opened inside one namespace, and the probes waiting on it by ICMP id."""

    def __init__(self, netns, v6):
        fd = os.open(netns, os.O_RDONLY | os.O_CLOEXEC)
        try:
            setns(fd)
            try:
                if v6:
                    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
                    s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1)
                    s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVERR, 1)
                else:
                    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
                    s.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
            finally:
                setns(HOME)
        finally:
            os.close(fd)
        s.setblocking(False)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.s = s
        self.v6 = v6
        self.probes = {}


class Probe:
    def __init__(self, req, sock, ident):
        self.req = req
        self.id = req['id']
        self.sock = sock
        self.ident = ident
        self.target = req['target']
        self.count = max(1, int(req.get('count', 1)))
        self.interval = float(req.get('interval', 0.05))
        self.wait = float(req.get('wait', 2.0))
        self.resend = float(req.get('resend', 0)) if self.count == 1 else 0.0
        self.sent = 0
        self.seqs = set()
        self.received = 0
        self.errors = 0
        self.ttls = []
        self.lines = []
        self.unreach = None
        self.deadline = 0.0
        self.next_send = 0.0
        self.started = time.monotonic()
        self.sent_at = {}


probes = {}  # request id -> Probe
sockets = {}  # (netns, v6) -> Sock
by_fd = {}
ep = select.epoll()
next_ident = [int.from_bytes(os.urandom(2), 'big') or 1]
out = sys.stdout


def reply(p, outcome, message):
    sock = p.sock
    if sock is not None:
        sock.probes.pop(p.ident, None)
    probes.pop(p.id, None)
    line = {'id': p.id, 'outcome': outcome, 'sent': p.sent, 'received': p.received, 'ttls': p.ttls,
            'message': message, 'lines': p.lines}
    out.write(dumps(line) + '\n')


def answer_error(req_id, message):
    out.write(dumps({'id': req_id, 'outcome': 'error', 'sent': 0, 'received': 0, 'ttls': [], 'message': message,
                          'lines': []}) + '\n')


def sock_for(netns, v6):
    key = (netns, v6)
    s = sockets.get(key)
    if s is None:
        s = Sock(netns, v6)
        sockets[key] = s
        by_fd[s.s.fileno()] = s
        ep.register(s.s.fileno(), select.EPOLLIN | select.EPOLLERR)
    return s


def free_ident(sock):
    for _ in range(65536):
        i = next_ident[0]
        next_ident[0] = i % 65535 + 1
        if i not in sock.probes:
            return i
    raise OSError(errno.EBUSY, 'no free ICMP id')


def send(p, now):
    """Sends the next echo; False once the probe is over (it was answered: no route)."""
    sock = p.sock
    seq = p.sent + 1
    stamp = struct.pack('!d', time.time())
    body = stamp + bytes(PAYLOAD - len(stamp))
    if sock.v6:
        pkt = struct.pack('!BBHHH', 128, 0, 0, p.ident, seq) + body
    else:
        head = struct.pack('!BBHHH', 8, 0, 0, p.ident, seq)
        pkt = struct.pack('!BBHHH', 8, 0, checksum(head + body), p.ident, seq) + body
    # A raw socket keeps the last ICMP error it was told of (sk_err) and fails the next send with it: a send that fails
    # with a routing error is tried again after clearing it, so only the source's own routing says no-route.
    for attempt in range(3):
        sock.s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        try:
            sock.s.sendto(pkt, (p.target, 0))
            break
        except BlockingIOError:
            # The socket's send buffer is full: this echo is lost, as a packet on a full queue would be.
            break
        except OSError as e:
            if e.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH) and attempt < 2:
                continue
            if e.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
                reply(p, 'no-route', 'no route (%s)' % os.strerror(e.errno))
                return False
            if e.errno == errno.EPERM:
                # ping goes on waiting when a firewall of the source refused its packet; so does the probe.
                p.lines.append('sendto: %s' % os.strerror(e.errno))
                break
            reply(p, 'error', 'sendto: %s' % os.strerror(e.errno))
            return False
    p.sent = seq
    p.sent_at[seq] = now
    return True


def start(req):
    try:
        v6 = ':' in req['target']
        sock = sock_for(req['netns'], v6)
        p = Probe(req, sock, free_ident(sock))
    except OSError as e:
        answer_error(req.get('id'), '%s: %s' % (req.get('netns'), e.strerror or e))
        return
    except (KeyError, ValueError, TypeError) as e:
        answer_error(req.get('id'), 'bad request: %s' % e)
        return
    sock.probes[p.ident] = p
    probes[p.id] = p
    now = time.monotonic()
    if not send(p, now):
        return
    p.next_send = now + p.interval if p.count > 1 else (now + p.resend if p.resend > 0 else float('inf'))
    p.deadline = now + p.wait if p.count == 1 else float('inf')


def settle(p):
    """Ends the probe once every echo sent is answered (or the first one, for a resent single echo)."""
    answered = p.received + p.errors
    done = answered >= 1 if p.count == 1 else (p.sent >= p.count and answered >= p.count)
    if not done:
        return
    finish(p)


def finish(p):
    if p.received:
        reply(p, 'reply', 'reply, TTL %s' % (p.ttls[0] if p.ttls else '?'))
    elif p.unreach is not None:
        reply(p, 'icmp-unreachable', p.unreach)
    else:
        reply(p, 'no-reply', 'no reply in time')


def on_echo_reply(sock, ident, seq, src, ttl, size):
    p = sock.probes.get(ident)
    if p is None or seq in p.seqs or seq > p.sent or src != p.target_norm():
        return
    p.seqs.add(seq)
    p.received += 1
    p.ttls.append(ttl)
    rtt = (time.monotonic() - p.sent_at.get(seq, p.started)) * 1000
    p.lines.append('%d bytes from %s: icmp_seq=%d ttl=%d time=%.3f ms' % (size, src, seq, ttl, rtt))
    settle(p)


def on_icmp_error(sock, ident, seq, src, text):
    p = sock.probes.get(ident)
    if p is None or seq > p.sent:
        return
    p.errors += 1
    p.lines.append('From %s icmp_seq=%d %s' % (src, seq, text))
    if p.unreach is None and 'nreachable' in text:
        p.unreach = '%s (from %s)' % (text, src)
    settle(p)


def norm(addr):
    try:
        if ':' in addr:
            return socket.inet_ntop(socket.AF_INET6, socket.inet_pton(socket.AF_INET6, addr.split('%')[0]))
        return socket.inet_ntop(socket.AF_INET, socket.inet_pton(socket.AF_INET, addr))
    except OSError:
        return addr


Probe.target_norm = lambda self: self.__dict__.setdefault('_norm', norm(self.target))


def inner_echo(data, v6):
    """The id and seq of the echo an ICMP error quotes, or None."""
    if v6:
        if len(data) < 48 or data[6] != 58 or data[40] != 128:
            return None
        return struct.unpack('!HH', data[44:48])
    if len(data) < 20:
        return None
    ihl = (data[0] & 0xF) * 4
    if data[9] != 1 or len(data) < ihl + 8 or data[ihl] != 8:
        return None
    return struct.unpack('!HH', data[ihl + 4:ihl + 8])


def read(sock):
    while True:
        try:
            if sock.v6:
                data, anc, _flags, addr = sock.s.recvmsg(65535, socket.CMSG_SPACE(4))
            else:
                data, addr = sock.s.recvfrom(65535)
                anc = ()
        except BlockingIOError:
            return
        except OSError:
            # An ICMP error the socket was told of (sk_err), reported once: the packet itself arrives as well.
            continue
        src = norm(addr[0])
        if sock.v6:
            ttl = next((struct.unpack('i', d[:4])[0] for lvl, t, d in anc if lvl == socket.IPPROTO_IPV6 and t == IPV6_HOPLIMIT), 0)
            icmp = data
            if len(icmp) < 8:
                continue
            if icmp[0] == 129:
                ident, seq = struct.unpack('!HH', icmp[4:8])
                on_echo_reply(sock, ident, seq, src, ttl, len(icmp))
            elif icmp[0] in (1, 2, 3, 4):
                quoted = inner_echo(icmp[8:], True)
                if quoted:
                    text = UNREACH6.get(icmp[1], 'Destination unreachable: Unknown code %d' % icmp[1]) if icmp[0] == 1 else \
                        {2: 'Packet too big', 3: 'Time exceeded: Hop limit', 4: 'Parameter problem'}[icmp[0]]
                    on_icmp_error(sock, quoted[0], quoted[1], src, text)
        else:
            if len(data) < 28:
                continue
            ihl = (data[0] & 0xF) * 4
            ttl = data[8]
            icmp = data[ihl:]
            if icmp[0] == 0:
                ident, seq = struct.unpack('!HH', icmp[4:8])
                on_echo_reply(sock, ident, seq, src, ttl, len(icmp))
            elif icmp[0] in (3, 11, 12):
                quoted = inner_echo(icmp[8:], False)
                if quoted:
                    text = UNREACH4.get(icmp[1], 'Dest Unreachable, Bad Code: %d' % icmp[1]) if icmp[0] == 3 else \
                        ('Time to live exceeded' if icmp[0] == 11 else 'Parameter problem')
                    on_icmp_error(sock, quoted[0], quoted[1], src, text)


def read_errors(sock):
    """Errors the source itself found (its neighbour resolution failed): ping's "From SELF … Destination Host Unreachable"."""
    level = socket.IPPROTO_IPV6 if sock.v6 else socket.IPPROTO_IP
    kind = IPV6_RECVERR if sock.v6 else IP_RECVERR
    while True:
        try:
            data, anc, _flags, _addr = sock.s.recvmsg(65535, 512, MSG_ERRQUEUE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return
        for lvl, t, d in anc:
            if lvl != level or t != kind or len(d) < 16:
                continue
            ee_errno, origin = struct.unpack('=IB', d[:5])
            if origin != SO_EE_ORIGIN_LOCAL or ee_errno not in (errno.EHOSTUNREACH, errno.ENETUNREACH):
                continue
            # The quoted packet: for a raw socket, what was sent, from the ICMP header on (or with its IP header).
            quoted = None
            for off in (0, (data[0] & 0xF) * 4 if data and data[0] >> 4 == 4 else -1, 40):
                if 0 <= off and len(data) >= off + 8 and data[off] in (8, 128):
                    quoted = struct.unpack('!HH', data[off + 4:off + 8])
                    break
            if quoted is None:
                continue
            p = sock.probes.get(quoted[0])
            if p is None:
                continue
            src = 'the source'
            on_icmp_error(sock, quoted[0], quoted[1], src, 'Destination Host Unreachable')


# ---- netlink: configure a namespace's links, addresses, routes and neighbours without a process per namespace ----
# {"id": N, "op": "configure", "netns": PATH, "steps": [[kind, {...}], ...]} → {"id": N, "ok": true} or
# {"id": N, "ok": false, "step": I, "message": "RTNETLINK answers: File exists"}. Steps run in order; the first
# that fails ends the request (as `ip -batch` without -force does). Kinds: link-up, link-down, link-set (mtu, mac),
# link-master, addr-add (cidr, replace), route-add (dst, via, dev, metric, replace), neigh-add (address, mac, ifname),
# sysctl (key, value: written to /proc/sys inside the namespace).
NETLINK_EXT_ACK = 11
NLM_F_REQUEST, NLM_F_ACK, NLM_F_REPLACE, NLM_F_EXCL, NLM_F_CREATE = 1, 4, 0x100, 0x200, 0x400
NLMSG_ERROR = 2
RTM_NEWLINK, RTM_NEWADDR, RTM_NEWROUTE, RTM_NEWNEIGH = 16, 20, 24, 28
IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_MASTER, IFLA_LINKINFO = 1, 3, 4, 10, 18
IFLA_INFO_KIND, IFLA_INFO_DATA = 1, 2
IFLA_BR_FORWARD_DELAY, IFLA_BR_STP_STATE, IFLA_BR_VLAN_FILTERING = 1, 5, 7
NLA_F_NESTED = 0x8000
IFA_ADDRESS, IFA_LOCAL, IFA_FLAGS = 1, 2, 8
IFA_F_NODAD = 0x02
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_PRIORITY, RTA_TABLE = 1, 4, 5, 6, 15
NDA_DST, NDA_LLADDR = 1, 2
NUD_PERMANENT = 0x80
IFF_UP = 1
NLMSGERR_ATTR_MSG = 1
# links: dumps, and the multicast groups of link and address changes.
NLM_F_DUMP, NLMSG_DONE = 0x300, 3
RTM_GETLINK, RTM_GETADDR = 18, 22
RTMGRP_LINK, RTMGRP_IPV4_IFADDR, RTMGRP_IPV6_IFADDR = 0x1, 0x10, 0x100
IFLA_OPERSTATE, IFLA_INFO_SLAVE_KIND, IFLA_INFO_SLAVE_DATA, IFLA_BRPORT_STATE = 16, 4, 5, 1
IFF_LOWER_UP = 0x10000
IFA_F_TENTATIVE = 0x40
OPERSTATES = ('UNKNOWN', 'NOTPRESENT', 'DOWN', 'LOWERLAYERDOWN', 'TESTING', 'DORMANT', 'UP')
PORT_STATES = ('disabled', 'listening', 'learning', 'forwarding', 'blocking')
SCOPES = {0: 'global', 200: 'site', 253: 'link', 254: 'host'}


def rta(kind, data):
    size = 4 + len(data)
    return struct.pack('=HH', size, kind) + data + b'\0' * ((4 - size % 4) % 4)


def ip_bytes(addr):
    fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
    return fam, socket.inet_pton(fam, addr)


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(':'))


class NetlinkError(Exception):
    pass


def attrs(data, off):
    """A message's (or a nested attribute's) attributes from `off`: type → payload (the last of a type wins)."""
    out = {}
    while off + 4 <= len(data):
        length, kind = struct.unpack('=HH', data[off:off + 4])
        if length < 4:
            break
        out[kind & 0x3fff] = data[off + 4:off + length]
        off += (length + 3) & ~3
    return out


class Netlink:
    """A NETLINK_ROUTE socket opened inside one namespace; requests answered with an ACK, one at a time."""

    def __init__(self, netns):
        self.fd = os.open(netns, os.O_RDONLY | os.O_CLOEXEC)
        setns(self.fd)
        try:
            self.s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
        finally:
            setns(HOME)
        self.reindex()
        try:
            self.s.setsockopt(270, NETLINK_EXT_ACK, 1)
        except OSError:
            pass
        self.s.bind((0, 0))
        self.seq = 0

    def reindex(self):
        # if_nameindex asks the namespace the process is in: a map of the namespace's names, read from inside.
        setns(self.fd)
        try:
            self.index = {name: i for i, name in socket.if_nameindex()}
        finally:
            setns(HOME)

    def close(self):
        self.s.close()
        os.close(self.fd)

    def ifindex(self, name):
        i = self.index.get(name)
        if i is None:
            raise NetlinkError('Cannot find device "%s"' % name)
        return i

    def request(self, kind, flags, body):
        self.seq += 1
        msg = struct.pack('=IHHII', 16 + len(body), kind, NLM_F_REQUEST | NLM_F_ACK | flags, self.seq, 0) + body
        self.s.send(msg)
        while True:
            data = self.s.recv(65536)
            off = 0
            while off + 16 <= len(data):
                length, mtype, _flags, seq, _pid = struct.unpack('=IHHII', data[off:off + 16])
                if length < 16:
                    break
                if mtype == NLMSG_ERROR and seq == self.seq:
                    err = struct.unpack('=i', data[off + 16:off + 20])[0]
                    if err == 0:
                        return
                    text = None
                    # Extended ACK: after the echoed request header (capped: 16 bytes), TLVs with the kernel's words.
                    tlv = off + 20 + 16
                    while tlv + 4 <= off + length:
                        tl, tt = struct.unpack('=HH', data[tlv:tlv + 4])
                        if tl < 4:
                            break
                        if tt == NLMSGERR_ATTR_MSG:
                            text = data[tlv + 4:tlv + tl].split(b'\0')[0].decode('utf-8', 'replace')
                        tlv += (tl + 3) & ~3
                    raise NetlinkError('Error: %s.' % text if text else 'RTNETLINK answers: %s' % os.strerror(-err))
                off += (length + 3) & ~3

    def dump(self, kind, body):
        """A dump request: the payloads (header stripped) of every message of its answer."""
        self.seq += 1
        self.s.send(struct.pack('=IHHII', 16 + len(body), kind, NLM_F_REQUEST | NLM_F_DUMP, self.seq, 0) + body)
        msgs = []
        while True:
            data = self.s.recv(1 << 16)
            off = 0
            while off + 16 <= len(data):
                length, mtype, _flags, seq, _pid = struct.unpack('=IHHII', data[off:off + 16])
                if length < 16:
                    break
                if seq == self.seq:
                    if mtype == NLMSG_DONE:
                        return msgs
                    if mtype == NLMSG_ERROR:
                        err = struct.unpack('=i', data[off + 16:off + 20])[0]
                        if err:
                            raise NetlinkError('RTNETLINK answers: %s' % os.strerror(-err))
                    else:
                        msgs.append(data[off + 16:off + length])
                off += (length + 3) & ~3

    def links(self):
        """The namespace's links as `ip -j -d addr show` gives the fields settling looks at (src/runner/settle.ts)."""
        out = {}
        for m in self.dump(RTM_GETLINK, struct.pack('=BxHiII', socket.AF_UNSPEC, 0, 0, 0, 0)):
            _fam, _type, index, flags, _change = struct.unpack('=BxHiII', m[:16])
            a = attrs(m, 16)
            link = {
                'ifname': a.get(IFLA_IFNAME, b'').split(b'\0')[0].decode('utf-8', 'replace'),
                'flags': [name for bit, name in ((IFF_UP, 'UP'), (IFF_LOWER_UP, 'LOWER_UP')) if flags & bit],
                'addr_info': [],
            }
            if IFLA_OPERSTATE in a:
                state = a[IFLA_OPERSTATE][0]
                link['operstate'] = OPERSTATES[state] if state < len(OPERSTATES) else 'UNKNOWN'
            info = attrs(a.get(IFLA_LINKINFO, b''), 0)
            if IFLA_INFO_SLAVE_KIND in info:
                link['linkinfo'] = {'info_slave_kind': info[IFLA_INFO_SLAVE_KIND].split(b'\0')[0].decode('utf-8', 'replace')}
                port = attrs(info.get(IFLA_INFO_SLAVE_DATA, b''), 0)
                if IFLA_BRPORT_STATE in port:
                    state = port[IFLA_BRPORT_STATE][0]
                    link['linkinfo']['info_slave_data'] = {'state': PORT_STATES[state] if state < len(PORT_STATES) else str(state)}
            out[index] = link
        for m in self.dump(RTM_GETADDR, struct.pack('=BBBBI', socket.AF_UNSPEC, 0, 0, 0, 0)):
            fam, _plen, flags, scope, index = struct.unpack('=BBBBI', m[:8])
            a = attrs(m, 8)
            raw = a.get(IFA_LOCAL, a.get(IFA_ADDRESS))
            if index not in out or raw is None:
                continue
            if IFA_FLAGS in a:
                flags = struct.unpack('=I', a[IFA_FLAGS][:4])[0]
            addr = {'local': socket.inet_ntop(fam, raw), 'scope': SCOPES.get(scope, str(scope))}
            if flags & IFA_F_TENTATIVE:
                addr['tentative'] = True
            out[index]['addr_info'].append(addr)
        return [out[i] for i in sorted(out)]

    def link(self, ifname, change=0, flags=0, attrs=b''):
        body = struct.pack('=BxHiII', socket.AF_UNSPEC, 0, self.ifindex(ifname), flags, change) + attrs
        self.request(RTM_NEWLINK, 0, body)

    def step(self, kind, a):
        if kind == 'link-up':
            self.link(a['ifname'], IFF_UP, IFF_UP)
        elif kind == 'link-down':
            self.link(a['ifname'], IFF_UP, 0)
        elif kind == 'link-set':
            attrs = b''
            if a.get('mtu') is not None:
                attrs += rta(IFLA_MTU, struct.pack('=I', int(a['mtu'])))
            if a.get('mac') is not None:
                attrs += rta(IFLA_ADDRESS, mac_bytes(a['mac']))
            self.link(a['ifname'], attrs=attrs)
        elif kind == 'link-add':
            spec = a['spec']
            data = b''
            if spec['type'] == 'bridge':
                # As `ip link add NAME type bridge stp_state S [forward_delay CS] [vlan_filtering 1]`.
                data += rta(IFLA_BR_STP_STATE, struct.pack('=I', 1 if spec.get('stp') else 0))
                if spec.get('forwardDelayMs') is not None:
                    data += rta(IFLA_BR_FORWARD_DELAY, struct.pack('=I', int(round(spec['forwardDelayMs'] / 10))))
                if spec.get('vlanFiltering'):
                    data += rta(IFLA_BR_VLAN_FILTERING, struct.pack('=B', 1))
            elif spec['type'] != 'dummy':
                raise NetlinkError('link type %s is not built over netlink' % spec['type'])
            info = rta(IFLA_INFO_KIND, spec['type'].encode()) + (rta(IFLA_INFO_DATA | NLA_F_NESTED, data) if data else b'')
            body = struct.pack('=BxHiII', socket.AF_UNSPEC, 0, 0, 0, 0)
            body += rta(IFLA_IFNAME, a['ifname'].encode() + b'\0') + rta(IFLA_LINKINFO | NLA_F_NESTED, info)
            self.request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, body)
            self.reindex()
        elif kind == 'link-master':
            self.link(a['ifname'], attrs=rta(IFLA_MASTER, struct.pack('=I', self.ifindex(a['master']))))
        elif kind == 'addr-add':
            addr, plen = a['cidr'].split('/')
            fam, raw = ip_bytes(addr)
            v6 = fam == socket.AF_INET6
            flags = IFA_F_NODAD if v6 else 0
            body = struct.pack('=BBBBI', fam, int(plen), flags, 0, self.ifindex(a['ifname']))
            body += rta(IFA_LOCAL, raw) + rta(IFA_ADDRESS, raw) + rta(IFA_FLAGS, struct.pack('=I', flags))
            self.request(RTM_NEWADDR, NLM_F_CREATE | (NLM_F_REPLACE if a.get('replace') else NLM_F_EXCL), body)
        elif kind == 'route-add':
            dst = a['dst']
            via = a.get('via')
            if dst == 'default':
                fam = (socket.AF_INET6 if via and ':' in via else socket.AF_INET)
                plen, raw = 0, None
            else:
                addr, _, plen = dst.partition('/')
                fam, raw = ip_bytes(addr)
                plen = int(plen) if plen else (128 if fam == socket.AF_INET6 else 32)
            scope = 0 if via or fam == socket.AF_INET6 else 253
            body = struct.pack('=BBBBBBBBI', fam, plen, 0, 0, 254, 3, scope, 1, 0)
            if raw is not None:
                body += rta(RTA_DST, raw)
            if via:
                body += rta(RTA_GATEWAY, ip_bytes(via)[1])
            if a.get('dev'):
                body += rta(RTA_OIF, struct.pack('=I', self.ifindex(a['dev'])))
            if a.get('metric') is not None:
                body += rta(RTA_PRIORITY, struct.pack('=I', int(a['metric'])))
            self.request(RTM_NEWROUTE, NLM_F_CREATE | (NLM_F_REPLACE if a.get('replace') else NLM_F_EXCL), body)
        elif kind == 'sysctl':
            # As `sysctl -w KEY=VALUE` inside the namespace: /proc/sys/net resolves against the netns of whoever
            # opens it. netlab sends only allow-listed keys (dots, no slashes) and integers; checked again here.
            key, value = a['key'], str(a['value'])
            if not key or key[0] == '.' or '..' in key or not all(c.isalnum() or c in '._-' for c in key):
                raise NetlinkError('sysctl: bad key %s' % key)
            if not value.lstrip('-').isdigit():
                raise NetlinkError('sysctl: bad value %s' % value)
            path = '/proc/sys/' + key.replace('.', '/')
            setns(self.fd)
            try:
                try:
                    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
                except OSError as e:
                    raise NetlinkError('sysctl: cannot stat %s: %s' % (path, e.strerror))
                try:
                    os.write(fd, value.encode() + b'\n')
                except OSError as e:
                    raise NetlinkError('sysctl: setting key "%s": %s' % (key, e.strerror))
                finally:
                    os.close(fd)
            finally:
                setns(HOME)
        elif kind == 'neigh-add':
            fam, raw = ip_bytes(a['address'])
            body = struct.pack('=BxxxiHBB', fam, self.ifindex(a['ifname']), NUD_PERMANENT, 0, 0)
            body += rta(NDA_DST, raw) + rta(NDA_LLADDR, mac_bytes(a['mac']))
            self.request(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, body)
        else:
            raise NetlinkError('unknown step %s' % kind)


def configure(req):
    rid = req.get('id')
    try:
        nl = Netlink(req['netns'])
    except OSError as e:
        out.write(dumps({'id': rid, 'ok': False, 'step': -1, 'message': 'Cannot open network namespace "%s": %s' % (req.get('netns'), e.strerror)}) + '\n')
        return
    try:
        for i, (kind, a) in enumerate(req.get('steps', [])):
            try:
                nl.step(kind, a)
            except NetlinkError as e:
                out.write(dumps({'id': rid, 'ok': False, 'step': i, 'message': str(e)}) + '\n')
                return
            except (OSError, ValueError, KeyError, TypeError) as e:
                out.write(dumps({'id': rid, 'ok': False, 'step': i, 'message': str(e)}) + '\n')
                return
        out.write(dumps({'id': rid, 'ok': True}) + '\n')
    finally:
        nl.close()


# ---- links: a namespace's links and addresses, and waiting for them to change (settling after a build) ----
# {"id": N, "op": "links", "netns": PATH} → {"id": N, "ok": true, "links": [...]}: the links now, and from then on the
# namespace is watched (a netlink socket in the groups of link and address changes, made before the dump). With
# "waitMs": W the answer waits until a change came since the last answer, or W ms. {"op": "unwatch", "netns": PATH}
# closes the watch (its sockets keep the namespace alive). Failures: {"id": N, "ok": false, "message": "..."}.
watchers = {}
watch_fds = {}


def drop(table, s):
    """Takes a socket out of the epoll set and of its fd table, and closes it."""
    table.pop(s.fileno(), None)
    try:
        ep.unregister(s.fileno())
    except OSError:
        pass
    s.close()


class Watcher:
    def __init__(self, netns):
        self.netns = netns
        self.nl = Netlink(netns)
        setns(self.nl.fd)
        try:
            self.sub = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
        finally:
            setns(HOME)
        self.sub.bind((0, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR))
        self.sub.setblocking(False)
        self.changed = False
        self.waiting = None  # (request id, deadline)
        watch_fds[self.sub.fileno()] = self
        ep.register(self.sub.fileno(), select.EPOLLIN)

    def on_event(self):
        while True:
            try:
                if not self.sub.recv(1 << 16):
                    break
            except BlockingIOError:
                break
            except OSError:
                # ENOBUFS: changes were lost, which is a change all the same.
                pass
            self.changed = True
        if self.changed and self.waiting:
            self.answer(self.waiting[0])

    def answer(self, rid):
        self.waiting = None
        self.changed = False
        try:
            links = self.nl.links()
        except (OSError, NetlinkError, ValueError, IndexError, struct.error) as e:
            out.write(dumps({'id': rid, 'ok': False, 'message': str(e)}) + '\n')
            return
        out.write(dumps({'id': rid, 'ok': True, 'links': links}) + '\n')

    def close(self):
        drop(watch_fds, self.sub)
        self.nl.close()


def links(req):
    rid, netns = req.get('id'), req.get('netns')
    w = watchers.get(netns)
    if w is None:
        try:
            w = Watcher(netns)
        except OSError as e:
            out.write(dumps({'id': rid, 'ok': False, 'message': 'Cannot open network namespace "%s": %s' % (netns, e.strerror)}) + '\n')
            return
        watchers[netns] = w
    wait = req.get('waitMs')
    if w.waiting:
        # One waiting request a namespace: an older one is answered now.
        w.answer(w.waiting[0])
    if isinstance(wait, (int, float)) and wait > 0 and not w.changed:
        w.waiting = (rid, time.monotonic() + wait / 1000.0)
    else:
        w.answer(rid)


def unwatch(req):
    w = watchers.pop(req.get('netns'), None)
    if w is not None:
        if w.waiting:
            w.answer(w.waiting[0])
        w.close()
    out.write(dumps({'id': req.get('id'), 'ok': True}) + '\n')


# ---- exec: a command started by this small process, not by netlab's large one (a fork of netlab costs ~10 ms) ----
# {"id": N, "op": "exec", "argv": [file, ...], "input": "..."?, "timeoutMs": T?, "release": true?} →
# {"id": N, "exit": code|null, "signal": name|null, "stdout": "...", "stderr": "...", "timedOut": bool} or, when it
# could not start, {"id": N, "exit": null, "signal": null, "error": {"code": "ENOENT", "message": "..."}}.
# netlab sends only its own batches (`ip -batch`: the namespaces and links of a build, their deletion) while nothing
# else waits on the prober: the command runs to its end before the next request is read. `release` first closes
# every socket the prober holds in a namespace (a socket keeps its namespace alive after `ip netns del`) and answers
# the probes still waiting with an error.
EXEC_OUTPUT = 4 * 1024 * 1024
SIGNAMES = {1: 'SIGHUP', 2: 'SIGINT', 6: 'SIGABRT', 9: 'SIGKILL', 11: 'SIGSEGV', 13: 'SIGPIPE', 15: 'SIGTERM'}


def release():
    for w in list(watchers.values()):
        if w.waiting:
            w.answer(w.waiting[0])
        w.close()
    watchers.clear()
    for p in list(probes.values()):
        reply(p, 'error', 'stopped: the lab is being torn down')
    for sock in list(sockets.values()):
        drop(by_fd, sock.s)
    sockets.clear()


def run_exec(req):
    rid, argv = req.get('id'), req.get('argv')
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        out.write(dumps({'id': rid, 'exit': None, 'signal': None, 'error': {'code': 'EINVAL', 'message': 'bad argv'}}) + '\n')
        return
    if req.get('release'):
        release()
    data = req.get('input')
    data = data.encode('utf-8') if isinstance(data, str) else None
    timeout = req.get('timeoutMs')
    deadline = time.monotonic() + (timeout / 1000.0 if isinstance(timeout, (int, float)) and timeout > 0 else 60.0)
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    in_r, in_w = os.pipe() if data is not None else (None, None)
    actions = [(os.POSIX_SPAWN_DUP2, out_w, 1), (os.POSIX_SPAWN_DUP2, err_w, 2)]
    actions.append((os.POSIX_SPAWN_DUP2, in_r, 0) if in_r is not None else (os.POSIX_SPAWN_OPEN, 0, '/dev/null', os.O_RDONLY, 0))
    try:
        # SIGPIPE back to its default: Python ignores it, and an ignored signal stays ignored across exec.
        pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions, setsigdef=(13,))
    except OSError as e:
        for fd in (out_r, out_w, err_r, err_w, in_r, in_w):
            if fd is not None:
                os.close(fd)
        code = errno.errorcode.get(e.errno, 'ERROR') if e.errno else 'ERROR'
        out.write(dumps({'id': rid, 'exit': None, 'signal': None, 'error': {'code': code, 'message': 'spawn %s %s' % (argv[0], code)}}) + '\n')
        return
    for fd in (out_w, err_w, in_r):
        if fd is not None:
            os.close(fd)
    # The command runs on its own now: a good moment for the import setns needs (the configure after the build's batch).
    load_setns()
    got = {out_r: [], err_r: []}
    size = {out_r: 0, err_r: 0}
    pl = select.poll()
    for fd in (out_r, err_r):
        pl.register(fd, select.POLLIN)
    view = memoryview(data) if data is not None else None
    if in_w is not None:
        os.set_blocking(in_w, False)
        pl.register(in_w, select.POLLOUT)
    live = {out_r, err_r} | ({in_w} if in_w is not None else set())
    timed_out = False
    while out_r in live or err_r in live:
        left = deadline - time.monotonic()
        if left <= 0:
            if timed_out:
                break  # killed 2 s ago and something still holds its pipes: stop reading
            timed_out = True
            try:
                os.kill(pid, 9)
            except OSError:
                pass
            deadline = time.monotonic() + 2.0
            continue
        for fd, ev in pl.poll(left * 1000):
            if fd == in_w:
                try:
                    n = os.write(in_w, view[:1 << 16])
                    view = view[n:]
                except BlockingIOError:
                    continue
                except OSError:
                    view = view[:0]  # it stopped reading (EPIPE): what is left is not wanted
                if not len(view):
                    pl.unregister(in_w)
                    os.close(in_w)
                    live.discard(in_w)
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                pl.unregister(fd)
                live.discard(fd)
                continue
            if size[fd] < EXEC_OUTPUT:
                got[fd].append(chunk)
                size[fd] += len(chunk)
    for fd in live | {out_r, err_r}:
        try:
            os.close(fd)
        except OSError:
            pass
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline and not timed_out:
            timed_out = True
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        time.sleep(0.002)
    text = lambda fd: b''.join(got[fd])[:EXEC_OUTPUT].decode('utf-8', 'replace')
    sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    out.write(dumps({'id': rid, 'exit': os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
                     'signal': SIGNAMES.get(sig, 'SIG%d' % sig) if sig else None,
                     'stdout': text(out_r), 'stderr': text(err_r), 'timedOut': timed_out}) + '\n')


def timers(now):
    for w in list(watchers.values()):
        if w.waiting and now >= w.waiting[1]:
            w.answer(w.waiting[0])
    for p in list(probes.values()):
        if p.id not in probes:
            continue
        if p.count > 1:
            if p.sent < p.count and now >= p.next_send:
                if not send(p, now):
                    continue
                if p.sent < p.count:
                    p.next_send = now + p.interval
                else:
                    p.next_send = float('inf')
                    p.deadline = now + p.wait
                    settle(p)
        elif p.resend > 0 and p.sent == 1 and now >= p.next_send and now < p.deadline:
            # The resend carries seq 2; its answer counts as the echo's answer.
            if not send(p, now):
                continue
            p.next_send = float('inf')
        if p.id in probes and now >= p.deadline:
            finish(p)


def main():
    buf = b''
    stdin = sys.stdin.buffer.raw if hasattr(sys.stdin.buffer, 'raw') else sys.stdin.buffer
    fd = stdin.fileno()
    os.set_blocking(fd, False)
    ep.register(fd, select.EPOLLIN | select.EPOLLHUP)
    out.write(dumps({'ready': True}) + '\n')
    out.flush()
    closed = False
    while not closed or probes:
        now = time.monotonic()
        soonest = min([min(p.next_send, p.deadline) for p in probes.values()] + [w.waiting[1] for w in watchers.values() if w.waiting], default=float('inf'))
        timeout = -1 if soonest == float('inf') else max(0.0, soonest - now)
        for f, ev in ep.poll(timeout):
            if f == fd:
                try:
                    chunk = os.read(fd, 1 << 16)
                except BlockingIOError:
                    continue
                if not chunk:
                    closed = True
                    ep.unregister(fd)
                    continue
                buf += chunk
                if len(buf) > (1 << 24):
                    return
                *lines, buf = buf.split(b'\n')
                for line in lines:
                    if not line.strip():
                        continue
                    try:
                        req = loads(line)
                    except ValueError:
                        continue
                    if isinstance(req, dict) and req.get('op') == 'ping':
                        start(req)
                    elif isinstance(req, dict) and req.get('op') == 'configure':
                        configure(req)
                    elif isinstance(req, dict) and req.get('op') == 'links':
                        links(req)
                    elif isinstance(req, dict) and req.get('op') == 'unwatch':
                        unwatch(req)
                    elif isinstance(req, dict) and req.get('op') == 'exec':
                        run_exec(req)
                    elif isinstance(req, dict):
                        answer_error(req.get('id'), 'unknown op')
            elif f in watch_fds:
                watch_fds[f].on_event()
            else:
                sock = by_fd.get(f)
                if sock is None:
                    continue
                if ev & select.EPOLLERR:
                    read_errors(sock)
                if ev & select.EPOLLIN:
                    read(sock)
        timers(time.monotonic())
        out.flush()
        if closed:
            # netlab is gone: nobody reads the answers.
            return


def run():
    try:
        main()
    except (BrokenPipeError, KeyboardInterrupt):
        pass


if __name__ == '__main__':
    run()
