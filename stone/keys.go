package stone

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
)

// minKeyBits is the smallest RSA key accepted. Stone asks for 4096 bits
// (stone-api.md §1.2); 2048 is the floor of RS256 practice.
const minKeyBits = 2048

// maxKeyFile bounds what LoadPrivateKey reads: a 4096-bit PEM key is ~3 KB.
const maxKeyFile = 64 << 10

// GenerateKey makes an RSA private key of the given size in bits. Use 4096
// for a key to register with Stone.
func GenerateKey(bits int) (*rsa.PrivateKey, error) {
	if bits < minKeyBits {
		return nil, fmt.Errorf("generate key: %d bits is too small, want at least %d", bits, minKeyBits)
	}
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, fmt.Errorf("generate %d-bit key: %w", bits, err)
	}
	return k, nil
}

// WriteKeyPair writes key as a PKCS#8 PEM file at path, readable by its owner
// only (0600), and its public half as a PKIX PEM file at path+".pub", the
// file to send to Stone. It never overwrites: if either file exists it fails
// and leaves both as they were.
func WriteKeyPair(path string, key *rsa.PrivateKey) error {
	if key == nil {
		return errors.New("write key pair: key is nil")
	}
	priv, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("write key pair %s: %w", path, err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return fmt.Errorf("write key pair %s: %w", path, err)
	}
	pubPath := path + ".pub"
	// Both files are created with O_EXCL before either is written, so a
	// failure on the second removes only a file this call created.
	pf, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write private key: %w", err)
	}
	qf, err := os.OpenFile(pubPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		pf.Close()
		os.Remove(path)
		return fmt.Errorf("write public key: %w", err)
	}
	err = errors.Join(
		writePEM(pf, "PRIVATE KEY", priv),
		writePEM(qf, "PUBLIC KEY", pub),
	)
	if err != nil {
		os.Remove(path)
		os.Remove(pubPath)
		return fmt.Errorf("write key pair %s: %w", path, err)
	}
	return nil
}

// writePEM writes one PEM block, syncs and closes f.
func writePEM(f *os.File, typ string, der []byte) error {
	err := pem.Encode(f, &pem.Block{Type: typ, Bytes: der})
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// LoadPrivateKey reads an RSA private key from a PEM file in PKCS#1
// ("RSA PRIVATE KEY") or PKCS#8 ("PRIVATE KEY") form. Encrypted keys are not
// supported. Errors name the file, never its contents.
func LoadPrivateKey(path string) (*rsa.PrivateKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load private key: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("load private key %s: %w", path, err)
	}
	if len(data) > maxKeyFile {
		return nil, fmt.Errorf("load private key %s: file larger than %d bytes", path, maxKeyFile)
	}
	key, err := parsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("load private key %s: %w", path, err)
	}
	return key, nil
}

func parsePrivateKey(data []byte) (*rsa.PrivateKey, error) {
	var block *pem.Block
	for {
		block, data = pem.Decode(data)
		if block == nil {
			return nil, errors.New("no PEM private key block")
		}
		if block.Type == "RSA PRIVATE KEY" || block.Type == "PRIVATE KEY" || block.Type == "ENCRYPTED PRIVATE KEY" {
			break
		}
	}
	if block.Type == "ENCRYPTED PRIVATE KEY" || block.Headers["Proc-Type"] != "" {
		return nil, errors.New("encrypted private keys are not supported")
	}
	var key *rsa.PrivateKey
	if block.Type == "RSA PRIVATE KEY" {
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			// x509's messages describe the structure, not the bytes.
			return nil, fmt.Errorf("parse PKCS#1 key: %w", err)
		}
		key = k
	} else {
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse PKCS#8 key: %w", err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("PKCS#8 key is %T, want RSA", k)
		}
		key = rk
	}
	if bits := key.N.BitLen(); bits < minKeyBits {
		return nil, fmt.Errorf("key has %d bits, want at least %d", bits, minKeyBits)
	}
	return key, nil
}
