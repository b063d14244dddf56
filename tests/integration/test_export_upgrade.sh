#!/bin/bash
# nacct export started on the previous layout of the exporter's state: its
# exported-state hash (nacct_export) and its journal (nacct_export_jrnl)
# with a message that went out but was not committed, made here with
# bpftool as that layout was (keyed by this build's flow key: a state left
# by a build from before the key's tunnel word belongs to an attachment
# this build refuses as incompatible, so only the layout is converted).  The exporter converts them (one rename publishes the
# new nacct_export; the old journal goes), commits the message in flight,
# and sends only what neither had exported: the records of the flow sum
# to the generator's count minus the exported totals, the sequence
# numbers go on from the old journal's, and a restart repeats nothing.
source "$(dirname "$0")/../lib.sh"
t_need_root
for tool in bpftool jq python3; do
	command -v $tool >/dev/null || { t_skip export_upgrade "$tool not installed"; exit 0; }
done
UDPSEND=$ROOT/.output/udpsend
[ -x "$UDPSEND" ] || { t_skip export_upgrade "build .output/udpsend (make test-integration)"; exit 0; }
t_setup_pair || { t_fail setup "cannot create netns pair"; exit 1; }
nacct_b attach "$IF_B" --mode generic >/dev/null 2>&1 || { t_fail attach "nacct attach failed"; exit 1; }
t_drop_udp b 9000 || { t_fail setup "nft"; exit 1; }
DIR=$(ls -d /sys/fs/bpf/nacct/"$IF_B"*:ns* | head -n1)
sent=$(in_a "$UDPSEND" 198.18.0.2 9000 100 80 41000)
sleep 0.3

# the flow's key and incarnation, from the flow map itself
bpftool -j map dump pinned "$DIR/nacct_flows" >"$T_TMP/flows.json"
read -r KEY FIRST PKTS <<<"$(python3 - "$T_TMP/flows.json" <<'PY'
import json, struct, sys
for e in json.load(open(sys.argv[1])):
    k = bytes(int(b, 16) for b in e["key"])
    if k[36] != 17 or struct.unpack("!H", k[32:34])[0] not in (41000, 9000):
        continue
    # one value per CPU (--flow-layout percpu) or one for all (shared)
    cps = [c["value"] for c in e["values"]] if "values" in e else [e["value"]]
    vals = [bytes(int(b, 16) for b in c) for c in cps]
    first = min(v for v in (struct.unpack("<Q", x[32:40])[0] for x in vals) if v)
    pkts = sum(struct.unpack("<Q", x[0:8])[0] for x in vals)
    print(" ".join("%02x" % b for b in k).replace(" ", ","), first, pkts)
PY
)"
t_check "the generator's flow is in the map" "$sent" "$PKTS"
# the previous build: 30 packets exported, then a message (seq 1000, its
# 3rd; 3 records) with the flow's new total 55 sent and not committed
python3 - "$KEY" "$FIRST" >"$T_TMP/old.hex" <<'PY'
import struct, sys
key = bytes(int(b, 16) for b in sys.argv[1].split(","))
first = int(sys.argv[2])
state = struct.pack("<8Q", 30, 0, 30 * 122, 0, first, 0, first, 0)
mm = bytearray(64)
struct.pack_into("<I", mm, 56, 300)                  # msg_len: the kernel's, all of it
item = key + struct.pack("<4QIB3x", 55, 55 * 122, first, first + 1, 0, 0)
jrnl = struct.pack("<4I2Q2I", 0x6e78706a, 1, 1, 1, 1000, 2, 300, 3) + bytes(mm) + item
# the old journal: header, then 1024 items of (key, 4 u64, u32, u8, 3 pad)
jrnl += bytes(104 + 1024 * (len(key) + 40) - len(jrnl))
print(" ".join("%02x" % b for b in key))
print(" ".join("%02x" % b for b in state))
print(" ".join("%02x" % b for b in jrnl))
PY
KEYSZ=$(( $(sed -n 1p "$T_TMP/old.hex" | wc -w) ))
JRNLSZ=$(( $(sed -n 3p "$T_TMP/old.hex" | wc -w) ))
bpftool map create "$DIR/nacct_export" type hash key "$KEYSZ" value 64 entries 1024 name nacct_export flags 1 &&
	bpftool map update pinned "$DIR/nacct_export" key hex $(sed -n 1p "$T_TMP/old.hex") \
		value hex $(sed -n 2p "$T_TMP/old.hex") &&
	bpftool map create "$DIR/nacct_export_jrnl" type array key 4 value "$JRNLSZ" entries 1 \
		name nacct_export_jr flags 1024 &&
	bpftool map update pinned "$DIR/nacct_export_jrnl" key hex 00 00 00 00 \
		value hex $(sed -n 3p "$T_TMP/old.hex") ||
	{ t_fail setup "bpftool could not make the old state"; exit 1; }

export_run() { # seconds: a JSON exporter, then SIGTERM
	nsenter --net=/run/netns/"$NS_B" "$NACCT" export "$IF_B" --json --active-timeout 1 \
		--idle-timeout 60 >>"$T_TMP/rec.jsonl" 2>>"$T_TMP/export.log" &
	EXP=$!
	t_cleanup_add "kill -9 $EXP"
	sleep "$1"
	kill -TERM $EXP
	wait $EXP
}
export_run 2.5
t_check "the exporter on the old state exits cleanly" 0 $?
t_check "the old state is converted" 1 "$(grep -c "previous build's state converted (1 exported flows)" "$T_TMP/export.log")"
t_check "the old journal's message in flight is committed" 1 \
	"$(grep -c 'message 2 (3 records) was sent before the restart' "$T_TMP/export.log")"
t_check "nacct_export is the new array" "array" "$(bpftool -j map show pinned "$DIR/nacct_export" | jq -r .type)"
t_check "the old journal is gone" "" "$(ls "$DIR" | grep -x nacct_export_jrnl)"
flow() { jq -s 'map(select(.type == "flow" and .sport == 41000)) | '"$1" "$T_TMP/rec.jsonl"; }
t_check "records of the flow: what neither exported (sent - 55)" $((sent - 55)) "$(flow 'map(.packets) | add // 0')"
# (a round's stats lines end its message: those before the first flow
# record are records of earlier messages)
t_check "sequence numbers go on after the old journal's: 1000 + 3 + records before" \
	"$(jq -s '1003 + (map(.type == "flow") | index(true))' "$T_TMP/rec.jsonl")" \
	"$(jq -s 'map(select(.type == "flow") | .seq) | min' "$T_TMP/rec.jsonl")"
n1=$(wc -l <"$T_TMP/rec.jsonl")
c1=$(flow 'length')
export_run 1.5
t_check "a restart converts nothing" 1 "$(grep -c 'state converted' "$T_TMP/export.log")"
t_check "... and repeats no flow record" "$c1" "$(flow 'length')"
t_log "records: $n1 lines, then $(wc -l <"$T_TMP/rec.jsonl")"
[ "$T_FAILED" = 0 ] || sed 's/^/# /' "$T_TMP/export.log" "$T_TMP/rec.jsonl" | head -30
exit $T_FAILED
