// Package auth holds roles, password hashing (argon2id) and session tokens.
package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Role is what a user does in Kith; with the user's org unit it decides what
// they may see and do (see package care's policy).
type Role string

// The roles, as PRODUCT.md describes them.
const (
	Admin            Role = "admin"
	DistrictAdmin    Role = "district_admin"
	Psychiatrist     Role = "psychiatrist"
	Psychotherapist  Role = "psychotherapist"
	SocialWorker     Role = "social_worker"
	Nurse            Role = "nurse"
	CommunityManager Role = "community_manager"
	CareGroup        Role = "care_group"
)

// Roles lists every role, in the order forms show them.
var Roles = []Role{CommunityManager, Nurse, Psychiatrist, Psychotherapist, SocialWorker, CareGroup, DistrictAdmin, Admin}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if r == x {
			return true
		}
	}
	return false
}

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 10

// maxPasswordLength bounds the work one sign-in can cause.
const maxPasswordLength = 256

// CheckPassword returns a message when p is not acceptable as a password.
func CheckPassword(p string) string {
	switch n := len([]rune(p)); {
	case n < MinPasswordLength:
		return fmt.Sprintf("must be at least %d characters", MinPasswordLength)
	case len(p) > maxPasswordLength:
		return fmt.Sprintf("must be at most %d bytes", maxPasswordLength)
	}
	return ""
}

// argon2id parameters: the RFC 9106 second recommendation (64 MiB, 3 passes)
// scaled to one lane per core of a small server.
const (
	argonThreads = 2
	argonKeyLen  = 32
)

// argonTime and argonMemory are variables only so that tests which create
// many accounts can make hashing cheap (CheapHashingForTests).
var (
	argonTime   uint32 = 3
	argonMemory uint32 = 64 * 1024
)

// CheapHashingForTests makes HashPassword cheap (one pass over 1 MiB), for
// test binaries that create many accounts: at the real cost each hash takes
// a tenth of a second or more on a small shared machine. Verification reads
// the parameters from each stored hash, so hashes made either way verify.
// Never called outside tests.
func CheapHashingForTests() { argonTime, argonMemory = 1, 1024 }

// HashPassword returns an encoded argon2id hash of password in the PHC
// string format, so parameters can change without breaking stored hashes.
func HashPassword(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// ErrBadHash reports a stored hash that cannot be parsed.
var ErrBadHash = errors.New("auth: malformed password hash")

// VerifyPassword reports whether password matches the encoded hash.
func VerifyPassword(encoded, password string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, ErrBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, ErrBadHash
	}
	var mem uint32
	var iter uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &iter, &threads); err != nil {
		return false, ErrBadHash
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil {
		return false, ErrBadHash
	}
	want, err := enc.DecodeString(parts[5])
	if err != nil {
		return false, ErrBadHash
	}
	got := argon2.IDKey([]byte(password), salt, iter, mem, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummyHash is verified against when a username is unknown, so that the
// answer takes as long as for a known user with a wrong password.
var dummyHash, _ = HashPassword("kith-dummy-password")

// BurnTime spends the time one password verification takes.
func BurnTime(password string) { VerifyPassword(dummyHash, password) }

// NewToken returns a new random session or API token.
func NewToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// TokenHash returns the keyed hash under which a token is stored, so that a
// copy of the database holds no usable token.
func TokenHash(key []byte, token string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(token))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
