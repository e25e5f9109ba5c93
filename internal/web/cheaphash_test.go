package web_test

import "kith/internal/auth"

// The accounts these tests create are hashed cheaply (see
// auth.CheapHashingForTests); package auth's own tests use the real cost.
func init() { auth.CheapHashingForTests() }
