#!/usr/bin/python3
"""free_port.py: a loopback port free for both UDP and TCP, as a
nameserver takes both (tests/lib/dkim.sh and tests/lib/mtasts.sh start
dnsmasq on it)."""
import socket

while True:
    t, u = socket.socket(), socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t.bind(("127.0.0.1", 0))
    try:
        u.bind(t.getsockname())
        break
    except OSError:
        pass
print(t.getsockname()[1])
