#!/usr/bin/env bash
# Foreground supervisor for `make run`: gunicorn (web) + the django.tasks worker.
# Ctrl-C or SIGTERM stops both. A worker that dies on its own is restarted (with a growing pause if it
# keeps dying); if the web server exits on its own, the worker is stopped too and the script exits.
#
# Each child runs in a process group of its own (job control, `set -m`), so Ctrl-C in the terminal reaches
# this script only and each child gets exactly one SIGTERM from it. (Before, the terminal's SIGINT reached
# them directly and the script's SIGTERM came second: db_worker takes a second signal as "force" and died
# with a SystemExit traceback.) SIGTERM is graceful for both: gunicorn finishes its requests (a few ms;
# both skip the final garbage collection at exit), the worker finishes the task it runs. A child still
# running after RUN_STOP_TIMEOUT seconds (a worker in the middle of a long turn) is killed: the turn is
# resumed by crash recovery once its lease expires (docs/runtime.md).
set -u
set -m
cd "$(dirname "$0")/.."
# Prometheus multiprocess mode (apps/core/metrics.py): web and worker write their samples into one fresh
# directory, so GET /metrics of the web process also shows the worker's turns and model calls.
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-$PWD/var/prometheus}"
rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
start_worker() {
  case "${TASKS_BACKEND:-}" in
    django_tasks_redis*) .venv/bin/python manage.py run_redis_tasks --continuous --queue default & ;;
    *) .venv/bin/python manage.py db_worker --no-reload --queue-name default --interval "${WORKER_POLL_INTERVAL:-0.2}" & ;;
  esac
  worker=$!
}
.venv/bin/gunicorn everruns.wsgi -c gunicorn.conf.py &
web=$!
start_worker
stopping=0
trap 'stopping=1' INT TERM
alive() { kill -0 "$1" 2>/dev/null; }
stop_all() {
  kill -TERM "$web" "$worker" 2>/dev/null
  local deadline=$((SECONDS + ${RUN_STOP_TIMEOUT:-5}))
  while { alive "$web" || alive "$worker"; } && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.05; done
  for pid in "$web" "$worker"; do
    if alive "$pid"; then
      echo "everruns: pid $pid still running after ${RUN_STOP_TIMEOUT:-5}s; killed" >&2
      kill -KILL "$pid" 2>/dev/null
    fi
  done
  wait "$web" "$worker" 2>/dev/null
}
echo "everruns: web pid $web on http://${HOST:-127.0.0.1}:${PORT:-8000}, worker pid $worker (Ctrl-C stops both)"
pause=1
status=0
while true; do
  # (A signal during the restart pause below set `stopping`: then there is nothing to wait for.)
  [ "$stopping" = 1 ] || { wait -n "$web" "$worker"; status=$?; }
  if [ "$stopping" = 1 ]; then
    echo "everruns: stopping web and worker" >&2
    stop_all
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
  stop_all
  exit "$status"
done
