"""dkim_sign.py: DKIM-sign the message on stdin with dkimpy (python3-dkim),
for tests/lib/dkim.sh's dkim_sign; the signed message goes to stdout.

  dkim_sign.py KEY.pem DOMAIN SELECTOR [--length] [--expire SECONDS]
               [--headers from:to:...]

rsa-sha256, c=relaxed/relaxed. --length adds l=; --expire adds x= SECONDS
from now (negative: already expired, with t= an hour before x=, since x=
must follow t=); --headers is the h= list as given, else the usual report
headers that the message has. The DKIM-Signature is folded with the
message's own line ending (CRLF if its first line has one, else LF).
"""
import argparse
import sys
import time
import types

# Signing needs no DNS: a stand-in for dkim.dnsplug keeps dkimpy from
# importing dnspython (and httpx with it), a quarter second a signature.
sys.modules["dkim.dnsplug"] = types.SimpleNamespace(get_txt=None)
import dkim  # noqa: E402

# What a reporter signs on a TLS report (RFC 8460 section 3): no
# oversigning, and only fields present, so h= says what was there.
DEFAULT_HEADERS = ("from", "to", "subject", "date", "message-id",
                   "tls-report-domain", "tls-report-submitter",
                   "content-type", "mime-version")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("key")
    ap.add_argument("domain")
    ap.add_argument("selector")
    ap.add_argument("--length", action="store_true")
    ap.add_argument("--expire", type=int)
    ap.add_argument("--headers")
    a = ap.parse_args()

    msg = sys.stdin.buffer.read()
    linesep = b"\r\n" if msg.split(b"\n", 1)[0].endswith(b"\r") else b"\n"
    with open(a.key, "rb") as f:
        key = f.read()

    d = dkim.DKIM(msg, linesep=linesep)
    if a.headers is not None:
        heads = [h.strip().lower() for h in a.headers.split(":") if h.strip()]
    else:
        present = {name.lower() for name, _ in d.headers}
        heads = [h for h in DEFAULT_HEADERS if h.encode() in present]

    if a.expire is not None:
        # dkimpy 1.1.4's sign() takes neither x= nor t=: add them to the tag
        # list just before it is hashed and signed, so both are covered.
        x = int(time.time()) + a.expire
        t = x - 3600 if a.expire <= 0 else int(time.time())
        gen_header = d.gen_header

        def with_expiry(fields, *rest, **kw):
            out = []
            for tag, value in fields:
                if tag == b"t":
                    out += [(b"t", str(t).encode()), (b"x", str(x).encode())]
                else:
                    out.append((tag, value))
            return gen_header(out, *rest, **kw)
        d.gen_header = with_expiry

    sig = d.sign(a.selector.encode(), a.domain.encode(), key,
                 canonicalize=(b"relaxed", b"relaxed"),
                 include_headers=[h.encode() for h in heads],
                 length=a.length)
    sys.stdout.buffer.write(sig + msg)


if __name__ == "__main__":
    main()
