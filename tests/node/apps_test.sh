#!/usr/bin/env bash
# tests/node/apps_test.sh — the node's default apps end to end in phantomd:
# the object shell (vm/apps/shell.pasm) driven through a FIFO on stdin, and
# the key-value service (vm/apps/kv.pasm) over TCP with bash's /dev/tcp;
# what either confirmed (a committed shell line, a KV "OK") survives kill -9,
# because net.write is output-committed like the console (no settle sleep).
# Usage: apps_test.sh  (PHANTOMD=path to the binary)
set -u
node=${PHANTOMD:-${BUILD:-build}/hosted/phantomd}
dir=$(mktemp -d)
pid=""
cleanup() {
	exec 3<&- 4>&- 2>/dev/null
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
pass() { echo "PASS: apps/$1"; }
fail() { echo "FAIL: apps/$1: $2"; failed=1; }
failed=0

[ -x "$node" ] || { echo "FAIL: apps/setup: $node not built"; exit 1; }

# A port nobody listens on now (racy only against other programs).
free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 5<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then
			echo "$p"; return 0
		fi
	done
	return 1
}
# wait_for FILE REGEX: until a line of FILE matches (5 s at most).
wait_for() {
	for _ in $(seq 1 100); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
# start OUT: phantomd on $img reading the FIFO, fd 4 its writing end.
start() {
	rm -f "$dir/in"; mkfifo "$dir/in"
	"$node" --image "$img" --arena-size 16M --device-size 64M \
		--tick-ms 100000 --kv-port "$port" <"$dir/in" >"$1" 2>"$1.err" &
	pid=$!
	exec 4>"$dir/in"
}
crash() { kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=""; exec 4>&-; }
sh_cmd() { printf '%s\n' "$1" >&4; }
# kv REQUEST: one request line on fd 3, the reply line in $reply.
kv() {
	reply=""
	printf '%s\n' "$1" >&3
	IFS= read -r -t 5 reply <&3
}
kv_open() {
	exec 3<>"/dev/tcp/127.0.0.1/$port"
}

port=$(free_port) || { echo "FAIL: apps/setup: no free port"; exit 1; }
img=$dir/node.img

# 1. The shell: every command, on a fresh image.
out=$dir/out1
start "$out"
if ! wait_for "$out" '^shell: ready' || ! wait_for "$out" "^kv: listening on port $port\$"; then
	fail boot_starts_apps "$(cat "$out" "$out.err")"
else
	pass boot_starts_apps
fi
sh_cmd "help"
sh_cmd "set greeting hello persistent world"
sh_cmd "get greeting"
sh_cmd "new box"
sh_cmd "new box"
sh_cmd "show box"
sh_cmd "set doomed x"
sh_cmd "rm doomed"
sh_cmd "get doomed"
sh_cmd "rm doomed"
sh_cmd "ls"
sh_cmd "frobnicate now"
sh_cmd "set onlyname"
sh_cmd "set keep survives kill -9"
if wait_for "$out" '^ok: keep = survives kill -9$' &&
   grep -q '^commands: help | ls' "$out" &&
   grep -q '^ok: greeting = hello persistent world$' "$out" &&
   grep -q '^greeting = hello persistent world$' "$out" &&
   grep -q '^created: box$' "$out" && grep -q '^exists: box$' "$out" &&
   grep -q '^box = $' "$out" &&
   grep -q '^removed: doomed$' "$out" &&
   [ "$(grep -c '^not found: doomed$' "$out")" = 2 ] &&
   grep -q '^unknown command: frobnicate' "$out" &&
   grep -q '^usage: set NAME VALUE$' "$out"; then
	pass shell_commands
else
	fail shell_commands "$(cat "$out" "$out.err")"
fi
# ls printed the bound names (between "ls" and the unknown command).
names=$(sed -n '/^not found: doomed$/,/^unknown command/p' "$out" | sed -n '3,$p' | sed '$d' | sort | tr '\n' ' ')
if [ "$names" = "box greeting " ]; then pass shell_ls
else fail shell_ls "listed '$names'"; fi

# 2. The KV service on the same node: PUT/GET/DEL, errors, two connections.
kv_open
kv "PUT alpha one two"; r1=$reply
kv "GET alpha"; r2=$reply
kv "GET missing"; r3=$reply
kv "PUT beta 2"; kv "DEL beta"; r4=$reply
kv "DEL beta"; r5=$reply
kv "GET beta"; r6=$reply
if [ "$r1" = OK ] && [ "$r2" = "VALUE one two" ] && [ "$r3" = NOTFOUND ] &&
   [ "$r4" = OK ] && [ "$r5" = NOTFOUND ] && [ "$r6" = NOTFOUND ]; then
	pass kv_put_get_del
else
	fail kv_put_get_del "replies '$r1' '$r2' '$r3' '$r4' '$r5' '$r6'"
fi
kv "FETCH alpha"; e1=$reply
kv "PUT lonely"; e2=$reply
kv "GET alpha"; e3=$reply               # still served after errors
if [[ $e1 == ERR* ]] && [[ $e2 == ERR* ]] && [ "$e3" = "VALUE one two" ]; then
	pass kv_bad_requests
else
	fail kv_bad_requests "replies '$e1' '$e2' '$e3'"
fi
# Several writes in a row are each acknowledged once committed (how long
# that takes is measured by the node bench, not asserted here).
puts_ok=1
for i in 1 2 3 4 5; do
	kv "PUT burst$i v$i"
	[ "$reply" = OK ] || puts_ok=0
done
kv "GET burst5"
if [ "$puts_ok" = 1 ] && [ "$reply" = "VALUE v5" ]; then
	pass kv_puts_acknowledged_after_commit
else
	fail kv_puts_acknowledged_after_commit "last reply '$reply'"
fi
exec 3<&-
# A second connection, then two at once (a thread per connection).
kv_open
kv "GET alpha"; c1=$reply
exec 6<>"/dev/tcp/127.0.0.1/$port"
printf 'PUT gamma 3\n' >&6
IFS= read -r -t 5 c2 <&6
kv "GET gamma"; c3=$reply
exec 6<&-
if [ "$c1" = "VALUE one two" ] && [ "$c2" = OK ] && [ "$c3" = "VALUE 3" ]; then
	pass kv_several_connections
else
	fail kv_several_connections "replies '$c1' '$c2' '$c3'"
fi
# Shell and KV share the root directory: KV keys are "kv:KEY".
sh_cmd "get kv:gamma"
if wait_for "$out" '^kv:gamma = 3$'; then pass shell_sees_kv_data
else fail shell_sees_kv_data "no 'kv:gamma = 3' line"; fi

# 3. kill -9 right after the last confirmations: both survive.
kv "PUT durable yes"; d1=$reply
crash
exec 3<&- 2>/dev/null
out=$dir/out2
start "$out"
wait_for "$out" "^kv: listening on port $port\$"
sh_cmd "get keep"
sh_cmd "get greeting"
if wait_for "$out" '^greeting = hello persistent world$' &&
   grep -q '^keep = survives kill -9$' "$out" &&
   grep -q 'resumed image' "$out"; then
	pass shell_values_survive_kill9
else
	fail shell_values_survive_kill9 "$(cat "$out" "$out.err")"
fi
kv_open 2>/dev/null
kv "GET durable"; d2=$reply
kv "GET alpha"; d3=$reply
if [ "$d1" = OK ] && [ "$d2" = "VALUE yes" ] && [ "$d3" = "VALUE one two" ]; then
	pass kv_ok_survives_kill9
else
	fail kv_ok_survives_kill9 "PUT '$d1', after restart '$d2' '$d3'"
fi
exec 3<&-
# The shell goes on after its input ends (EOF), and a clean stop is clean.
exec 4>&-
sleep 0.2
kill -TERM "$pid"; wait "$pid"; rc=$?; pid=""
if [ "$rc" = 0 ] && grep -q 'stopped cleanly' "$out" && ! grep -q 'failed' "$out.err"; then
	pass clean_stop_no_failed_threads
else
	fail clean_stop_no_failed_threads "rc $rc: $(cat "$out.err")"
fi

# 4. --kv-port 0: no service, the rest runs; bad ports are refused.
img=$dir/off.img
port=0
out=$dir/out3
start "$out"
sh_cmd "set x 1"
if wait_for "$out" '^kv: disabled$' && wait_for "$out" '^ok: x = 1$'; then
	pass kv_port_0_disables
else
	fail kv_port_0_disables "$(cat "$out" "$out.err")"
fi
crash
if "$node" --image "$dir/bad.img" --kv-port 70000 >/dev/null 2>"$dir/err" ||
   ! grep -q 'kv-port' "$dir/err" || [ -e "$dir/bad.img" ]; then
	fail kv_port_bad_value "$(cat "$dir/err")"
else
	pass kv_port_bad_value
fi

exit $failed
