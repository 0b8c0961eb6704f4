#!/usr/bin/python3
"""dns_query.py: one DNS question to a nameserver on 127.0.0.1, for the
tests' DNS servers (tests/lib/mtasts.sh sts_dig, tests/lib/dkim.sh dns_txt).

  dns_query.py -|-s NAME A|AAAA|CNAME|MX|TXT PORT SECONDS

Prints one record a line: an address, a name, "PREF HOST", a TXT record's
strings joined (with -s each one quoted, to show the split). Exit status 1
when there is none (the rcode on stderr), 3 when no answer came in time.
Neither dig nor dnspython can be counted on here.
"""

import random, socket, struct, sys
split = sys.argv[1] == "-s"
name, typ, port, wait = sys.argv[2], sys.argv[3].upper(), int(sys.argv[4]), float(sys.argv[5])
types = {"A": 1, "CNAME": 5, "MX": 15, "TXT": 16, "AAAA": 28}
q = struct.pack(">6H", random.getrandbits(16), 0x100, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l for l in name.strip(".").encode().split(b"."))
q += b"\0" + struct.pack(">HH", types[typ], 1)
def ask(kind):
    s = socket.socket(socket.AF_INET, kind)
    s.settimeout(wait)
    s.connect(("127.0.0.1", port))
    if kind == socket.SOCK_DGRAM:
        s.send(q)
        return s.recv(65535)
    s.sendall(struct.pack(">H", len(q)) + q)
    r = b""
    while len(r) < 2 or len(r) < 2 + struct.unpack(">H", r[:2])[0]:
        more = s.recv(65535)
        if not more:
            raise OSError("connection closed")
        r += more
    return r[2:]
def dname(r, i):
    labels, end = [], None
    while r[i]:
        if r[i] >= 0xc0:
            end = end or i + 2
            i = struct.unpack(">H", r[i:i + 2])[0] & 0x3fff
            continue
        labels.append(r[i + 1:i + 1 + r[i]].decode())
        i += 1 + r[i]
    return ".".join(labels) or ".", end or i + 1
try:
    r = ask(socket.SOCK_DGRAM)
    if r[2] & 2:
        r = ask(socket.SOCK_STREAM)
except OSError as e:
    sys.stderr.write("dns_query: %s: no answer: %s\n" % (name, e or "timeout"))
    sys.exit(3)
i, found = dname(r, 12)[1] + 4, 0
for _ in range(struct.unpack(">H", r[6:8])[0]):
    i = dname(r, i)[1]
    t, _, _, n = struct.unpack(">HHIH", r[i:i + 10])
    i += 10
    if t != types[typ]:
        i += n
        continue
    if t == 1 or t == 28:
        out = socket.inet_ntop(socket.AF_INET if t == 1 else socket.AF_INET6, r[i:i + n])
    elif t == 5:
        out = dname(r, i)[0]
    elif t == 15:
        out = "%d %s" % (struct.unpack(">H", r[i:i + 2])[0], dname(r, i + 2)[0])
    else:
        j, strings = i, []
        while j < i + n:
            strings.append(r[j + 1:j + 1 + r[j]].decode("utf-8", "replace"))
            j += 1 + r[j]
        out = " ".join("\"%s\"" % s for s in strings) if split else "".join(strings)
    print(out)
    found, i = 1, i + n
if not found:
    rcode = r[3] & 15
    sys.stderr.write("dns_query: %s: no %s, %s\n" % (name, typ,
                     {0: "NOERROR", 2: "SERVFAIL", 3: "NXDOMAIN", 5: "REFUSED"}.get(rcode, "rcode %d" % rcode)))
    sys.exit(1)
