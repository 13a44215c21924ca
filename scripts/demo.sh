#!/usr/bin/env bash
# make demo: show lote on the bundled samples, with nothing to configure.
# Payments go to the emulator inside lote (--env sim); the ledger and the
# results live under out/, removed first, so the demo runs again and again.
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

rm -rf out
mkdir -p out
export LOTE_LEDGER=out/lote-sim.db

step lote run samples/payouts.csv --out out/payouts.results.csv
$lote run samples/payouts.csv --out out/payouts.results.csv
code=$?
echo "(exit code $code)"
[ "$code" -eq 0 ] || exit "$code"

echo
echo "results: out/payouts.results.csv (first lines)"
head -n 4 out/payouts.results.csv | cut -c 1-160

step lote run samples/payouts.csv --out out/payouts.results.csv
echo "(the same file again: the ledger knows it, nothing is paid twice)"
$lote run samples/payouts.csv --out out/payouts.results.csv

step lote status
$lote status
exit 0
