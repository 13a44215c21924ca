package stonetest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"sync"

	"lote/stone"
)

// jweHeader is the protected header of every JWE the emulator writes: the
// only combination Stone documents (stone-api.md §7.3).
const jweHeader = `{"alg":"RSA-OAEP-256","enc":"A256GCM","cty":"JWT"}`

// EncryptJWE encrypts plaintext to pub as a compact JWE with RSA-OAEP-256
// key wrapping and A256GCM content encryption (RFC 7516 §3.1, RFC 7518 §4.3
// and §5.3), as Stone encrypts webhooks to an application's key. Tests use it
// to build deliveries the emulator would not send.
func EncryptJWE(pub *rsa.PublicKey, plaintext []byte) (string, error) {
	return encryptJWE(pub, []byte(jweHeader), plaintext)
}

// EncryptJWEWithHeader is EncryptJWE with a caller-chosen protected header
// (JSON), for tests of receivers that must refuse other algorithms; the
// content is still RSA-OAEP-256 and A256GCM whatever the header says.
func EncryptJWEWithHeader(pub *rsa.PublicKey, header, plaintext []byte) (string, error) {
	return encryptJWE(pub, header, plaintext)
}

func encryptJWE(pub *rsa.PublicKey, header, plaintext []byte) (string, error) {
	enc := base64.RawURLEncoding
	protected := enc.EncodeToString(header)
	cek := make([]byte, 32)
	iv := make([]byte, 12)
	if _, err := rand.Read(cek); err != nil {
		return "", fmt.Errorf("jwe content key: %w", err)
	}
	if _, err := rand.Read(iv); err != nil {
		return "", fmt.Errorf("jwe iv: %w", err)
	}
	ek, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, cek, nil)
	if err != nil {
		return "", fmt.Errorf("jwe key wrap: %w", err)
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return "", fmt.Errorf("jwe cipher: %w", err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return "", fmt.Errorf("jwe cipher: %w", err)
	}
	// The AAD is the encoded protected header (RFC 7516 §5.1 step 14); GCM
	// appends its 16-byte tag, which the compact form carries separately.
	sealed := gcm.Seal(nil, iv, plaintext, []byte(protected))
	ct, tag := sealed[:len(sealed)-gcm.Overhead()], sealed[len(sealed)-gcm.Overhead():]
	return protected + "." + enc.EncodeToString(ek) + "." + enc.EncodeToString(iv) + "." +
		enc.EncodeToString(ct) + "." + enc.EncodeToString(tag), nil
}

// keyID is the RFC 7638 thumbprint of an RSA public key: a kid that is the
// same for the same key in every run.
func keyID(pub *rsa.PublicKey) string {
	enc := base64.RawURLEncoding
	// Members in lexicographic order, no spaces (RFC 7638 §3.2).
	canon := fmt.Sprintf(`{"e":"%s","kty":"RSA","n":"%s"}`,
		enc.EncodeToString(big.NewInt(int64(pub.E)).Bytes()), enc.EncodeToString(pub.N.Bytes()))
	sum := sha256.Sum256([]byte(canon))
	return enc.EncodeToString(sum[:])
}

// encKeyState is the emulator's encryption key, published with use "enc"
// in the key set. Nothing is encrypted to it by lote; it is there because
// Stone's key set has one (stone-api.md §1.7).
type encKeyState struct {
	once sync.Once
	key  *rsa.PrivateKey
	err  error
}

func (e *encKeyState) get() (*rsa.PrivateKey, error) {
	e.once.Do(func() {
		if e.key == nil {
			e.key, e.err = rsa.GenerateKey(rand.Reader, 2048)
		}
	})
	if e.err != nil {
		return nil, fmt.Errorf("generate encryption key: %w", e.err)
	}
	return e.key, nil
}

// SigningKeyID is the kid of the key that signs access tokens and webhooks,
// as published at stone.KeysPath.
func (s *Server) SigningKeyID() (string, error) {
	key, err := s.auth.signingKey()
	if err != nil {
		return "", err
	}
	return keyID(&key.PublicKey), nil
}

// handleKeys is GET /api/v1/discovery/keys: the public halves of the
// signing key and of the encryption key, as a JWK set (stone-api.md §7.3).
// Like Stone's, it needs no access token.
func (s *Server) handleKeys(w http.ResponseWriter, r *http.Request) {
	sig, err := s.auth.signingKey()
	if err != nil {
		writeError(w, http.StatusInternalServerError, stone.ErrorBody{Type: "srn:error:internal_server_error", Title: err.Error()})
		return
	}
	enc, err := s.encKey.get()
	if err != nil {
		writeError(w, http.StatusInternalServerError, stone.ErrorBody{Type: "srn:error:internal_server_error", Title: err.Error()})
		return
	}
	set := struct {
		Keys []stone.JWK `json:"keys"`
	}{[]stone.JWK{
		stone.NewRSAJWK(&sig.PublicKey, keyID(&sig.PublicKey), stone.KeyUseSig, "RS256"),
		stone.NewRSAJWK(&enc.PublicKey, keyID(&enc.PublicKey), stone.KeyUseEnc, "RSA-OAEP-256"),
	}}
	b, err := json.Marshal(set)
	if err != nil {
		writeError(w, http.StatusInternalServerError, stone.ErrorBody{Type: "srn:error:internal_server_error"})
		return
	}
	// Keys change rarely; a client may cache them.
	w.Header().Set("Cache-Control", "max-age=3600")
	writeBody(w, http.StatusOK, b)
}
