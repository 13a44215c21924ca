// Package reconcile finds out what became of the transfers lote sent: it
// polls Stone for the final status of every accepted row that may still
// change (finished, failed, refunded within the refund window), compares
// what Stone holds with what the ledger recorded, applies Stone's webhook
// events to the same rows, and writes the reconciliation report (CSV or
// XLSX, with its summary). Every status it learns is written to the ledger
// in the transaction that records it, so a second poll or a repeated event
// changes nothing.
package reconcile
