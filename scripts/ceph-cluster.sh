#!/bin/bash
# ceph-cluster.sh: a private single-node Ceph cluster for ferry's tests and benchmarks (fleet-store.md 2):
# one monitor, 3 bluestore OSDs on sparse files, pools with 3 replicas, and radosgw (S3) on 127.0.0.1
# with a fixed test user. Everything lives under DIR (config, data, logs, pids, sockets); nothing is
# installed and nothing outside DIR is written. Every wait is bounded.
#
#   scripts/ceph-cluster.sh start DIR    # prints the S3 settings (eval-able) when ready
#   scripts/ceph-cluster.sh status DIR   # exit 0 when the monitor answers and 3 OSDs are up
#   scripts/ceph-cluster.sh stop DIR     # SIGTERM every daemon, SIGKILL after 2 s
#   scripts/ceph-cluster.sh kill-osd DIR N   # SIGKILL osd.N (tests: lose a storage node)
#
# Ports: FERRY_CEPH_MON_PORT (default 3300; v1 is +3489, i.e. 6789 by default) and FERRY_CEPH_RGW_PORT
# (default 7480), so that several clusters can run on one machine. Packages: ceph-mon ceph-osd
# ceph-common radosgw (make deps).
set -u

ACCESS_KEY=FERRYTESTACCESSKEY000
SECRET_KEY=ferry-test-secret-0123456789abcdefghijkl
MON_PORT=${FERRY_CEPH_MON_PORT:-3300}
MON_V1_PORT=$((MON_PORT + 3489))
RGW_PORT=${FERRY_CEPH_RGW_PORT:-7480}

die() { echo "ceph-cluster: $*" >&2; exit 1; }

usage() { echo "usage: $0 start|stop|status DIR | kill-osd DIR N" >&2; exit 2; }

[ $# -ge 2 ] || usage
CMD=$1
DIR=$2
case "$DIR" in /*) ;; *) DIR=$(pwd)/$DIR ;; esac
export CEPH_CONF=$DIR/ceph.conf
# A running cluster's ports are those of its config, whatever the environment says now.
if [ "$1" != start ] && [ -f "$CEPH_CONF" ]; then
    RGW_PORT=$(sed -n 's/^rgw frontends = .*endpoint=127.0.0.1:\([0-9]*\).*/\1/p' "$CEPH_CONF")
fi

# ceph commands hang when the monitor is not reachable: bound each one.
c() { timeout 20 ceph --connect-timeout 10 "$@"; }

need_tools() {
    for t in ceph-mon ceph-osd ceph radosgw radosgw-admin rados curl timeout; do
        command -v $t >/dev/null || die "$t is missing: install ceph-mon ceph-osd ceph-common radosgw (make deps)"
    done
}

# wait_for SECONDS DESCRIPTION COMMAND...: polls every 0.2 s.
wait_for() {
    local secs=$1 what=$2
    shift 2
    local end=$((SECONDS + secs))
    while ! "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $end ] || { echo "ceph-cluster: timed out after ${secs}s waiting for $what (logs in $DIR/log)" >&2; return 1; }
        sleep 0.2
    done
}

write_conf() {
    cat >"$CEPH_CONF" <<EOF
[global]
fsid = $(cat /proc/sys/kernel/random/uuid)
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = false
mon host = [v2:127.0.0.1:$MON_PORT,v1:127.0.0.1:$MON_V1_PORT]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
osd crush chooseleaf type = 0
osd pool default size = 3
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
mon mgr mkfs grace = 86400
# One host: a killed OSD must be marked down on its peers' reports (they share the host, which by
# default counts as a single reporter, and then only the 900 s report timeout would do it).
mon osd reporter subtree level = osd
mon osd min down reporters = 1
osd heartbeat interval = 1
osd heartbeat grace = 4
pid file = $DIR/run/\$name.pid
admin socket = $DIR/run/\$name.asok
log file = $DIR/log/\$name.log
run dir = $DIR/run

[mon]
# Without this the monitor binds the default ports whatever "mon host" says.
public addrv = [v2:127.0.0.1:$MON_PORT,v1:127.0.0.1:$MON_V1_PORT]
paxos propose interval = 0.05
paxos min wait = 0.01
mon data = $DIR/mon.\$id

[osd]
osd objectstore = bluestore
bluestore block create = true
bluestore block size = 4294967296
bluestore fsck on mkfs = false
bdev aio poll ms = 10
osd memory target = 939524096
bluestore cache size = 134217728
osd data = $DIR/osd.\$id

[client.rgw.ferry]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
ms mon client mode = crc
client mount timeout = 30
rgw data = $DIR/rgw
EOF
}

osds_up() { c osd stat 2>/dev/null | grep -q "3 up"; }

rgw_answers() { curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$RGW_PORT/"; }

print_env() {
    echo "export FERRY_S3_ENDPOINT=http://127.0.0.1:$RGW_PORT"
    echo "export AWS_ACCESS_KEY_ID=$ACCESS_KEY"
    echo "export AWS_SECRET_ACCESS_KEY=$SECRET_KEY"
}

start() {
    need_tools
    [ ! -e "$DIR/ceph.conf" ] || die "$DIR already holds a cluster (stop it and remove the folder first)"
    mkdir -p "$DIR/run" "$DIR/log" "$DIR/rgw" "$DIR/mon.a" || die "cannot create $DIR"
    write_conf
    ceph-mon --id a --mkfs --keyring /dev/null >"$DIR/log/mkfs-mon.out" 2>&1 || die "ceph-mon --mkfs failed (see $DIR/log)"
    ceph-mon --id a || die "ceph-mon failed to start (see $DIR/log)"
    wait_for 30 "the monitor" c mon stat || return 1
    for i in 0 1 2; do
        local id
        id=$(c osd create) || die "ceph osd create failed"
        c osd crush add "osd.$id" 1 root=default host=localhost >/dev/null 2>&1 || die "crush add osd.$id failed"
        mkdir -p "$DIR/osd.$id"
        timeout 60 ceph-osd --id "$id" --mkfs --no-mon-config >"$DIR/log/mkfs-osd.$id.out" 2>&1 ||
            die "ceph-osd --mkfs of osd.$id failed (see $DIR/log)"
        ceph-osd --id "$id" 2>>"$DIR/log/start-osd.$id.out" || die "ceph-osd $id failed to start (see $DIR/log)"
    done
    wait_for 60 "3 OSDs up" osds_up || return 1
    c osd pool create ferry 8 8 >/dev/null 2>&1 || die "cannot create pool ferry"
    c osd pool application enable ferry ferry >/dev/null 2>&1
    wait_for 60 "a writable pool" bash -c "echo probe | timeout 10 rados -p ferry put _probe -" || return 1
    radosgw -n client.rgw.ferry || die "radosgw failed to start"
    wait_for 60 "radosgw on 127.0.0.1:$RGW_PORT" rgw_answers || return 1
    timeout 30 radosgw-admin user create --uid ferry --display-name ferry --access-key "$ACCESS_KEY" \
        --secret "$SECRET_KEY" >"$DIR/log/user.out" 2>&1 || die "radosgw-admin user create failed"
    print_env
}

pids() { cat "$DIR"/run/*.pid 2>/dev/null; }

stop() {
    [ -d "$DIR/run" ] || return 0
    local p live all
    all=$(pids)
    for p in $all; do kill -TERM "$p" 2>/dev/null; done
    for _ in $(seq 20); do
        live=""
        for p in $all; do kill -0 "$p" 2>/dev/null && live="$live $p"; done
        [ -n "$live" ] || break
        sleep 0.1
    done
    for p in $all; do kill -KILL "$p" 2>/dev/null; done
    # Wait (bounded) until they are gone, so that the caller may remove DIR.
    for _ in $(seq 50); do
        live=""
        for p in $all; do kill -0 "$p" 2>/dev/null && live="$live $p"; done
        [ -n "$live" ] || break
        sleep 0.1
    done
    # Daemons remove their pid files on a clean exit only; the SIGKILLed ones leave theirs.
    rm -f "$DIR"/run/*.pid
    return 0
}

status() {
    [ -f "$CEPH_CONF" ] || die "no cluster in $DIR"
    c -s || return 1
    osds_up && rgw_answers && print_env
}

case "$CMD" in
start) start || { stop; exit 1; } ;;
stop) stop ;;
status) status ;;
kill-osd)
    [ $# -eq 3 ] || usage
    p=$(cat "$DIR/run/osd.$3.pid" 2>/dev/null) || die "no pid file for osd.$3"
    kill -KILL "$p"
    ;;
*) usage ;;
esac
