package auth

import "testing"

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		password string
		want     bool
	}{
		{"correct horse battery", true},
		{"correct horse batterY", false},
		{"", false},
	} {
		ok, err := VerifyPassword(h, tt.password)
		if err != nil || ok != tt.want {
			t.Errorf("VerifyPassword(%q) = %v, %v; want %v", tt.password, ok, err, tt.want)
		}
	}
	h2, _ := HashPassword("correct horse battery")
	if h == h2 {
		t.Error("two hashes of one password are equal: salt missing")
	}
	if _, err := VerifyPassword("$argon2id$v=19$junk", "x"); err != ErrBadHash {
		t.Errorf("malformed hash: err = %v", err)
	}
}

func TestCheckPassword(t *testing.T) {
	for _, tt := range []struct {
		p  string
		ok bool
	}{
		{"123456789", false},
		{"1234567890", true},
		{"密码密码密码密码密码", true}, // ten characters, counted as characters not bytes
		{string(make([]byte, 300)), false},
	} {
		if got := CheckPassword(tt.p) == ""; got != tt.ok {
			t.Errorf("CheckPassword(%q) ok = %v, want %v", tt.p, got, tt.ok)
		}
	}
}

func TestRoles(t *testing.T) {
	if len(Roles) != 8 {
		t.Errorf("%d roles, want 8", len(Roles))
	}
	if Role("doctor").Valid() || !Nurse.Valid() {
		t.Error("Valid is wrong")
	}
}
