"""web_fetch: fetch a URL over HTTP(S) for the model (contract 3.8).

Safety rules (why each exists):
- only http/https, GET or HEAD: the tool reads, it never changes remote state;
- every hop's host is resolved and *every* address checked with the shared policy of
  apps/core/netpolicy.py: no private, loopback, link-local, multicast or otherwise non-global address
  unless `WEB_FETCH_ALLOW_PRIVATE` (a model must not be steerable into the server's own network).
  Redirects are followed by hand so each one is checked;
- the connection goes to an address that check validated (DNS rebinding: a second lookup by httpx could
  answer differently). The URL's host is replaced by that IP, the original `Host` header is sent, and for
  https the `sni_hostname` extension makes TLS send and verify the certificate of the real name. If an
  address refuses the connection the next validated one is tried; no connection is kept between hops;
- proxies from the environment are ignored (trust_env=False): a proxy would make the check meaningless;
- timeouts: connect, first byte (the contract's 1 s) and a total body deadline (30 s); a size cap.
"""

import re
import time
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import httpx
from django.conf import settings

from apps.core.netpolicy import AddressNotAllowed, HostUnresolvable, resolve_checked

from ..base import Capability, Tool, ToolContext, ToolError

MAX_REDIRECTS = 5
TEXT_TYPES = re.compile(
    r"^(text/.*|application/(json|.*\+json|xml|.*\+xml|javascript|ecmascript|x-javascript|yaml|x-yaml|toml"
    r"|x-www-form-urlencoded|x-ndjson|ld\+json|graphql|sql|csv))$"
)
HTML_TYPES = ("text/html", "application/xhtml+xml")


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def check_url(url: str) -> list[str]:
    """The addresses to connect to for `url`; ToolError unless it is http(s) and (unless
    WEB_FETCH_ALLOW_PRIVATE) every address its host resolves to is public."""
    try:
        parts = httpx.URL(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except (httpx.InvalidURL, ValueError):
        raise ToolError("Invalid URL") from None
    if parts.scheme not in ("http", "https") or not parts.raw_host:
        raise ToolError("Only absolute http:// and https:// URLs can be fetched")
    host = parts.raw_host.decode("ascii")
    try:
        return resolve_checked(host, port, allow_private=bool(_setting("WEB_FETCH_ALLOW_PRIVATE", False)))
    except HostUnresolvable:
        raise ToolError(f"Could not resolve host: {host}") from None
    except AddressNotAllowed:
        raise ToolError("Access to private, loopback or link-local network addresses is not allowed") from None


def _send_pinned(client: httpx.Client, method: str, url: str, addresses: list[str], headers: dict) -> httpx.Response:
    """Send the request to the first validated address that accepts a connection (a streamed response).

    The host in the URL becomes the IP, so httpx does no lookup of its own; `Host` and, for https, the
    TLS server name (SNI and certificate check) stay the original host name.
    """
    target = httpx.URL(url)
    headers = {**headers, "Host": target.netloc.decode("ascii")}
    extensions = {"sni_hostname": target.raw_host.decode("ascii")} if target.scheme == "https" else {}

    def send(address: str) -> httpx.Response:
        request = client.build_request(method, target.copy_with(host=address), headers=headers, extensions=extensions)
        return client.send(request, stream=True)

    for address in addresses[:-1]:
        try:
            return send(address)
        except httpx.ConnectError:
            continue  # e.g. "localhost" gives ::1 first and the server only listens on 127.0.0.1
    return send(addresses[-1])


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


class _HtmlToText(HTMLParser):
    """A small HTML-to-text/Markdown converter: enough for a model to read a page, not a renderer."""

    SKIP = {"script", "style", "noscript", "template", "svg", "head", "iframe", "object"}
    BLOCK = {
        "p",
        "div",
        "section",
        "article",
        "header",
        "footer",
        "main",
        "nav",
        "aside",
        "ul",
        "ol",
        "table",
        "tr",
        "blockquote",
        "form",
        "figure",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "li",
        "pre",
        "hr",
        "dl",
        "dt",
        "dd",
    }

    def __init__(self, markdown: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.markdown = markdown
        self.out: list[str] = []
        self.skip_depth = 0
        self.pre_depth = 0
        self.links: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skip_depth += 1
            return
        if self.skip_depth:
            return
        if tag == "br":
            self.out.append("\n")
        elif tag in self.BLOCK:
            self.out.append("\n\n")
        if tag == "pre":
            self.pre_depth += 1
            if self.markdown:
                self.out.append("```\n")
        if not self.markdown:
            return
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.out.append("#" * int(tag[1]) + " ")
        elif tag == "li":
            self.out.append("- ")
        elif tag in ("strong", "b"):
            self.out.append("**")
        elif tag in ("em", "i"):
            self.out.append("*")
        elif tag == "code" and not self.pre_depth:
            self.out.append("`")
        elif tag == "a":
            self.links.append(dict(attrs).get("href"))
            self.out.append("[")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if self.skip_depth:
            return
        if tag == "pre":
            self.pre_depth = max(0, self.pre_depth - 1)
            if self.markdown:
                self.out.append("\n```")
        if self.markdown:
            if tag in ("strong", "b"):
                self.out.append("**")
            elif tag in ("em", "i"):
                self.out.append("*")
            elif tag == "code" and not self.pre_depth:
                self.out.append("`")
            elif tag == "a" and self.links:
                href = self.links.pop()
                self.out.append(f"]({href})" if href else "]")
        if tag in self.BLOCK:
            self.out.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.pre_depth:
            self.out.append(data)
            return
        text = re.sub(r"\s+", " ", data)
        if not self.out or self.out[-1].endswith("\n"):
            text = text.lstrip()  # no stray indentation at the start of a line outside <pre>
        if text:
            self.out.append(text)

    def result(self) -> str:
        text = "".join(self.out)
        lines = [line.rstrip() for line in text.split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(html: str, *, markdown: bool = False) -> str:
    parser = _HtmlToText(markdown=markdown)
    parser.feed(html)
    parser.close()
    return parser.result()


def _read_body(response: httpx.Response, max_bytes: int, deadline: float) -> tuple[bytes, bool]:
    """Read at most max_bytes before the deadline; returns (body, truncated)."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            return b"".join(chunks)[:max_bytes], True
        if time.monotonic() > deadline:
            return b"".join(chunks), True
    return b"".join(chunks), False


def web_fetch(arguments: dict, context: ToolContext) -> dict:
    url = arguments.get("url")
    method = str(arguments.get("method") or "GET").upper()
    if not isinstance(url, str) or not url.strip():
        raise ToolError("'url' is required")
    if method not in ("GET", "HEAD"):
        raise ToolError("method must be GET or HEAD")
    max_bytes = int(_setting("WEB_FETCH_MAX_BYTES", 1_048_576))
    timeout = httpx.Timeout(
        connect=float(_setting("WEB_FETCH_CONNECT_TIMEOUT_SECS", 5)),
        # httpx's read timeout is per socket read: waiting for the first byte, and then for each chunk.
        read=float(_setting("WEB_FETCH_FIRST_BYTE_TIMEOUT_SECS", 1)),
        write=5.0,
        pool=5.0,
    )
    body_deadline = time.monotonic() + float(_setting("WEB_FETCH_BODY_TIMEOUT_SECS", 30))
    current = url.strip()
    headers = {"User-Agent": f"Everruns-WebFetch/{_setting('VERSION', '0')}", "Accept": "*/*"}
    try:
        # No keep-alive: a connection opened for one hop's host name must not carry another hop's request.
        limits = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False, limits=limits) as client:
            for _hop in range(MAX_REDIRECTS + 1):
                addresses = check_url(current)
                response = _send_pinned(client, method, current, addresses, headers)
                try:
                    location = response.headers.get("location")
                    if response.is_redirect and location:
                        current = urljoin(current, location)
                        continue
                    return _result(url, current, method, response, arguments, max_bytes, body_deadline)
                finally:
                    response.close()
    except httpx.ConnectTimeout:
        raise ToolError("Connection timed out") from None
    except httpx.ReadTimeout:
        raise ToolError("Timed out waiting for the server to respond") from None
    except httpx.InvalidURL:
        raise ToolError("Invalid URL") from None
    except httpx.HTTPError as exc:
        raise ToolError(f"Request failed: {type(exc).__name__}") from None
    raise ToolError(f"Too many redirects (more than {MAX_REDIRECTS})")


def _result(
    url: str,
    final_url: str,
    method: str,
    response: httpx.Response,
    arguments: dict,
    max_bytes: int,
    deadline: float,
) -> dict:
    content_type = response.headers.get("content-type")
    media_type = _media_type(content_type)
    declared = response.headers.get("content-length")
    result = {
        "url": url,
        "final_url": final_url,
        "status_code": response.status_code,
        "content_type": content_type,
        "size": int(declared) if declared and declared.isdigit() else None,
        "content": None,
        "truncated": False,
        "binary": False,
    }
    if method == "HEAD":
        return result
    if media_type and not TEXT_TYPES.match(media_type):
        # Binary content: metadata only, and we do not even download it.
        result["binary"] = True
        return result
    body, truncated = _read_body(response, max_bytes, deadline)
    if not media_type and b"\x00" in body[:1024]:
        result.update(binary=True, size=len(body))
        return result
    try:
        text = body.decode(response.encoding or "utf-8", errors="replace")
    except LookupError:
        text = body.decode("utf-8", errors="replace")
    if media_type in HTML_TYPES and (arguments.get("as_markdown") or arguments.get("as_text")):
        # as_markdown wins when both are asked for: it keeps strictly more structure.
        text = html_to_text(text, markdown=bool(arguments.get("as_markdown")))
    result.update(size=len(body), content=text, truncated=truncated)
    return result


CAPABILITY = Capability(
    id="web_fetch",
    name="Web Fetch",
    description=(
        "Fetch web pages and other HTTP resources. HTML can be converted to Markdown or plain text; "
        "binary content returns metadata only."
    ),
    category="Network",
    icon="globe",
    risk_level="high",
    system_prompt=(
        "You can fetch web pages with `web_fetch`. Prefer `as_markdown: true` for HTML pages. "
        "Use HEAD to check a URL without downloading it. Responses may be truncated when large."
    ),
    tools=(
        Tool(
            name="web_fetch",
            description="Fetch a URL with GET or HEAD and return status, content type, size and (text) content.",
            parameters={
                "type": "object",
                "properties": {
                    "url": {"type": "string", "description": "Absolute http:// or https:// URL."},
                    "method": {"type": "string", "enum": ["GET", "HEAD"], "description": "Default GET."},
                    "as_markdown": {"type": "boolean", "description": "Convert an HTML page to Markdown."},
                    "as_text": {"type": "boolean", "description": "Convert an HTML page to plain text."},
                },
                "required": ["url"],
                "additionalProperties": False,
            },
            handler=web_fetch,
            timeout_secs=45,
        ),
    ),
)
