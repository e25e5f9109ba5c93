package care

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
)

// National ID numbers are stored encrypted (AES-256-GCM) and found by exact
// match through a keyed hash, so a copy of the database reveals neither.

func (s *Service) sealNationalID(id string) (string, error) {
	block, err := aes.NewCipher(s.keys.NationalID)
	if err != nil {
		return "", err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(gcm.Seal(nonce, nonce, []byte(id), []byte("national-id"))), nil
}

func (s *Service) openNationalID(sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil {
		return "", err
	}
	block, err := aes.NewCipher(s.keys.NationalID)
	if err != nil {
		return "", err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return "", err
	}
	if len(raw) < gcm.NonceSize() {
		return "", errors.New("care: sealed national ID too short")
	}
	plain, err := gcm.Open(nil, raw[:gcm.NonceSize()], raw[gcm.NonceSize():], []byte("national-id"))
	return string(plain), err
}

// nationalIDHash is the keyed hash under which a national ID is looked up.
func (s *Service) nationalIDHash(id string) string {
	m := hmac.New(sha256.New, s.keys.Lookup)
	m.Write([]byte(id))
	return hex.EncodeToString(m.Sum(nil))
}

// NationalIDColumns returns the stored forms of a national ID (encrypted,
// and its lookup hash), for bulk loading generated or imported patients.
func (s *Service) NationalIDColumns(id string) (sealed, hash string, err error) {
	sealed, err = s.sealNationalID(id)
	return sealed, s.nationalIDHash(id), err
}
