#!/bin/sh
test_description='SIGHUP reload: a valid file takes effect, a broken one is refused whole and nothing is lost'

. "${SHARNESS:-/usr/share/sharness/sharness.sh}"

conf() { echo "$SHARNESS_TRASH_DIRECTORY/cluster/aios.yaml"; }
ctld_log() { cat "$SHARNESS_TRASH_DIRECTORY/cluster/aiosctld.log"; }
log_count() { ctld_log | grep -c "$1"; }
# hup PATTERN: send SIGHUP, wait for one more log line matching PATTERN
hup() {
    n=$(log_count "$1")
    kill -HUP $(pid_of aiosctld.pid) &&
    aios_wait_for 10 sh -c "test \$(grep -c \"$1\" \"$(conf | sed s/aios.yaml/aiosctld.log/)\") -gt $n"
}

test_expect_success 'start a cluster; a long job is accepted' '
	aios_start --nodes 1 &&
	cleanup aios_stop &&
	id=$(aios-submit --parsable -H -t 10:00 --wrap true) &&
	echo $id >kept
'

test_expect_success 'a valid new config takes effect on SIGHUP' '
	cp "$(conf)" good.yaml &&
	sed "s/^    default: true$/    default: true\n    max_time: 5/" good.yaml >"$(conf)" &&
	grep "max_time: 5" "$(conf)" &&
	hup "reloaded" &&
	test_must_fail aios-submit -t 10:00 --wrap true 2>err &&
	grep "time limit exceeds partition batch" err &&
	id=$(aios-submit --parsable -H -t 4 --wrap true) &&
	aios-cancel $id
'

test_expect_success 'a broken config is refused whole; the running one stays' '
	cp "$(conf)" valid.yaml &&
	printf "bogus: 1\n" >>"$(conf)" &&
	hup "reload refused" &&
	ctld_log | grep "reload refused, keeping the running configuration: .*aios.yaml:[0-9]*:1: unknown key \"bogus\"" &&
	sock=$(sed -n "s/^  socket: //p" valid.yaml) &&
	test_must_fail env AIOS_SOCKET="$sock" aios-submit -t 10:00 --wrap true 2>err &&
	grep "time limit exceeds partition batch" err &&
	cp valid.yaml "$(conf)"
'

test_expect_success 'no job was lost through the reloads' '
	test "$(job_state $(cat kept))" = PENDING
'

test_done
