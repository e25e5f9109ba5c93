// Package secrets loads Kith's master key and derives the keys used for
// sessions and, later, for encrypting national ID numbers.
package secrets

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// FileName is the key file created in the data folder when KITH_SECRET_KEY
// is not set.
const FileName = "secret.key"

// Keys are the keys derived from the master key, one per purpose.
type Keys struct {
	Session    []byte // keyed hash of session and API tokens
	NationalID []byte // AES-256-GCM encryption of national ID numbers
	Lookup     []byte // keyed hash for exact-match search of national ID numbers
	TOTP       []byte // AES-256-GCM encryption of two-factor (TOTP) secrets
	RateLimit  []byte // keyed hash of client addresses in the shared rate limits
}

// Load returns the keys derived from master, a base64 encoding of 32 random
// bytes. If master is empty, the key is read from FileName in dataDir, which
// is created (mode 0600) on first use.
func Load(master, dataDir string) (*Keys, error) {
	if master == "" {
		var err error
		if master, err = loadOrCreate(filepath.Join(dataDir, FileName)); err != nil {
			return nil, err
		}
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(master))
	if err != nil || len(raw) < 32 {
		return nil, errors.New("secrets: the secret key must be the base64 encoding of at least 32 bytes (such as the output of: head -c 32 /dev/urandom | base64)")
	}
	derive := func(purpose string) []byte {
		k, err := hkdf.Key(sha256.New, raw, nil, "kith "+purpose, 32)
		if err != nil {
			panic(err) // only for lengths out of range
		}
		return k
	}
	return &Keys{Session: derive("session"), NationalID: derive("national-id"), Lookup: derive("national-id lookup"),
		TOTP: derive("totp"), RateLimit: derive("rate limit")}, nil
}

func loadOrCreate(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return string(b), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("secrets: %w", err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return "", err
	}
	enc := base64.StdEncoding.EncodeToString(key) + "\n"
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("secrets: create key file: %w", err)
	}
	if _, err := f.WriteString(enc); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	slog.Warn("created a new secret key; keep it safe and back it up with the database: without it, encrypted data cannot be read",
		"file", path)
	return enc, nil
}
