package main

import (
	"context"
	"fmt"

	"lote/stone"
)

func runKeygen(ctx context.Context, args []string, cio cmdIO) int {
	fs := newFlags("keygen", "", cio)
	out := fs.String("out", "lote-key.pem", "where to write the private key (0600); the public key goes to the same name plus .pub")
	bits := fs.Int("bits", 4096, "RSA key size; Stone asks for 4096")
	rest, ok := parseFlags(fs, args, cio)
	if !ok {
		return exitUsage
	}
	if len(rest) != 0 {
		return usageError(fs, cio.stderr, "keygen takes no arguments")
	}
	if *bits < 2048 {
		return usageError(fs, cio.stderr, "--bits %d is too small: use 4096 (Stone's requirement) or at least 2048", *bits)
	}
	key, err := stone.GenerateKey(*bits)
	if err != nil {
		fmt.Fprintf(cio.stderr, "lote: keygen: %v\n", err)
		return exitUsage
	}
	if err := stone.WriteKeyPair(*out, key); err != nil {
		fmt.Fprintf(cio.stderr, "lote: keygen: %v\n", err)
		return exitUsage
	}
	fmt.Fprintf(cio.stdout, "private key: %s (keep it secret; mode 0600)\npublic key:  %s.pub (send this one to Stone to get a client id)\n", *out, *out)
	return exitOK
}
