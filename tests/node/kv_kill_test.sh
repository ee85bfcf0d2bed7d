#!/usr/bin/env bash
# tests/node/kv_kill_test.sh [ROUNDS] — kill -9 the hosted node at random
# moments while a client writes to its TCP key-value service and the ticker
# counts. The client records every write the service acknowledged; after each
# restart every acknowledged write of the previous run (and a sample of older
# ones) must read back, and the first tick must come after the last one
# printed (output is released only once committed, so nothing seen is lost).
set -u
node=${PHANTOMD:-${BUILD:-build}/hosted/phantomd}
rounds=${1:-50}
dir=$(mktemp -d)
trap 'kill -9 $npid 2>/dev/null; rm -rf "$dir"' EXIT
npid=
[ -x "$node" ] || { echo "FAIL: kv_kill/setup: $node not built"; exit 1; }

free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 5<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo "$p"; return 0; fi
	done
	return 1
}
wait_for() {   # wait_for FILE REGEX: 5 s at most
	for _ in $(seq 1 100); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
wait_port() {  # until the service accepts connections (it says "listening"
	# only on first boot; later boots reopen the listener silently)
	for _ in $(seq 1 100); do
		(exec 5<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
ticks() { sed -n 's/^tick \([0-9]*\).*/\1/p' "$1"; }

# The client: PUT r<round>k<j> v<j> one after another; an OK is appended to
# the acknowledged list only after it was read from the socket.
client() {
	local round=$1 j=0 reply
	exec 3<>"/dev/tcp/127.0.0.1/$port" || return
	while :; do
		j=$((j + 1))
		printf 'PUT r%dk%d v%d\n' "$round" "$j" "$j" >&3 2>/dev/null || return
		IFS= read -r -t 5 reply <&3 || return
		[ "${reply%$'\r'}" = OK ] || { echo "bad reply '$reply'" >>"$dir/client.err"; return; }
		echo "r${round}k$j v$j" >>"$dir/acked"
	done
}

port=$(free_port) || { echo "FAIL: kv_kill/setup: no free port"; exit 1; }
img=$dir/node.img
"$node" --image "$img" --create-only --kv-port "$port" --tick-ms 100 >"$dir/create" 2>&1 ||
	{ echo "FAIL: kv_kill/setup: $(cat "$dir/create")"; exit 1; }
: >"$dir/acked"
RANDOM=$$
last=0 bad="" checked=0
for round in $(seq 1 "$rounds"); do
	out=$dir/out$round
	"$node" --image "$img" ${NODE_ARGS:-} <"/dev/null" >"$out" 2>&1 &
	npid=$!
	if ! wait_port; then
		bad="round $round: the service did not come up: $(head -c 300 "$out")"; break
	fi
	# Everything acknowledged before this boot must be there.
	prev=$(grep -c . "$dir/acked")
	if [ "$prev" -gt 0 ]; then
		exec 4<>"/dev/tcp/127.0.0.1/$port"
		while read -r key val; do
			printf 'GET %s\n' "$key" >&4
			IFS= read -r -t 5 reply <&4
			checked=$((checked + 1))
			[ "${reply%$'\r'}" = "VALUE $val" ] || { bad="round $round: acknowledged $key=$val reads back '$reply'"; break; }
		done < <({ grep "^r$((round - 1))k" "$dir/acked"; shuf -n 5 "$dir/acked"; } 2>/dev/null)
		exec 4<&-
		[ -n "$bad" ] && break
	fi
	first=$(ticks "$out" | head -n 1)
	client "$round" &
	cpid=$!
	sleep "0.$((RANDOM % 6 + 2))$((RANDOM % 10))"
	kill -9 "$npid"; wait "$npid" 2>/dev/null
	wait "$cpid" 2>/dev/null
	t=$(ticks "$out")
	if [ -n "$t" ]; then
		first=$(head -n 1 <<<"$t")
		if [ "$first" -le "$last" ]; then bad="round $round: tick $first after last printed $last"; break; fi
		last=$(tail -n 1 <<<"$t")
	fi
done
acked=$(grep -c . "$dir/acked")
if [ -n "$bad" ]; then
	echo "FAIL: kv_kill/acknowledged_writes_survive_kill9: $bad"; exit 1
elif [ -s "$dir/client.err" ]; then
	echo "FAIL: kv_kill/acknowledged_writes_survive_kill9: $(head -1 "$dir/client.err")"; exit 1
elif [ "$acked" -lt "$rounds" ] || [ "$checked" -lt "$rounds" ]; then
	echo "FAIL: kv_kill/acknowledged_writes_survive_kill9: only $acked writes acknowledged, $checked checked"; exit 1
fi
echo "PASS: kv_kill/acknowledged_writes_survive_kill9 ($rounds kills, $acked writes acknowledged, $checked read back, last tick $last)"
