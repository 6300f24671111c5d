#!/usr/bin/env bash
# Foreground supervisor for `make run`: gunicorn (web) + the django.tasks worker.
# Ctrl-C or SIGTERM stops both. A worker that dies on its own is restarted (with a growing pause if it
# keeps dying); if the web server exits on its own, the worker is stopped too and the script exits.
set -u
cd "$(dirname "$0")/.."
start_worker() {
  .venv/bin/python manage.py db_worker --no-reload --queue-name default --interval "${WORKER_POLL_INTERVAL:-0.2}" &
  worker=$!
}
.venv/bin/gunicorn everruns.wsgi -c gunicorn.conf.py &
web=$!
start_worker
stopping=0
# Ctrl-C reaches web and worker directly (same process group); a SIGTERM to this script does not, so the
# trap only records the request and the code below stops whatever is still running.
trap 'stopping=1' INT TERM
alive() { kill -0 "$1" 2>/dev/null; }
echo "everruns: web pid $web on http://${HOST:-127.0.0.1}:${PORT:-8000}, worker pid $worker (Ctrl-C stops both)"
pause=1
while true; do
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
  if alive "$web"; then
    # The worker died (crash, OOM kill): its turn is resumed by recovery; start a new worker.
    echo "everruns: the worker exited (status $status); restarting it in ${pause}s" >&2
    sleep "$pause"
    [ "$stopping" = 1 ] && continue
    start_worker
    echo "everruns: worker pid $worker" >&2
    pause=$(( pause < 30 ? pause * 2 : 30 ))
    continue
  fi
  echo "everruns: the web process exited (status $status); stopping the worker" >&2
  kill -TERM "$worker" 2>/dev/null
  wait 2>/dev/null
  exit "$status"
done
