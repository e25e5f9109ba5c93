#!/usr/bin/env bash
# Two stateless Kith servers behind HAProxy on one PostgreSQL database, and
# the checks that they share all state: a session made on one works on the
# other, the public rate limit holds across them, one server runs the
# sweeps (lease), and both compute the same figures after a write.
#
#   deploy/multi/run-test.sh            (from the repository root; ~30 s)
#
# Needs: go, haproxy (installed with apt-get if missing), curl, jq, psql,
# and PostgreSQL at KITH_MULTI_PG (default postgres://postgres@127.0.0.1:5432,
# trust auth). It drops and creates the database kith_multi there. Ports
# 18080 (HAProxy), 18081 and 18082 (Kith) on 127.0.0.1. Exits 0 when every
# check passes; logs stay in $WORK.
set -euo pipefail
cd "$(dirname "$0")/../.."
PG=${KITH_MULTI_PG:-postgres://postgres@127.0.0.1:5432}
WORK=${KITH_MULTI_WORK:-/tmp/kith-multi}
PROXY=http://127.0.0.1:18080
S1=http://127.0.0.1:18081
S2=http://127.0.0.1:18082
PASS=kith-demo-2026
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT
fails=0
check() { # check "what" condition...
	local what=$1; shift
	if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi
}

command -v haproxy >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null; }
rm -rf "$WORK" && mkdir -p "$WORK"
go build -o "$WORK/kith" ./cmd/kith
psql -q "$PG/postgres" -c 'DROP DATABASE IF EXISTS kith_multi WITH (FORCE)' -c 'CREATE DATABASE kith_multi'
export KITH_DB="$PG/kith_multi?sslmode=disable"
KITH_SECRET_KEY=$(head -c 32 /dev/urandom | base64)
export KITH_SECRET_KEY KITH_TRUST_PROXY=1 KITH_DATA="$WORK"
"$WORK/kith" demo -patients 300 >"$WORK/demo.log" 2>&1

for i in 1 2; do
	"$WORK/kith" serve -addr 127.0.0.1:1808$i >"$WORK/kith$i.out" 2>"$WORK/kith$i.log" &
	pids+=($!)
done
haproxy -db -f deploy/multi/haproxy.cfg >"$WORK/haproxy.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$S1/readyz")$(curl -s -o /dev/null -w '%{http_code}' "$S2/readyz")" = 200200 ] &&
		curl -sf "$PROXY/readyz" >/dev/null && break
	sleep 0.2
done
sleep 2 # both servers UP in HAProxy (rise 1, inter 1s)

# 1. A web session made through the proxy works on whichever server answers.
jar=$WORK/cookies
code=$(curl -s -o /dev/null -w '%{http_code}' -c "$jar" -d "username=manager&password=$PASS" "$PROXY/login")
check "web sign-in through the proxy (303)" [ "$code" = 303 ]
seen=""; codes=""
for _ in 1 2 3 4; do
	out=$(curl -s -o /dev/null -D - -b "$jar" "$PROXY/account")
	codes+=$(echo "$out" | head -1 | awk '{print $2}')" "
	seen+=$(echo "$out" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-kith-server"{print $2}')" "
done
check "the session answers 200 on both servers (codes: $codes; servers: $seen)" \
	bash -c "[ '$codes' = '200 200 200 200 ' ] && [[ '$seen' == *kith1* ]] && [[ '$seen' == *kith2* ]]"

# 2. An API token made on one server works on the other, and signing out on
# one ends it on both.
tok=$(curl -sf -H 'Content-Type: application/json' -d "{\"username\":\"manager\",\"password\":\"$PASS\"}" "$S1/api/v1/auth/token" | jq -r .token)
check "a token from server 1 works on server 2" [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" "$S2/api/v1/me")" = 200 ]
curl -s -o /dev/null -X DELETE -H "Authorization: Bearer $tok" "$S2/api/v1/auth/token"
check "signed out on server 2, refused on server 1 (401)" [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" "$S1/api/v1/me")" = 401 ]

# 3. The public rate limit (20 screenings per address, then one a minute)
# holds across servers: the 21st is refused whichever server answers.
form=$(for i in $(seq 9); do printf 'phq9_%d=0&' "$i"; done)
codes=""; seen=""
for n in $(seq 22); do
	out=$(curl -s -o /dev/null -D - -d "$form" -H 'X-Forwarded-For: 10.9.8.7' "$PROXY/public/screening/phq9")
	codes+=$(echo "$out" | head -1 | awk '{print $2}')" "
	seen+=$(echo "$out" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-kith-server"{print $2}')" "
done
echo "     screenings: $codes"
echo "     servers:    $seen"
ok20=$(echo "$codes" | awk '{for (i = 1; i <= 20; i++) if ($i != 200) bad = 1; print bad ? "no" : "yes"}')
check "20 screenings from one address allowed across both servers" [ "$ok20" = yes ]
check "the 21st and 22nd refused (429) on both servers" bash -c "[ '$(echo "$codes" | awk '{print $21, $22}')' = '429 429' ]"
check "no client address in rate_limits" [ "$(psql -tA "$KITH_DB" -c "SELECT count(*) FROM rate_limits WHERE client LIKE '%127.0.0%' OR client LIKE '%10.9.8%'")" = 0 ]

# 4. One server runs the sweeps: it holds the lease; the other skipped them.
ran=$(grep -l '"sweeps done"' "$WORK"/kith1.log "$WORK"/kith2.log | wc -l)
holder=$(psql -tA "$KITH_DB" -c "SELECT count(*) FROM leases WHERE name = 'sweeps' AND expires_at > to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS')")
check "exactly one server ran the sweeps (logs: $ran, live leases: $holder)" [ "$ran$holder" = 11 ]

# 5. Figures: both servers give the same district figures, before and after
# a follow-up written through the other one (snapshot versions are shared).
tok=$(curl -sf -H 'Content-Type: application/json' -d "{\"username\":\"psychiatrist\",\"password\":\"$PASS\"}" "$PROXY/api/v1/auth/token" | jq -r .token)
mtok=$(curl -sf -H 'Content-Type: application/json' -d "{\"username\":\"manager\",\"password\":\"$PASS\"}" "$PROXY/api/v1/auth/token" | jq -r .token)
period=$(date -u +%Y-%m)
figs() { curl -sf -H "Authorization: Bearer $tok" "$1/api/v1/figures?org_unit=D01&period=$period" | jq -S 'del(.computed_at, .as_of)'; }
check "district figures equal on both servers" [ "$(figs $S1)" = "$(figs $S2)" ]
before=$(psql -tA "$KITH_DB" -c "SELECT coalesce(sum(version), 0) FROM figure_versions")
pid=$(curl -sf -H "Authorization: Bearer $mtok" "$S1/api/v1/patients?org_unit=C0101&status=managed&limit=1" | jq -r '.items[0].id')
today=$(date -u +%Y-%m-%d)
fu='{"date":"'$today'","mode":"phone","reached":true,"risk_level":0,"psychotic_symptoms":"none","insight":"complete","adverse_reaction":"none","physical_illness":"none","social_function":{"self_care":"good","housework":"good","work":"good","learning":"good","social_contact":"good"},"medication_adherence":"regular"}'
code=$(curl -s -o "$WORK/fu.json" -w '%{http_code}' -H "Authorization: Bearer $mtok" -H 'Content-Type: application/json' -d "$fu" "$S1/api/v1/patients/$pid/follow-ups")
check "a follow-up on server 1 (201)" [ "$code" = 201 ]
after=$(psql -tA "$KITH_DB" -c "SELECT coalesce(sum(version), 0) FROM figure_versions")
check "the write bumped the shared snapshot version ($before -> $after)" [ "$after" -gt "$before" ]
check "district figures still equal on both servers after the write" [ "$(figs $S2)" = "$(figs $S1)" ]
check "kith audit verify" "$WORK/kith" audit verify

if [ "$fails" -gt 0 ]; then echo "$fails check(s) failed; logs in $WORK"; exit 1; fi
echo "all checks passed; logs in $WORK"
