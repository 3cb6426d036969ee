"""What to check when a mail server cannot be reached (pure): one line an organiser can act on,
naming the settings keys, instead of the socket library's words alone."""
from __future__ import annotations

import socket
import ssl


def with_advice(text: str, exc: BaseException, section: str) -> str:
    """`text`, then what to check when there is something to say."""
    advice = what_to_check(exc, section)
    return f"{text}; {advice}" if advice else text


def what_to_check(exc: BaseException, section: str) -> str:
    """`section` is "imap" or "smtp": the settings table whose keys are named."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return certificate_advice(exc, section)
    if isinstance(exc, ssl.SSLError):
        return (f"TLS failed: check that {section}.tls fits {section}.port "
                f"({'implicit for 993, starttls for 143' if section == 'imap' else 'implicit for 465, starttls for 587'})")
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return (f"no answer in time: check {section}.host and {section}.port, and {section}.tls (a server expecting "
                "TLS waits in silence for a client that does not start it)")
    if isinstance(exc, ConnectionRefusedError):
        return f"nothing is listening there: check {section}.host and {section}.port"
    if isinstance(exc, socket.gaierror):
        return f"the name cannot be found: check {section}.host"
    return ""


EXPIRED, NOT_YET_VALID = 10, 9  # OpenSSL's X509_V_ERR_* codes
NAME_MISMATCH = {62, 64}  # host name, IP address


def certificate_advice(exc: ssl.SSLCertVerificationError, section: str) -> str:
    """Each reason a certificate fails needs a different fix: the server's certificate, the clock, the
    host name or the trusted issuers."""
    code = getattr(exc, "verify_code", None)
    if code in (EXPIRED, NOT_YET_VALID):
        state = "has expired" if code == EXPIRED else "is not valid yet"
        return (f"the server's certificate {state}: ask whoever runs {section}.host to renew it, and check this "
                "machine's clock and date")
    if code in NAME_MISMATCH:
        return f"the server's certificate is for another name: check that {section}.host is the name on the certificate"
    return (f"the server's certificate is not trusted: check that its issuer is trusted by this machine (or named by "
            f"the SSL_CERT_FILE environment variable), and that {section}.host is the name on the certificate")
