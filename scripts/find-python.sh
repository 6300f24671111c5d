#!/usr/bin/env bash
# Print the first Python >= 3.12 found (Django 6.1 needs it); exit 1 with a clear message otherwise.
# pyenv shims can exist without a runnable interpreter, so each candidate is actually executed.
set -u
candidates=(python3.13 python3.12 python3)
for dir in "$HOME"/.pyenv/versions/3.1[2-9]*/bin /usr/local/bin /usr/bin; do
  for name in python3.13 python3.12; do
    [ -x "$dir/$name" ] && candidates+=("$dir/$name")
  done
done
for py in "${candidates[@]}"; do
  if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then
    command -v "$py"
    exit 0
  fi
done
echo "error: Everruns needs Python >= 3.12 (Django 6.1); tried: ${candidates[*]}. Install python3.12 or newer, or run 'make PYTHON=/path/to/python3.12 ...'." >&2
exit 1
