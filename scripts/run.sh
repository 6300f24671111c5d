#!/usr/bin/env bash
# Foreground supervisor for `make run`: gunicorn (web) + the django.tasks worker.
# Ctrl-C or SIGTERM stops both; if either exits, the other is stopped too.
set -u
cd "$(dirname "$0")/.."
.venv/bin/gunicorn everruns.wsgi -c gunicorn.conf.py &
web=$!
.venv/bin/python manage.py db_worker --no-reload --queue-name default --interval "${WORKER_POLL_INTERVAL:-0.2}" &
worker=$!
stop() {
  trap - INT TERM
  kill -TERM "$web" "$worker" 2>/dev/null
  wait "$web" "$worker" 2>/dev/null
  exit 0
}
trap stop INT TERM
echo "everruns: web pid $web on http://${HOST:-127.0.0.1}:${PORT:-8000}, worker pid $worker (Ctrl-C stops both)"
wait -n "$web" "$worker"
status=$?
echo "everruns: a process exited (status $status); stopping the other" >&2
kill -TERM "$web" "$worker" 2>/dev/null
wait 2>/dev/null
exit "$status"
