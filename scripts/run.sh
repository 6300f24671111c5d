#!/usr/bin/env bash
# Foreground supervisor for `make run`: gunicorn (web) + the django.tasks worker.
# Ctrl-C or SIGTERM stops both; if either exits on its own, the other is stopped too.
set -u
cd "$(dirname "$0")/.."
.venv/bin/gunicorn everruns.wsgi -c gunicorn.conf.py &
web=$!
.venv/bin/python manage.py db_worker --no-reload --queue-name default --interval "${WORKER_POLL_INTERVAL:-0.2}" &
worker=$!
stopping=0
# Ctrl-C reaches web and worker directly (same process group); a SIGTERM to this script does not, so the
# trap only records the request and the code below stops whatever is still running.
trap 'stopping=1' INT TERM
alive() { kill -0 "$1" 2>/dev/null; }
echo "everruns: web pid $web on http://${HOST:-127.0.0.1}:${PORT:-8000}, worker pid $worker (Ctrl-C stops both)"
wait -n "$web" "$worker"
status=$?
if [ "$stopping" = 0 ]; then
  # Both gone within a moment: they were stopped together from outside (Ctrl-C, shutdown), not a crash.
  for _ in 1 2 3 4 5; do { alive "$web" || alive "$worker"; } && sleep 0.1; done
  { alive "$web" || alive "$worker"; } || stopping=1
fi
if [ "$stopping" = 1 ]; then
  echo "everruns: stopping web and worker" >&2
  kill -TERM "$web" "$worker" 2>/dev/null
  wait "$web" "$worker" 2>/dev/null
  echo "everruns: stopped" >&2
  exit 0
fi
if alive "$web"; then name=worker other=web; else name=web other=worker; fi
echo "everruns: the $name process exited (status $status); stopping the $other" >&2
kill -TERM "$web" "$worker" 2>/dev/null
wait 2>/dev/null
exit "$status"
