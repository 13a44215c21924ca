#!/usr/bin/env bash
# make demo: show lote on the bundled samples, with nothing to configure.
# Payments go to the emulator inside lote (--env sim); the ledger and the
# results live under out/, removed first, so the demo runs again and again.
set -uo pipefail
cd "$(dirname "$0")/.."
lote=./bin/lote

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

# lote speaks the language of --lang, LOTE_LANG or the locale; the demo's
# own lines follow the same choice (LANG=pt_BR.UTF-8 make demo).
locale=${LOTE_LANG:-${LC_ALL:-${LC_MESSAGES:-${LANG:-}}}}
say() { case $locale in pt*) echo "$2" ;; *) echo "$1" ;; esac; }

step lote validate samples/payouts.csv
$lote validate samples/payouts.csv

step lote validate samples/folha-excel-br.csv
$lote validate samples/folha-excel-br.csv

step lote validate samples/errors.csv
$lote validate samples/errors.csv
code=$?
say "(exit code $code — some rows are invalid, as this sample intends)" "(código de saída $code — algumas linhas são inválidas, como esta amostra pretende)"

rm -rf out
mkdir -p out
export LOTE_LEDGER=out/lote-sim.db
# lote logs to stderr when it is not a terminal; the demo keeps those lines
# in out/lote.log, so that what it shows is what a person reads.
log=out/lote.log

step lote run samples/payouts.csv --out out/payouts.results.csv
$lote run samples/payouts.csv --out out/payouts.results.csv 2>>"$log"
code=$?
say "(exit code $code)" "(código de saída $code)"
[ "$code" -eq 0 ] || { tail -n 20 "$log"; exit "$code"; }

echo
say "results: out/payouts.results.csv (first lines)" "resultados: out/payouts.results.csv (primeiras linhas)"
head -n 4 out/payouts.results.csv | cut -c 1-160

step lote run samples/payouts.csv --out out/payouts.results.csv
say "(the same file again: the ledger knows it, nothing is paid twice)" "(o mesmo arquivo de novo: o registro o conhece, nada é pago duas vezes)"
$lote run samples/payouts.csv --out out/payouts.results.csv 2>>"$log"

step lote status
$lote status

# The same sheet against stonesim, the emulator as a server, the way a
# real target is reached: a key pair registered as a client, an account,
# explicit URLs. Moving stonesim's clock lets the transfers finish, and one
# account (77788899) is refunded by its bank, which reconcile finds.
printf '\n\033[1m--- %s ---\033[0m\n' "$(say "against stonesim: run, let time pass, reconcile" "contra o stonesim: enviar, deixar o tempo passar, conciliar")"
$lote keygen --out out/app.pem --bits 2048 >/dev/null
./bin/stonesim --addr 127.0.0.1:0 --mode sandbox --client demo-app=out/app.pem.pub \
	--account demo-account=100000000000 --refund 7788991=1 \
	--stone-account '58859=Fernando Antônio Pereira,78912345745' --stone-account '77001=Gabriela Rocha Lima,89123456809' \
	--pix-key '12345678143=Carla Dias,12345678143,18236120' --pix-key 'joao.lima@exemplo.com.br=João Pedro Lima,23456789254,00000000' \
	--pix-key '+5511987654321=Marina Alves,34567891309,60701190' --pix-key '7d9f0c1e-2b3a-4c5d-8e9f-0a1b2c3d4e5f=Rafael Costa,45678912445' \
	--pix-key '99752882000109=Tecnologia Aurora Ltda,99752882000109,00416968' \
	--pix-key 'financeiro@exemplo.com.br=Outra Pessoa,56789123563,18236120' \
	>out/stonesim.url 2>out/stonesim.log &
sim=$!
trap 'kill $sim 2>/dev/null' EXIT
for _ in $(seq 50); do grep -qs listening out/stonesim.url && break; sleep 0.1; done
url=$(sed -n 's/^stonesim listening on //p' out/stonesim.url)
export LOTE_ENV=sandbox LOTE_API_URL=$url LOTE_AUTH_URL=$url LOTE_CLIENT_ID=demo-app \
	LOTE_KEY=out/app.pem LOTE_ACCOUNT_ID=demo-account LOTE_LEDGER=out/lote-sandbox.db

step "lote run samples/payouts.xlsx --env sandbox --api-url $url … --out out/payouts.results.xlsx"
$lote run samples/payouts.xlsx --out out/payouts.results.xlsx 2>>"$log"
code=$?
say "(exit code $code)" "(código de saída $code)"

# A sheet mixing the rails: TEDs, accounts at Stone (internal transfers)
# and Pix to a key of each kind. The last key belongs to someone else than
# the sheet names: its Pix is created, checked, and held for a person,
# never confirmed.
step "lote run samples/rails.csv --out out/rails.results.csv"
$lote run samples/rails.csv --out out/rails.results.csv 2>>"$log"
code=$?
say "(exit code $code — the Pix to someone else's key waits for a person)" "(código de saída $code — o Pix para a chave de outra pessoa espera por uma pessoa)"

step "curl -X POST $url/_sim/advance?by=26h   # $(say "a day passes at the bank" "passa um dia no banco")"
curl -fsS -X POST "$url/_sim/advance?by=26h"; echo

step lote reconcile --all --out out/reconciliation.xlsx
$lote reconcile --all --out out/reconciliation.xlsx 2>>"$log"
code=$?
say "(exit code $code — a transfer came back, and the Pix to someone else's key waits for a person; \`lote help exit-codes\` lists them all)" "(código de saída $code — uma transferência voltou, e o Pix para a chave de outra pessoa espera por uma pessoa; \`lote help exit-codes\` lista todos)"

step lote status
$lote status
exit 0
