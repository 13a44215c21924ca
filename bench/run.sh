#!/usr/bin/env bash
# The figures the issues ask for, measured on this machine. make bench runs
# it after the Go benchmarks. Generated sheets stay in bench/data; each
# program says what it measures and prints the goal beside the figure.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== lote validate: 1,000,000-row CSV against a bare encoding/csv read; 100,000-row XLSX"
go run ./bench/validatebench -lote bin/lote -data bench/data
echo "== lote run: 10,000 rows against the emulator with 20 ms latency, with and without a server limit"
go run ./bench/runbench -rows 10000
echo "== lote run: importing 1,000,000 rows into the ledger, then re-running the finished batch"
go run ./bench/runbench -rows 0 -import-rows 1000000
echo "== lote run and lote validate: sheets of 200,000 and 1,000,000 invalid rows, peak memory"
go run ./bench/invalidbench -lote bin/lote -data bench/data
echo "== lote serve: upload to table for 10,000 rows, page weight, memory while sending 100,000 rows"
go run ./bench/servebench
echo "== lote validate on the hostile sheets of issue 13: each refused or checked in under 1 s and 100 MB"
go run ./bench/bombbench -lote bin/lote
