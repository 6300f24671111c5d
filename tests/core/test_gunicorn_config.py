"""gunicorn.conf.py: settings read from the environment."""

import runpy
from pathlib import Path

CONF = str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py")


def test_control_socket_is_off_unless_a_path_is_given(monkeypatch, tmp_path):
    # Two servers on one machine (two `make run`s, benchmark stacks) must not share gunicorn's
    # per-user default control socket.
    monkeypatch.delenv("WEB_CONTROL_SOCKET", raising=False)
    monkeypatch.delenv("DB_POOL_MAX_SIZE", raising=False)  # the config sets a default: restored after the test
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))  # likewise
    conf = runpy.run_path(CONF)
    assert conf["control_socket_disable"] is True
    assert "control_socket" not in conf

    monkeypatch.setenv("WEB_CONTROL_SOCKET", "/run/everruns/gunicorn.ctl")
    conf = runpy.run_path(CONF)
    assert conf["control_socket_disable"] is False
    assert conf["control_socket"] == "/run/everruns/gunicorn.ctl"
