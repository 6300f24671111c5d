"""web_fetch against a local HTTP server on 127.0.0.1 (the only network tests may use)."""

import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from apps.capabilities.base import ToolContext, ToolError
from apps.capabilities.builtin.web_fetch import check_url, html_to_text
from apps.capabilities.registry import get_capability

CONTEXT = ToolContext(organization_id=uuid.uuid4(), session_id=uuid.uuid4())
PAGE = (
    "<html><head><title>T</title><style>body{}</style><script>alert(1)</script></head><body>"
    "<h1>Hello</h1><p>Some <b>bold</b> and <a href='/next'>a link</a>.</p><ul><li>one</li><li>two</li></ul>"
    "</body></html>"
)


class Handler(BaseHTTPRequestHandler):
    requests: list[str] = []

    def log_message(self, *args):  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes, content_type: str | None, extra: dict | None = None):
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        Handler.requests.append(self.path)
        routes = {
            "/html": (200, PAGE.encode(), "text/html; charset=utf-8"),
            "/json": (200, b'{"ok": true}', "application/json"),
            "/png": (200, b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "image/png"),
            "/sniff": (200, b"abc\x00def", None),
            "/latin1": (200, "café".encode("latin-1"), "text/plain; charset=iso-8859-1"),
            "/big": (200, b"x" * 5000, "text/plain"),
            "/missing": (404, b"not here", "text/plain"),
        }
        if self.path in routes:
            self._send(*routes[self.path])
        elif self.path == "/redirect":
            self._send(302, b"", "text/plain", {"Location": "/html"})
        elif self.path == "/loop":
            self._send(302, b"", "text/plain", {"Location": "/loop"})
        elif self.path == "/slow":
            time.sleep(1.5)
            self._send(200, b"late", "text/plain")
        else:
            self._send(404, b"", "text/plain")


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    Handler.requests = []
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def allow_private(settings):
    settings.WEB_FETCH_ALLOW_PRIVATE = True


def fetch(**arguments):
    return get_capability("web_fetch").tools[0].run(arguments, CONTEXT)


def test_fetch_html_raw(server, allow_private):
    result = fetch(url=f"{server}/html")
    assert result["status_code"] == 200 and result["content"] == PAGE
    assert result["content_type"] == "text/html; charset=utf-8"
    assert result["size"] == len(PAGE) and result["truncated"] is False and result["binary"] is False


def test_fetch_html_as_markdown_and_text(server, allow_private):
    markdown = fetch(url=f"{server}/html", as_markdown=True)["content"]
    assert markdown == "# Hello\n\nSome **bold** and [a link](/next).\n\n- one\n\n- two"
    text = fetch(url=f"{server}/html", as_text=True)["content"]
    assert text == "Hello\n\nSome bold and a link.\n\none\n\ntwo"
    assert "alert" not in text and "body{}" not in text


def test_json_is_text(server, allow_private):
    assert fetch(url=f"{server}/json")["content"] == '{"ok": true}'


def test_declared_charset_is_used(server, allow_private):
    assert fetch(url=f"{server}/latin1")["content"] == "café"


def test_binary_returns_metadata_only(server, allow_private):
    result = fetch(url=f"{server}/png")
    assert result["binary"] is True and result["content"] is None
    assert result["size"] == 108 and result["content_type"] == "image/png"


def test_binary_without_content_type_is_sniffed(server, allow_private):
    result = fetch(url=f"{server}/sniff")
    assert result["binary"] is True and result["content"] is None


def test_size_cap_truncates(server, allow_private, settings):
    settings.WEB_FETCH_MAX_BYTES = 1000
    result = fetch(url=f"{server}/big")
    assert result["truncated"] is True and result["content"] == "x" * 1000


def test_http_errors_are_results_not_tool_errors(server, allow_private):
    result = fetch(url=f"{server}/missing")
    assert (result["status_code"], result["content"]) == (404, "not here")


def test_head_has_no_body(server, allow_private):
    result = fetch(url=f"{server}/html", method="HEAD")
    assert result["status_code"] == 200 and result["content"] is None and result["size"] == len(PAGE)
    assert Handler.requests == ["/html"]


def test_redirects_are_followed(server, allow_private):
    result = fetch(url=f"{server}/redirect")
    assert result["final_url"] == f"{server}/html" and result["content"] == PAGE
    assert result["url"] == f"{server}/redirect"


def test_redirect_loops_stop(server, allow_private):
    with pytest.raises(ToolError, match="Too many redirects"):
        fetch(url=f"{server}/loop")


def test_first_byte_timeout(server, allow_private, settings):
    settings.WEB_FETCH_FIRST_BYTE_TIMEOUT_SECS = 0.3
    started = time.monotonic()
    with pytest.raises(ToolError, match="Timed out"):
        fetch(url=f"{server}/slow")
    assert time.monotonic() - started < 1.4


def test_loopback_is_refused_by_default(server):
    with pytest.raises(ToolError, match="not allowed"):
        fetch(url=f"{server}/html")
    assert Handler.requests == []  # refused before connecting


@pytest.mark.parametrize(
    "url",
    ["http://localhost/", "http://127.0.0.2:8080/", "http://[::1]/", "http://169.254.169.254/latest/meta-data",
     "http://10.1.2.3/", "http://192.168.0.1/", "http://0.0.0.0/", "http://[::ffff:127.0.0.1]/",
     "http://[fe80::1]/", "http://100.64.0.1/"],
)
def test_private_addresses_are_refused(url):
    with pytest.raises(ToolError, match="not allowed"):
        check_url(url)


def test_public_literal_address_passes_the_check():
    check_url("http://93.184.215.14/")  # no connection is made by the check itself


@pytest.mark.parametrize("arguments", [{}, {"url": "ftp://127.0.0.1/x"}, {"url": "file:///etc/passwd"},
                                       {"url": "/relative"}, {"url": "http://127.0.0.1/", "method": "POST"}])
def test_bad_arguments(arguments, allow_private):
    with pytest.raises(ToolError):
        fetch(**arguments)


def test_unreachable_port_is_a_tool_error(allow_private):
    with pytest.raises(ToolError, match="Request failed"):
        fetch(url="http://127.0.0.1:9/")


def test_html_to_text_keeps_pre_blocks():
    assert html_to_text("<pre>a\n    b</pre>", markdown=True) == "```\na\n    b\n```"
