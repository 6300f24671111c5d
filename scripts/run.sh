#!/usr/bin/env bash
# Foreground supervisor for `make run`: gunicorn (web) + the django.tasks worker.
# Ctrl-C or SIGTERM stops both; if either exits on its own, the other is stopped too.
#
# Each child runs in a process group of its own (job control, `set -m`), so Ctrl-C in the terminal reaches
# this script only and each child gets exactly one SIGTERM from it. (Before, the terminal's SIGINT reached
# them directly and the script's SIGTERM came second: db_worker takes a second signal as "force" and died
# with a SystemExit traceback.) SIGTERM is graceful for both: gunicorn finishes its requests (a few ms;
# both skip the final garbage collection at exit), db_worker finishes the task it runs. A child still
# running after RUN_STOP_TIMEOUT seconds (a worker in the middle of a long turn) is killed: the turn is
# resumed by crash recovery once its lease expires (docs/runtime.md).
set -u
set -m
cd "$(dirname "$0")/.."
# Prometheus multiprocess mode (apps/core/metrics.py): web and worker write their samples into one fresh
# directory, so GET /metrics of the web process also shows the worker's turns and model calls.
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-$PWD/var/prometheus}"
rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
.venv/bin/gunicorn everruns.wsgi -c gunicorn.conf.py &
web=$!
case "${TASKS_BACKEND:-}" in
  django_tasks_redis*) .venv/bin/python manage.py run_redis_tasks --continuous --queue default & ;;
  *) .venv/bin/python manage.py db_worker --no-reload --queue-name default --interval "${WORKER_POLL_INTERVAL:-0.2}" & ;;
esac
worker=$!
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
wait -n "$web" "$worker"
status=$?
if [ "$stopping" = 1 ]; then
  echo "everruns: stopping web and worker" >&2
  stop_all
  echo "everruns: stopped" >&2
  exit 0
fi
if alive "$web"; then name=worker other=web; else name=web other=worker; fi
echo "everruns: the $name process exited (status $status); stopping the $other" >&2
stop_all
exit "$status"
