"""web_fetch against a local HTTP server on 127.0.0.1 (the only network tests may use)."""

import datetime
import socket
import ssl
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from apps.capabilities.base import ToolContext, ToolError
from apps.capabilities.builtin.web_fetch import check_url, html_to_text
from apps.capabilities.registry import get_capability
from tests.capabilities.fake_dns import FakeResolver

CONTEXT = ToolContext(organization_id=uuid.uuid4(), session_id=uuid.uuid4())
PAGE = (
    "<html><head><title>T</title><style>body{}</style><script>alert(1)</script></head><body>"
    "<h1>Hello</h1><p>Some <b>bold</b> and <a href='/next'>a link</a>.</p><ul><li>one</li><li>two</li></ul>"
    "</body></html>"
)


class Handler(BaseHTTPRequestHandler):
    requests: list[str] = []
    hosts: list[str | None] = []  # the Host header of each request

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
        Handler.hosts.append(self.headers.get("Host"))
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
    Handler.hosts = []
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
    assert time.monotonic() - started < 5  # "Timed out" above is the check; this only bounds a hang


def test_loopback_is_refused_by_default(server):
    with pytest.raises(ToolError, match="not allowed"):
        fetch(url=f"{server}/html")
    assert Handler.requests == []  # refused before connecting


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost/",
        "http://127.0.0.2:8080/",
        "http://[::1]/",
        "http://169.254.169.254/latest/meta-data",
        "http://10.1.2.3/",
        "http://192.168.0.1/",
        "http://0.0.0.0/",
        "http://[::ffff:127.0.0.1]/",
        "http://[fe80::1]/",
        "http://100.64.0.1/",
    ],
)
def test_private_addresses_are_refused(url):
    with pytest.raises(ToolError, match="not allowed"):
        check_url(url)


def test_public_literal_address_passes_the_check():
    check_url("http://93.184.215.14/")  # no connection is made by the check itself


@pytest.mark.parametrize(
    "arguments",
    [
        {},
        {"url": "ftp://127.0.0.1/x"},
        {"url": "file:///etc/passwd"},
        {"url": "/relative"},
        {"url": "http://127.0.0.1/", "method": "POST"},
    ],
)
def test_bad_arguments(arguments, allow_private):
    with pytest.raises(ToolError):
        fetch(**arguments)


def test_unreachable_port_is_a_tool_error(allow_private):
    with pytest.raises(ToolError, match="Request failed"):
        fetch(url="http://127.0.0.1:9/")


def test_html_to_text_keeps_pre_blocks():
    assert html_to_text("<pre>a\n    b</pre>", markdown=True) == "```\na\n    b\n```"


# --------------------------------------------------------------------------- DNS: the validated address is used
def _port(server: str) -> int:
    return int(server.rsplit(":", 1)[1])


def test_request_goes_to_the_validated_address_with_the_original_host_header(server, allow_private, monkeypatch):
    resolver = FakeResolver({"fetch.test": [["127.0.0.1"]]})
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    url = f"http://fetch.test:{_port(server)}/html"
    assert check_url(url) == ["127.0.0.1"]
    result = fetch(url=url)
    assert result["content"] == PAGE and result["final_url"] == url
    assert Handler.hosts == [f"fetch.test:{_port(server)}"]


def test_a_name_resolving_to_loopback_is_refused_when_private_is_off(server, monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", FakeResolver({"fetch.test": [["127.0.0.1"]]}))
    with pytest.raises(ToolError, match="not allowed"):
        fetch(url=f"http://fetch.test:{_port(server)}/html")
    assert Handler.requests == []


def test_dns_rebinding_cannot_redirect_the_connection(server, monkeypatch):
    """The name passes the check with a public address, then rebinds to loopback: the connection must still go to
    the public address. Connections to that public address are routed to the local server (the fake internet)."""
    public = "93.184.215.14"
    port = _port(server)
    monkeypatch.setattr(socket, "getaddrinfo", FakeResolver({"rebind.test": [[public], ["127.0.0.1"]]}))
    connected: list[tuple] = []
    real_connect = socket.create_connection

    def create_connection(address, *args, **kwargs):
        connected.append(tuple(address))
        if address[0] == public:
            address = ("127.0.0.1", address[1])
        return real_connect(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", create_connection)
    result = fetch(url=f"http://rebind.test:{port}/json")
    assert result["content"] == '{"ok": true}'
    assert connected == [(public, port)]
    assert Handler.hosts == [f"rebind.test:{port}"]


def test_https_sends_the_host_name_as_tls_server_name(allow_private, monkeypatch, tmp_path):
    """Connecting to the IP must not lose SNI/certificate checking of the real name: a TLS server on 127.0.0.1
    records the server name the client sends (its self-signed certificate is then rightly refused)."""
    cert, key = _self_signed(tmp_path, "secure.test")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    names: list[str | None] = []
    context.sni_callback = lambda _sock, name, _ctx: names.append(name)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve_one():
        conn, _ = listener.accept()
        try:
            context.wrap_socket(conn, server_side=True).close()
        except (ssl.SSLError, OSError):
            pass  # the client refuses the self-signed certificate
        finally:
            conn.close()

    thread = threading.Thread(target=serve_one, daemon=True)
    thread.start()
    monkeypatch.setattr(socket, "getaddrinfo", FakeResolver({"secure.test": [["127.0.0.1"]]}))
    try:
        with pytest.raises(ToolError, match="Request failed"):
            fetch(url=f"https://secure.test:{port}/")
        thread.join(5)
    finally:
        listener.close()
    assert names == ["secure.test"]


def _self_signed(directory, name: str) -> tuple[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_path), str(key_path)
