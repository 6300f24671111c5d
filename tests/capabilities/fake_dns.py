"""A fake DNS resolver for tests: monkeypatch it over socket.getaddrinfo (the network edge).

Used by the web_fetch tests and by the LLM provider address-policy tests (tests/llm).
"""

import socket


class FakeResolver:
    """socket.getaddrinfo for made-up host names: `answers[host]` is a list of address lists, one per lookup of
    that host (the last one repeats), so a test can make a name resolve differently the second time. An empty
    list is a name that does not exist. Other names go to the real resolver."""

    def __init__(self, answers: dict[str, list[list[str]]]) -> None:
        self.answers = answers
        self.lookups: list[str] = []
        self.real = socket.getaddrinfo

    def __call__(self, host, port, *args, **kwargs):
        if isinstance(host, bytes):
            host = host.decode()
        if host not in self.answers:
            return self.real(host, port, *args, **kwargs)
        self.lookups.append(host)
        rounds = self.answers[host]
        addresses = rounds[min(self.lookups.count(host) - 1, len(rounds) - 1)]
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port or 0))) for address in addresses]
