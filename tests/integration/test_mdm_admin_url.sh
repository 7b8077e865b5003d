#!/usr/bin/env bash
# test_mdm_admin_url.sh: `ferry mdm ... --url URL --admin-token-file F` against a running
# `ferry mdm serve --admin-token-file F` on loopback (ephemeral port), with a device played by curl
# and openssl: devices, enqueue (checked by the server), commands, block/unblock, assign/unassign;
# a wrong or missing token is refused, and the admin API is off without a token. The server is
# always stopped at exit; every wait is bounded.
set -euo pipefail
: "${FERRY:?FERRY must name the ferry binary}"
for tool in curl openssl base64; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ferry-mdm-admin-XXXXXX")
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$TMP/server.log" ] && cat "$TMP/server.log" >&2; exit 1; }

start() { # start [serve options...]
    rm -f "$TMP/url"
    "$FERRY" mdm serve --listen 127.0.0.1:0 --db "$TMP/mdm.db" --ready-file "$TMP/url" "$@" \
        2>"$TMP/server.log" &
    SERVER_PID=$!
    for _ in $(seq 1 100); do [ -s "$TMP/url" ] && break; sleep 0.1; done
    [ -s "$TMP/url" ] || fail "server did not start"
    BASE=$(cat "$TMP/url")
}
stop() {
    kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || fail "server exited $?"; SERVER_PID=
}

umask 077
head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$TMP/token"
echo "wrong-token-wrong-token" >"$TMP/bad-token"
start --admin-token-file "$TMP/token"
ADMIN=(--url "$BASE" --admin-token-file "$TMP/token")

# a device enrolls (curl + openssl play it)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=dev" \
    -keyout "$TMP/dev.key" -out "$TMP/dev.crt" 2>/dev/null
UDID=ADMIN-TEST-DEVICE-1
put() { # put PATH CTYPE FILE -> status line then body
    local sig
    sig=$(openssl cms -sign -binary -in "$3" -signer "$TMP/dev.crt" -inkey "$TMP/dev.key" -outform DER | base64 -w0)
    curl -s -m 30 -o "$TMP/resp" -w '%{http_code}\n' -X PUT -H "Content-Type: $2" -H "Mdm-Signature: $sig" \
        --data-binary "@$3" "$BASE$1"
    cat "$TMP/resp"
}
cat >"$TMP/auth" <<EOF
<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>MessageType</key><string>Authenticate</string>
<key>Topic</key><string>com.apple.mgmt.External.t</string><key>UDID</key><string>$UDID</string></dict></plist>
EOF
cat >"$TMP/tok" <<EOF
<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>MessageType</key><string>TokenUpdate</string>
<key>Topic</key><string>com.apple.mgmt.External.t</string><key>UDID</key><string>$UDID</string>
<key>PushMagic</key><string>M</string><key>Token</key><data>AAEC</data></dict></plist>
EOF
cat >"$TMP/idle" <<EOF
<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>Status</key><string>Idle</string>
<key>UDID</key><string>$UDID</string></dict></plist>
EOF
C=application/x-apple-aspen-mdm-checkin
[ "$(put /checkin $C "$TMP/auth" | head -1)" = 200 ] || fail "Authenticate"
[ "$(put /checkin $C "$TMP/tok" | head -1)" = 200 ] || fail "TokenUpdate"

# devices over --url
"$FERRY" mdm devices "${ADMIN[@]}" --json >"$TMP/devices.json"
grep -q "\"udid\":\"$UDID\"" "$TMP/devices.json" || fail "devices --url: $(cat "$TMP/devices.json")"
grep -q '"state":"enrolled"' "$TMP/devices.json" || fail "state over --url"

# enqueue over --url, fetched by the device; commands over --url
uuid=$("$FERRY" mdm enqueue "${ADMIN[@]}" $UDID InstallApplication Identifier=com.example.app ManagementFlags=5)
[ ${#uuid} = 36 ] || fail "enqueue --url printed '$uuid'"
out=$(put /mdm 'application/x-apple-aspen-mdm; charset=UTF-8' "$TMP/idle")
grep -q "$uuid" <<<"$out" || fail "command queued over --url not delivered: $out"
"$FERRY" mdm commands "${ADMIN[@]}" $UDID --json | grep -q "\"command_uuid\":\"$uuid\"" || fail "commands --url"

# block/unblock over --url
"$FERRY" mdm block "${ADMIN[@]}" $UDID 2>/dev/null
out=$(put /mdm 'application/x-apple-aspen-mdm; charset=UTF-8' "$TMP/idle")
[ "$(head -1 <<<"$out")" = 403 ] || fail "block --url: $out"
grep -q com.apple.unrecognized.device <<<"$out" || fail "block --url body: $out"
"$FERRY" mdm unblock "${ADMIN[@]}" $UDID 2>/dev/null
[ "$(put /mdm 'application/x-apple-aspen-mdm; charset=UTF-8' "$TMP/idle" | head -1)" = 200 ] || fail "unblock --url"

# assign/unassign over --url
"$FERRY" mdm assign "${ADMIN[@]}" F2LADMIN001 --is-supervised 2>/dev/null
code=$(curl -s -m 30 -o "$TMP/prof" -w '%{http_code}' "$BASE/ade/profile?serial=F2LADMIN001")
[ "$code" = 200 ] || fail "assign --url: $code"
"$FERRY" mdm assign "${ADMIN[@]}" F2LADMIN001 --unassign
code=$(curl -s -m 30 -o /dev/null -w '%{http_code}' "$BASE/ade/profile?serial=F2LADMIN001")
[ "$code" = 404 ] || fail "unassign --url: $code"

# refusals: wrong token, no token, unsupported command (checked locally and by the server)
set +e
"$FERRY" mdm devices --url "$BASE" --admin-token-file "$TMP/bad-token" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc = 1 ] && grep -q 401 "$TMP/err" || fail "wrong token: rc=$rc $(cat "$TMP/err")"
"$FERRY" mdm devices --url "$BASE" >/dev/null 2>&1; [ $? = 2 ] || fail "--url without a token file"
"$FERRY" mdm block "${ADMIN[@]}" NO-SUCH-DEVICE >/dev/null 2>&1; [ $? = 1 ] || fail "block unknown over --url"
set -e
code=$(curl -s -m 30 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat "$TMP/token")" \
    -X POST -H 'Content-Type: application/xml' --data-binary 'garbage body' "$BASE/admin/enqueue")
[ "$code" = 400 ] || fail "malformed admin body: $code"
stop

# without --admin-token-file the admin API is off
start
code=$(curl -s -m 30 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat "$TMP/token")" \
    "$BASE/admin/devices")
[ "$code" = 404 ] || fail "admin API should be off: $code"
stop
echo ok
