package main

import "kith/internal/auth"

// The accounts these tests create (the demo's among them, in the kith
// processes they start from this binary) are hashed cheaply; see
// auth.CheapHashingForTests.
func init() { auth.CheapHashingForTests() }
