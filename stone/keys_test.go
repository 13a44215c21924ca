package stone

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteAndLoadKeyPair(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "stone.pem")
	key := testKey()
	if err := WriteKeyPair(path, key); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := st.Mode().Perm(); perm != 0o600 {
		t.Errorf("private key mode = %v, want 0600", perm)
	}
	loaded, err := LoadPrivateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !loaded.Equal(key) {
		t.Error("loaded key differs from the written one")
	}
	pubPEM, err := os.ReadFile(path + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(pubPEM)
	if block == nil || block.Type != "PUBLIC KEY" {
		t.Fatalf("public file is not a PUBLIC KEY PEM: %s", pubPEM)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil || !key.PublicKey.Equal(pub) {
		t.Errorf("public key = %v, %v", pub, err)
	}

	// Never overwrite: a second write fails and leaves the files alone.
	before, _ := os.ReadFile(path)
	other, err := GenerateKey(2048)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteKeyPair(path, other); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second write: err = %v, want fs.ErrExist", err)
	}
	after, _ := os.ReadFile(path)
	if string(before) != string(after) {
		t.Error("private key overwritten")
	}

	// An existing .pub alone also stops it, without leaving a private key.
	path2 := filepath.Join(dir, "b.pem")
	if err := os.WriteFile(path2+".pub", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteKeyPair(path2, key); !errors.Is(err, fs.ErrExist) {
		t.Errorf("existing .pub: err = %v, want fs.ErrExist", err)
	}
	if _, err := os.Stat(path2); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("private key left behind: %v", err)
	}
}

func TestLoadPrivateKeyForms(t *testing.T) {
	dir := t.TempDir()
	key := testKey()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(key)
	pem1 := func(typ string, der []byte, h map[string]string) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Headers: h, Bytes: der}))
	}
	tests := []struct {
		name    string
		content string
		wantErr string
	}{
		{"PKCS#1", pem1("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key), nil), ""},
		{"PKCS#8", pem1("PRIVATE KEY", pkcs8, nil), ""},
		{"after a certificate-like block", pem1("CERTIFICATE", []byte("x"), nil) + pem1("PRIVATE KEY", pkcs8, nil), ""},
		{"EC key", pem1("PRIVATE KEY", ecDER, nil), "PKCS#8 key is *ecdsa.PrivateKey, want RSA"},
		{"encrypted PKCS#8", pem1("ENCRYPTED PRIVATE KEY", []byte("secret-bytes"), nil), "encrypted private keys are not supported"},
		{"legacy encrypted", pem1("RSA PRIVATE KEY", []byte("secret-bytes"), map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}), "encrypted private keys are not supported"},
		{"not PEM", "secret-bytes", "no PEM private key block"},
		{"corrupt PKCS#1", pem1("RSA PRIVATE KEY", []byte("secret-bytes"), nil), "parse PKCS#1 key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_"))
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := LoadPrivateKey(path)
			if tt.wantErr == "" {
				if err != nil || !got.Equal(key) {
					t.Fatalf("LoadPrivateKey = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("err %q does not name the file", err)
			}
			if strings.Contains(err.Error(), "secret-bytes") || strings.Contains(err.Error(), "c2VjcmV0") {
				t.Errorf("err %q shows the file's contents", err)
			}
		})
	}
	if _, err := LoadPrivateKey(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
}

func TestGenerateKeyRefusesSmallKeys(t *testing.T) {
	if _, err := GenerateKey(1024); err == nil {
		t.Error("GenerateKey(1024) succeeded")
	}
}
