#!/usr/bin/env bash
# High availability test: PostgreSQL 15 with one synchronous standby under
# Patroni and etcd, Kith on top, follow-ups submitted over HTTP while the
# primary is killed with SIGKILL. It checks that every follow-up Kith
# acknowledged (201) is in the database after the failover, none half
# written (each has its audit entry and its patient's next due date is that
# of its latest follow-up), that kith audit verify passes, and that the same
# Kith process serves again within 30 seconds.
#
#   deploy/patroni/failover-test.sh          (as root, from the repository; 3–5 min)
#   KITH_HA_VIA=haproxy deploy/patroni/failover-test.sh   (Kith → HAProxy → primary)
#
# Installs patroni, etcd-server and haproxy with apt-get if missing. Loopback
# only: etcd 2379/2380, PostgreSQL 5433/5434, Patroni REST 8008/8009, HAProxy
# 15432, Kith 18090. Data under /tmp/kith-patroni; every process it started
# is stopped at the end. Exits 0 when every check passes.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
D=${KITH_HA_WORK:-/tmp/kith-patroni}
VIA=${KITH_HA_VIA:-multihost}
KITH=http://127.0.0.1:18090
WORKERS=${KITH_HA_WORKERS:-3}
PASS=kith-demo-2026
PG1=postgres://postgres@127.0.0.1:5433
PG2=postgres://postgres@127.0.0.1:5434
ms() { date +%s%3N; }
log() { echo "[$(date -u +%T)] $*"; }
fails=0
check() { local what=$1; shift; if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi; }

pids=()
cleanup() {
	set +e
	touch "$D/stop"
	# Patroni stops its PostgreSQL on SIGTERM; the killed node is gone already.
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for _ in $(seq 30); do
		alive=0
		for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 1
	done
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	# A PostgreSQL whose Patroni died first: stop it by its own pid file.
	for f in "$D"/pg*/postmaster.pid; do
		[ -e "$f" ] && kill -INT "$(head -1 "$f")" 2>/dev/null
	done
	wait 2>/dev/null
}
trap cleanup EXIT

need=()
command -v patroni >/dev/null || need+=(patroni)
command -v etcd >/dev/null || need+=(etcd-server)
command -v haproxy >/dev/null || need+=(haproxy)
if [ ${#need[@]} -gt 0 ]; then
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

rm -rf "$D" && mkdir -p "$D" && chown postgres:postgres "$D" && chmod 700 "$D"
log "building kith"
go build -o "$D/kith" ./cmd/kith

log "starting etcd and two Patroni nodes"
etcd --name kith-etcd --data-dir "$D/etcd" --listen-client-urls http://127.0.0.1:2379 \
	--advertise-client-urls http://127.0.0.1:2379 --listen-peer-urls http://127.0.0.1:2380 \
	--initial-advertise-peer-urls http://127.0.0.1:2380 --initial-cluster kith-etcd=http://127.0.0.1:2380 \
	>"$D/etcd.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do curl -sf http://127.0.0.1:2379/version >/dev/null && break; sleep 0.2; done
# PostgreSQL refuses to run as root: Patroni runs as postgres.
for n in 1 2; do
	install -o postgres -m 600 "deploy/patroni/patroni$n.yml" "$D/patroni$n.yml"
	runuser -u postgres -- patroni "$D/patroni$n.yml" >"$D/patroni$n.log" 2>&1 &
	pids+=($!)
	eval "runuser${n}_pid=$!"
	# The first node bootstraps the cluster before the second clones it.
	[ $n = 1 ] && for _ in $(seq 120); do curl -sf http://127.0.0.1:8008/primary >/dev/null && break; sleep 0.5; done
done
for _ in $(seq 180); do
	curl -s http://127.0.0.1:8008/cluster | jq -e '.members[] | select(.role == "sync_standby" and .state == "running")' >/dev/null 2>&1 && break
	sleep 0.5
done
curl -s http://127.0.0.1:8008/cluster | jq -c '.members[] | {name, role, state}'

case $VIA in
haproxy)
	haproxy -db -f deploy/patroni/haproxy.cfg >"$D/haproxy.log" 2>&1 &
	pids+=($!)
	sleep 2
	DB="postgres://postgres@127.0.0.1:15432/kith?sslmode=disable&connect_timeout=2"
	;;
*)
	DB="postgres://postgres@127.0.0.1:5433,127.0.0.1:5434/kith?sslmode=disable&connect_timeout=2&target_session_attrs=read-write"
	;;
esac
# The read pool: a standby while there is one, else the primary.
DBREAD="postgres://postgres@127.0.0.1:5434,127.0.0.1:5433/kith?sslmode=disable&connect_timeout=2&target_session_attrs=prefer-standby"
psql -q "$PG1/postgres" -c 'CREATE DATABASE kith'
export KITH_DB=$DB KITH_DATA=$D KITH_SECRET_KEY=$(head -c 32 /dev/urandom | base64)
log "filling the demo district"
"$D/kith" demo -patients 300 >"$D/demo.log" 2>&1
"$D/kith" serve -addr 127.0.0.1:18090 -db-read "$DBREAD" >"$D/kith.out" 2>"$D/kith.log" &
kith_pid=$!
pids+=($kith_pid)
for _ in $(seq 100); do curl -sf "$KITH/readyz" >/dev/null && break; sleep 0.2; done

tok=$(curl -sf -H 'Content-Type: application/json' -d "{\"username\":\"manager\",\"password\":\"$PASS\"}" "$KITH/api/v1/auth/token" | jq -r .token)
ptok=$(curl -sf -H 'Content-Type: application/json' -d "{\"username\":\"psychiatrist\",\"password\":\"$PASS\"}" "$KITH/api/v1/auth/token" | jq -r .token)
mapfile -t patients < <(curl -sf -H "Authorization: Bearer $tok" "$KITH/api/v1/patients?org_unit=C0101&status=managed&limit=60" | jq -r '.items[].id')
log "${#patients[@]} patients to follow up, $WORKERS workers"

# Figures and a search through the read pool come from the standby and
# say as of when.
figs=$(curl -sf -H "Authorization: Bearer $ptok" "$KITH/api/v1/figures?org_unit=D01")
check "figures from the standby say so, with their time ($(echo "$figs" | jq -c '{as_of, standby}'))" \
	[ "$(echo "$figs" | jq -r '.standby')" = true ]
found=$(curl -sf -H "Authorization: Bearer $tok" "$KITH/api/v1/patients?org_unit=C0101&limit=1")
check "a search from the standby says so ($(echo "$found" | jq -c '{as_of, standby}'))" [ "$(echo "$found" | jq -r '.standby')" = true ]

today=$(date -u +%Y-%m-%d)
fu='{"date":"'$today'","mode":"phone","reached":true,"risk_level":0,"psychotic_symptoms":"none","insight":"complete","adverse_reaction":"none","physical_illness":"none","social_function":{"self_care":"good","housework":"good","work":"good","learning":"good","social_contact":"good"},"medication_adherence":"regular"}'
# worker N submits follow-ups one after another until $D/stop exists, and
# writes "start_ms end_ms status id" for each.
worker() {
	local w=$1 i=0 out
	while [ ! -e "$D/stop" ]; do
		local p=${patients[$(((i * WORKERS + w) % ${#patients[@]}))]}
		local t0; t0=$(ms)
		out=$(curl -s -m 15 -w '\n%{http_code}' -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
			-d "$fu" "$KITH/api/v1/patients/$p/follow-ups" || true)
		local code=${out##*$'\n'} id
		id=$(echo "${out%$'\n'*}" | jq -r '.id // empty' 2>/dev/null || true)
		echo "$t0 $(ms) ${code:-000} ${id:-} $p" >>"$D/acks-$w.log"
		i=$((i + 1))
		[ "$code" = 201 ] || sleep 0.2
	done
}
rm -f "$D/stop"
for w in $(seq 0 $((WORKERS - 1))); do worker "$w" & done
sleep 8

primary=$(curl -s http://127.0.0.1:8008/cluster | jq -r '.members[] | select(.role == "leader") | .name')
n=${primary#pg}
pm=$(head -1 "$D/pg$n/postmaster.pid")
eval "ru=\$runuser${n}_pid"
victim="$ru $(pgrep -P "$ru" | tr '\n' ' ')"
log "killing the primary $primary with SIGKILL: Patroni $victim, postmaster $pm and its children"
kids=$(pgrep -P "$pm" | tr '\n' ' ')
kill_ms=$(ms)
kill -9 $victim "$pm" $kids 2>/dev/null || true
# Keep the load on until writes are acknowledged again (and 5 s more), or
# for 40 s at most.
for _ in $(seq 80); do
	cat "$D"/acks-*.log | awk -v k="$kill_ms" '$3 == 201 && $1 > k {found = 1} END {exit !found}' && break
	sleep 0.5
done
sleep 5
touch "$D/stop"
wait_workers() { for j in $(jobs -p); do case " ${pids[*]} " in *" $j "*) ;; *) wait "$j" 2>/dev/null || true ;; esac; done; }
wait_workers
cat "$D"/acks-*.log | sort -n >"$D/acks.log"

acked=$(awk '$3 == 201' "$D/acks.log" | wc -l)
refused=$(awk '$3 != 201' "$D/acks.log" | wc -l)
first_ok=$(awk -v k="$kill_ms" '$3 == 201 && $1 > k {print $2; exit}' "$D/acks.log")
last_ok_before=$(awk -v k="$kill_ms" '$3 == 201 && $2 <= k {t = $2} END {print t}' "$D/acks.log")
serve_again=$(((${first_ok:-$kill_ms} - kill_ms)))
# Requests sent before the kill and answered after it: their commit was in
# flight. Each must be an error or a write that is found below.
inflight=$(awk -v k="$kill_ms" '$1 <= k && $2 > k {printf "%s ", $3}' "$D/acks.log")
new_primary=$(curl -s http://127.0.0.1:8009/cluster 2>/dev/null | jq -r '.members[] | select(.role == "leader") | .name' || true)
[ -z "$new_primary" ] && new_primary=$(curl -s http://127.0.0.1:8008/cluster | jq -r '.members[] | select(.role == "leader") | .name')
NEW="postgres://postgres@127.0.0.1:$((5432 + ${new_primary#pg}))/kith?sslmode=disable"

awk '$3 == 201 {print $4}' "$D/acks.log" >"$D/acked-ids"
ids=$(paste -sd, "$D/acked-ids")
found=$(psql -tA "$NEW" -c "SELECT count(*) FROM follow_ups WHERE id IN ($ids)")
audited=$(psql -tA "$NEW" -c "SELECT count(DISTINCT detail) FROM audit_log WHERE action = 'followup.create' AND outcome = 'allowed' AND detail IN ($(sed "s/.*/'follow-up &'/" "$D/acked-ids" | paste -sd,))")
unacked_found=$(psql -tA "$NEW" -c "SELECT count(*) FROM follow_ups WHERE date = '$today' AND mode = 'phone' AND id NOT IN ($ids) AND created_at >= (SELECT min(created_at) FROM follow_ups WHERE id IN ($ids))")
# Every patient's next due date is that of its latest follow-up: a follow-up
# without its patient's update (or the reverse) would break it.
torn=$(psql -tA "$NEW" -c "SELECT count(*) FROM patients p WHERE p.id IN (SELECT patient_id FROM follow_ups WHERE id IN ($ids))
	AND p.next_due_on <> (SELECT f.next_due_on FROM follow_ups f WHERE f.patient_id = p.id ORDER BY f.date DESC, f.id DESC LIMIT 1)")

echo
echo "primary killed:                 $primary at +8 s of load; new primary: $new_primary"
echo "follow-ups acknowledged (201):  $acked"
echo "  of which in the database:     $found"
echo "  with their audit entry:       $audited"
echo "requests in flight at the kill:  ${inflight:-none} (status of each)"
echo "requests refused/failed:        $refused (errors while there was no primary)"
echo "unacknowledged writes present:  $unacked_found (committed, but the answer was lost with the primary)"
echo "patients half-written:          $torn"
echo "last 201 before the kill:       $((kill_ms - ${last_ok_before:-$kill_ms})) ms before it"
echo "Kith served again after:        $serve_again ms (same process, pid $kith_pid, no restart)"
echo

check "every acknowledged follow-up is in the database ($found of $acked)" [ "$found" = "$acked" ]
check "every acknowledged follow-up has its audit entry ($audited of $acked)" [ "$audited" = "$acked" ]
check "no patient half-written ($torn)" [ "$torn" = 0 ]
check "Kith served a write again within 30 s of the kill (${serve_again} ms)" bash -c "[ -n '$first_ok' ] && [ $serve_again -le 30000 ]"
check "the same Kith process is still running" kill -0 "$kith_pid"
check "some writes were acknowledged after the failover" bash -c "[ \$(awk -v k=$kill_ms '\$3 == 201 && \$1 > k' '$D/acks.log' | wc -l) -gt 0 ]"
check "kith audit verify on the new primary" "$D/kith" audit verify -db "$NEW"
figs=$(curl -sf -H "Authorization: Bearer $ptok" "$KITH/api/v1/figures?org_unit=D01" || true)
check "figures answer after the failover, read from the new primary ($(echo "$figs" | jq -c '{as_of, standby}' 2>/dev/null))" \
	[ "$(echo "$figs" | jq -r '.standby' 2>/dev/null)" = false ]

if [ "$fails" -gt 0 ]; then echo "$fails check(s) failed; logs in $D"; exit 1; fi
echo "all checks passed; logs in $D"
