#!/usr/bin/env bash
# test_mdm_serve.sh: `ferry mdm serve` end to end on loopback (127.0.0.1, ephemeral port), with a
# device played by curl and openssl (Mdm-Signature = base64 detached CMS made by `openssl cms`), and
# the server administered by `ferry mdm devices|enqueue|commands|block|unblock|assign`. The server is
# always stopped at exit; every wait is bounded.
set -euo pipefail
: "${FERRY:?FERRY must name the ferry binary}"
for tool in curl openssl base64; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ferry-mdm-XXXXXX")
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$TMP/server.log" ] && cat "$TMP/server.log" >&2; exit 1; }

DB="$TMP/mdm.db"
export FERRY_MDM_DB="$DB"
"$FERRY" mdm serve --listen 127.0.0.1:0 --db "$DB" --unknown-device 401 --ready-file "$TMP/url" \
    2>"$TMP/server.log" &
SERVER_PID=$!
for _ in $(seq 1 100); do [ -s "$TMP/url" ] && break; sleep 0.1; done
[ -s "$TMP/url" ] || fail "server did not start"
BASE=$(cat "$TMP/url")
case "$BASE" in http://127.0.0.1:*) ;; *) fail "unexpected base URL $BASE" ;; esac

# A device identity (EC P-256, self-signed), and a forger's.
mkid() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=$1" \
        -keyout "$TMP/$1.key" -out "$TMP/$1.crt" 2>/dev/null
}
mkid dev
mkid forger
UDID=00008110-0011223344556677

# put URL CTYPE BODYFILE [IDENTITY]: prints the HTTP status on the first line, then the body.
put() {
    local url=$1 ctype=$2 body=$3 who=${4:-} hdr=()
    if [ -n "$who" ]; then
        local sig
        sig=$(openssl cms -sign -binary -in "$body" -signer "$TMP/$who.crt" -inkey "$TMP/$who.key" \
            -outform DER | base64 -w0)
        hdr=(-H "Mdm-Signature: $sig")
    fi
    curl -s -m 30 -o "$TMP/resp" -w '%{http_code}\n' -X PUT -H "Content-Type: $ctype" "${hdr[@]}" \
        --data-binary "@$body" "$url"
    cat "$TMP/resp"
}
CHECKIN=application/x-apple-aspen-mdm-checkin
CMD='application/x-apple-aspen-mdm; charset=UTF-8'
msg() { # msg FILE KEY VALUE ... (string values; "data:" prefix for base64 data)
    local f=$1; shift
    { echo '<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict>'
      while [ $# -gt 0 ]; do
          case "$2" in
              data:*) echo "<key>$1</key><data>${2#data:}</data>" ;;
              *) echo "<key>$1</key><string>$2</string>" ;;
          esac
          shift 2
      done
      echo '</dict></plist>'; } >"$f"
}
TOPIC=com.apple.mgmt.External.ferry-test
msg "$TMP/auth" MessageType Authenticate Topic $TOPIC UDID $UDID SerialNumber F2LTEST0001 \
    ProductName iPhone15,2 OSVersion 17.5
msg "$TMP/token" MessageType TokenUpdate Topic $TOPIC UDID $UDID PushMagic MAGIC-1 Token data:AAECAwQ=
msg "$TMP/idle" Status Idle UDID $UDID

# 1. a new device checks in: Authenticate, TokenUpdate accepted
out=$(put "$BASE/checkin" $CHECKIN "$TMP/auth" dev); [ "$(head -1 <<<"$out")" = 200 ] || fail "Authenticate: $out"
out=$(put "$BASE/checkin" $CHECKIN "$TMP/token" dev); [ "$(head -1 <<<"$out")" = 200 ] || fail "TokenUpdate: $out"
"$FERRY" mdm devices --json >"$TMP/devices.json"
grep -q "\"udid\":\"$UDID\"" "$TMP/devices.json" || fail "device not listed: $(cat "$TMP/devices.json")"
grep -q '"state":"enrolled"' "$TMP/devices.json" || fail "device not enrolled"

# 2. a command queued, fetched, acknowledged, not re-sent
uuid=$("$FERRY" mdm enqueue $UDID InstallApplication Identifier=com.example.app ManagementFlags=5)
[ ${#uuid} = 36 ] || fail "enqueue printed '$uuid'"
out=$(put "$BASE/mdm" "$CMD" "$TMP/idle" dev)
[ "$(head -1 <<<"$out")" = 200 ] || fail "Idle: $out"
grep -q "$uuid" <<<"$out" || fail "Idle did not return the command: $out"
grep -q '<integer>5</integer>' <<<"$out" || fail "ManagementFlags missing: $out"
msg "$TMP/ack" Status Acknowledged UDID $UDID CommandUUID "$uuid"
out=$(put "$BASE/mdm" "$CMD" "$TMP/ack" dev)
[ "$out" = 200 ] || fail "Acknowledged should end the session with a zero-byte body: '$out'"
out=$(put "$BASE/mdm" "$CMD" "$TMP/idle" dev)
[ "$out" = 200 ] || fail "acknowledged command re-sent: $out"
"$FERRY" mdm commands $UDID --json | grep -q '"status":"Acknowledged"' || fail "result not stored"

# 3. unsigned and forged messages are refused without the unenroll body
out=$(put "$BASE/mdm" "$CMD" "$TMP/idle")
[ "$(head -1 <<<"$out")" = 403 ] || fail "unsigned: $out"
grep -q unrecognized <<<"$out" && fail "unsigned message got the unenroll body"
out=$(put "$BASE/mdm" "$CMD" "$TMP/idle" forger)
[ "$(head -1 <<<"$out")" = 403 ] || fail "forged: $out"
grep -q unrecognized <<<"$out" && fail "forged message got the unenroll body"

# 4. block -> 403 with the com.apple.unrecognized.device body; 401 form; unblock
"$FERRY" mdm block $UDID 2>/dev/null
out=$(put "$BASE/mdm" "$CMD" "$TMP/idle" dev)
[ "$(head -1 <<<"$out")" = 403 ] || fail "blocked: $out"
grep -q '"code":"com.apple.unrecognized.device"' <<<"$out" || fail "403 body: $out"
"$FERRY" mdm block $UDID --status 401 2>/dev/null
out=$(put "$BASE/mdm" "$CMD" "$TMP/idle" dev); [ "$(head -1 <<<"$out")" = 401 ] || fail "401 block: $out"
"$FERRY" mdm unblock $UDID 2>/dev/null
out=$(put "$BASE/mdm" "$CMD" "$TMP/idle" dev); [ "$(head -1 <<<"$out")" = 200 ] || fail "unblock: $out"

# 5. restore decision: a TokenUpdate with no Authenticate before it (S2)
"$FERRY" mdm block $UDID --status 403 --restore-only 2>/dev/null
out=$(put "$BASE/checkin" $CHECKIN "$TMP/token" dev)
[ "$(head -1 <<<"$out")" = 403 ] || fail "restored TokenUpdate: $out"
"$FERRY" mdm devices --json | grep -q '"last_reply":403' || fail "decision not recorded"
"$FERRY" mdm unblock $UDID 2>/dev/null

# 6. unknown device -> the configured decision (401 here)
msg "$TMP/stranger" MessageType TokenUpdate Topic $TOPIC UDID STRANGER-1 PushMagic M Token data:AAEC
out=$(put "$BASE/checkin" $CHECKIN "$TMP/stranger" dev); [ "$(head -1 <<<"$out")" = 401 ] || fail "unknown: $out"

# 7. malformed bodies get 4xx and the server keeps serving
printf 'not a plist at all' >"$TMP/bad1"
printf '<?xml version="1.0"?><plist version="1.0"><dict><key>MessageType</key>' >"$TMP/bad2"
for b in bad1 bad2; do
    out=$(put "$BASE/checkin" $CHECKIN "$TMP/$b" dev); code=$(head -1 <<<"$out")
    case "$code" in 4??) ;; *) fail "malformed $b got $code" ;; esac
done
head -c 2000000 /dev/zero >"$TMP/huge"
out=$(put "$BASE/checkin" $CHECKIN "$TMP/huge"); code=$(head -1 <<<"$out")
[ "$code" = 413 ] || fail "oversized body got $code"
out=$(put "$BASE/checkin" $CHECKIN "$TMP/auth" dev); [ "$(head -1 <<<"$out")" = 200 ] || fail "server stopped serving"

# 8. device assignment: registered serial -> ADE profile; others -> 404; MachineInfo -> enrollment
"$FERRY" mdm assign F2LADE00001 --is-supervised --is-mandatory --not-mdm-removable \
    --await-device-configured --json >"$TMP/assign.json"
grep -q '"is_mdm_removable":false' "$TMP/assign.json" || fail "assign --json: $(cat "$TMP/assign.json")"
code=$(curl -s -m 30 -o "$TMP/prof" -w '%{http_code}' "$BASE/ade/profile?serial=F2LADE00001")
[ "$code" = 200 ] || fail "ADE profile: $code"
grep -q '<key>is_supervised</key><true/>' "$TMP/prof" || grep -A1 is_supervised "$TMP/prof" | grep -q true || fail "profile: $(cat "$TMP/prof")"
grep -q "$BASE/ade/enroll" "$TMP/prof" || fail "profile url"
code=$(curl -s -m 30 -o /dev/null -w '%{http_code}' "$BASE/ade/profile?serial=NOPE0000")
[ "$code" = 404 ] || fail "unregistered serial: $code"
msg "$TMP/mi" UDID ADE-DEVICE-1 SERIAL F2LADE00001 PRODUCT iPhone15,2
openssl cms -sign -nodetach -binary -in "$TMP/mi" -signer "$TMP/dev.crt" -inkey "$TMP/dev.key" \
    -outform DER -out "$TMP/mi.p7"
code=$(curl -s -m 30 -o "$TMP/enroll" -w '%{http_code}' -H 'Content-Type: application/pkcs7-signature' \
    --data-binary "@$TMP/mi.p7" "$BASE/ade/enroll")
[ "$code" = 200 ] || fail "enrollment profile: $code $(cat "$TMP/enroll")"
grep -q 'com.apple.mdm' "$TMP/enroll" || fail "no MDM payload"
"$FERRY" mdm assign F2LADE00001 --unassign
code=$(curl -s -m 30 -o /dev/null -w '%{http_code}' "$BASE/ade/profile?serial=F2LADE00001")
[ "$code" = 404 ] || fail "unassigned serial: $code"

# 9. bad usage
set +e
"$FERRY" mdm block >/dev/null 2>&1; [ $? = 2 ] || fail "block without UDID"
"$FERRY" mdm enqueue $UDID EraseDevice >/dev/null 2>&1; [ $? = 2 ] || fail "unsupported command accepted"
"$FERRY" mdm block NO-SUCH-DEVICE >/dev/null 2>&1; [ $? = 1 ] || fail "block of unknown device"
set -e

# 10. stop: SIGTERM ends the server cleanly
kill -TERM "$SERVER_PID"
wait "$SERVER_PID"; rc=$?
SERVER_PID=
[ "$rc" = 0 ] || fail "server exited $rc"

# 11. HTTPS (--tls-cert/--tls-key), same database: the enrolled device checks in over TLS
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1" -keyout "$TMP/tls.key" -out "$TMP/tls.crt" 2>/dev/null
rm -f "$TMP/url"
"$FERRY" mdm serve --listen 127.0.0.1:0 --db "$DB" --tls-cert "$TMP/tls.crt" --tls-key "$TMP/tls.key" \
    --ready-file "$TMP/url" 2>"$TMP/server.log" &
SERVER_PID=$!
for _ in $(seq 1 100); do [ -s "$TMP/url" ] && break; sleep 0.1; done
[ -s "$TMP/url" ] || fail "TLS server did not start"
BASE=$(cat "$TMP/url")
case "$BASE" in https://127.0.0.1:*) ;; *) fail "unexpected TLS base URL $BASE" ;; esac
# (step 7 re-sent Authenticate: the device completes that enrollment with a TokenUpdate first)
sig=$(openssl cms -sign -binary -in "$TMP/token" -signer "$TMP/dev.crt" -inkey "$TMP/dev.key" -outform DER | base64 -w0)
code=$(curl -s -m 30 --cacert "$TMP/tls.crt" -o /dev/null -w '%{http_code}' -X PUT -H "Content-Type: $CHECKIN" \
    -H "Mdm-Signature: $sig" --data-binary "@$TMP/token" "$BASE/checkin")
[ "$code" = 200 ] || fail "TokenUpdate over HTTPS: $code"
sig=$(openssl cms -sign -binary -in "$TMP/idle" -signer "$TMP/dev.crt" -inkey "$TMP/dev.key" -outform DER | base64 -w0)
code=$(curl -s -m 30 --cacert "$TMP/tls.crt" -o /dev/null -w '%{http_code}' -X PUT -H "Content-Type: $CMD" \
    -H "Mdm-Signature: $sig" --data-binary "@$TMP/idle" "$BASE/mdm")
[ "$code" = 200 ] || fail "Idle over HTTPS: $code"
kill -TERM "$SERVER_PID"
wait "$SERVER_PID"; rc=$?
SERVER_PID=
[ "$rc" = 0 ] || fail "TLS server exited $rc"
echo "ok"
