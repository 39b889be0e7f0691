#!/usr/bin/env bash
# Screenshot of `recexp report` in a real headless browser (Chromium from Debian's packages:
# apt-get install -y chromium). Usage:
#   scripts/report_screenshot.sh REPORT.html OUT.png [WIDTH] [HEIGHT]
# With no arguments: builds a report of three hand-made run directories (tests/fake_runs.py,
# no training) and writes docs/report.png.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
BROWSER=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [[ -z "$BROWSER" ]]; then
  echo "chromium not found: apt-get install -y chromium" >&2
  exit 2
fi
if [[ $# -eq 0 ]]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  PYTHONPATH=$PWD "$PYTHON" - "$work" <<'PY'
import sys
from pathlib import Path

from recexp.plots import write_run_plots
from recexp.report import write_report
from tests.fake_runs import make_run

root = Path(sys.argv[1])
runs = [
    make_run(root, "20261125T170513Z-mf", test_rmse=0.8743, params=86_625, train_seconds=3.4),
    make_run(root, "20261125T170504Z-neumf", test_rmse=0.9156, params=132_801,
             train_seconds=3.6, best_epoch=4, seed=1),
    make_run(root, "20261125T170600Z-mf-qr", test_rmse=0.8899, params=16_605,
             train_seconds=2.9, best_epoch=6, seed=2),
]
for run in runs:
    write_run_plots(run)
write_report(runs, root / "report.html", title="recexp report (hand-made runs)")
PY
  set -- "$work/report.html" docs/report.png 1400 2400
fi
report=$(realpath "$1")
out=$2
mkdir -p "$(dirname "$out")"
# --virtual-time-budget lets the page finish layout before the shot; no network is needed.
"$BROWSER" --headless --no-sandbox --disable-gpu --hide-scrollbars --disable-dev-shm-usage \
  --virtual-time-budget=5000 --window-size="${3:-1400},${4:-2400}" \
  --screenshot="$(realpath -m "$out")" "file://$report" >/dev/null 2>&1
test -s "$out"
echo "$out"
