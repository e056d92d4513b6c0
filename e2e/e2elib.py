"""Helpers shared by the end-to-end tests (not a test itself: the runner only runs *_test.py)."""
import socket
import time
import urllib.error
import urllib.request

_tally = {"passed": 0, "failed": 0}


def check(name, cond, detail=""):
    """Counts one check and prints it; returns cond."""
    if cond:
        _tally["passed"] += 1
        print("ok  ", name)
    else:
        _tally["failed"] += 1
        print("FAIL", name, str(detail)[:3000])
    return cond


def counts():
    """(passed, failed) so far."""
    return _tally["passed"], _tally["failed"]


def summary():
    """Prints the closing "N passed, N failed" line; returns the exit code."""
    p, f = counts()
    print("%d passed, %d failed" % (p, f))
    return 1 if f else 0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def http(method, url, body=None, headers=None, timeout=120):
    """(status, headers, body) of one request; HTTP errors are answers, not exceptions."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def wait_http(url, status=200, timeout=60):
    """Polls url until it answers status; False on timeout."""
    end = time.time() + timeout
    while time.time() < end:
        try:
            if http("GET", url)[0] == status:
                return True
        except OSError:
            pass
        time.sleep(0.1)
    return False
