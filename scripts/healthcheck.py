"""Container healthcheck of the web process: GET a path on this host's server, exit 0 on HTTP 200.

    python scripts/healthcheck.py [/health]

Standard library only (it runs every few seconds: no Django start-up). Sends the first ALLOWED_HOSTS
name as Host (the server answers 400 to a host it does not serve) to 127.0.0.1:$PORT.
"""

import http.client
import os
import sys


def main() -> int:
    path = sys.argv[1] if len(sys.argv) > 1 else "/health"
    prefix = os.environ.get("API_PREFIX", "").strip("/")
    if prefix:
        path = f"/{prefix}{path}"
    hosts = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
    host = hosts[0].lstrip(".") if hosts and hosts[0] != "*" else "localhost"
    connection = http.client.HTTPConnection("127.0.0.1", int(os.environ.get("PORT", "8000")), timeout=5)
    try:
        connection.request("GET", path, headers={"Host": host})
        status = connection.getresponse().status
    except OSError as exc:
        print(f"healthcheck: {exc}", file=sys.stderr)
        return 1
    finally:
        connection.close()
    if status != 200:
        print(f"healthcheck: GET {path} answered {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
