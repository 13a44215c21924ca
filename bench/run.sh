#!/usr/bin/env bash
# The figures the issues ask for, measured on this machine. make bench runs it
# after the Go benchmarks; the generated sheets stay in bench/data.
set -euo pipefail
cd "$(dirname "$0")/.."
go run ./bench/validatebench -lote bin/lote -data bench/data
