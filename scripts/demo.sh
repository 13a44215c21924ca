#!/usr/bin/env bash
# make demo: show lote on the bundled samples, with nothing to configure.
set -uo pipefail
cd "$(dirname "$0")/.."
lote=./bin/lote

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step lote validate samples/payouts.csv
$lote validate samples/payouts.csv

step lote validate samples/folha-excel-br.csv
$lote validate samples/folha-excel-br.csv

step lote validate samples/errors.csv
$lote validate samples/errors.csv
echo "(exit code $? — some rows are invalid, as this sample intends)"
exit 0
