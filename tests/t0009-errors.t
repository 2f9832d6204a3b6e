#!/bin/sh
test_description='bad input of every kind gets a clear error and loses nothing'

. "${SHARNESS:-/usr/share/sharness/sharness.sh}"

test_expect_success 'start a cluster' '
	aios_start --nodes 1 &&
	cleanup aios_stop &&
	keep=$(aios-submit --parsable -H -J keepme --wrap true) &&
	echo $keep >keep
'

test_expect_success 'a broken config: aiosctld and tools name file:line:col' '
	cat >bad.yaml <<-\EOT &&
	cluster: x
	controller:
	  port: 99999
	nodes:
	  - name: n1
	EOT
	test_must_fail aiosctld -F -f bad.yaml 2>err &&
	grep "^aiosctld: bad.yaml:3:9: controller.port: 99999 is out of range (expected 1..65535)$" err &&
	test_must_fail env AIOS_CONF=bad.yaml aios-queue 2>err2 &&
	grep "^aios-queue: bad.yaml:3:9: " err2
'

test_expect_success 'an unknown config key is refused' '
	printf "nodes:\n  - name: n1\n    cpu: 4\n" >bad2.yaml &&
	test_must_fail aiosctld -F -f bad2.yaml 2>err &&
	grep "^aiosctld: bad2.yaml:3:5: unknown key \"cpu\"" err
'

test_expect_success 'a missing config file' '
	test_must_fail aiosctld -F -f nonexistent.yaml 2>err &&
	grep "^aiosctld: nonexistent.yaml: cannot open: No such file or directory$" err
'

test_expect_success 'a second controller on the same state refuses to start' '
	test_must_fail aiosctld -f "$AIOS_CONF" 2>err &&
	grep "already running as pid $(pid_of aiosctld.pid)" err
'

test_expect_success 'a script without #! is refused' '
	printf "echo hi\n" >nobang.sh &&
	test_must_fail aios-submit nobang.sh 2>err &&
	grep "^aios-submit: nobang.sh: the batch script does not start with \"#!\"" err
'

test_expect_success 'a bad directive names its line' '
	printf "#!/bin/sh\n#AIOS -N 1\n#AIOS --time=abc\necho\n" >baddir.sh &&
	test_must_fail aios-submit baddir.sh 2>err &&
	grep "^aios-submit: baddir.sh: line 3: --time: invalid time limit \"abc\"" err &&
	printf "#!/bin/sh\n#AIOS --frobnicate\n" >unk.sh &&
	test_must_fail aios-submit unk.sh 2>err2 &&
	grep "^aios-submit: unk.sh: line 2: unknown or incomplete option \"--frobnicate\"$" err2 &&
	printf "#!/bin/sh\n#AIOS -J \"unterminated\n" >quote.sh &&
	test_must_fail aios-submit quote.sh 2>err3 &&
	grep "^aios-submit: quote.sh: line 2: unterminated quote" err3
'

test_expect_success 'a long option in a directive takes the next word; --wrap is refused' '
	printf "#!/bin/sh\n#AIOS --time 10:00 --job-name spaced\n" >long.sh &&
	id=$(aios-submit --parsable -H long.sh) &&
	test "$(job_field $id "%l %j")" = "10:00 spaced" &&
	aios-cancel $id &&
	printf "#!/bin/sh\n#AIOS --wrap=true\n" >wrap.sh &&
	test_must_fail aios-submit wrap.sh 2>err &&
	grep "^aios-submit: wrap.sh: line 2: --wrap is not allowed in a script$" err
'

test_expect_success 'directives after the first command are ignored' '
	printf "#!/bin/sh\necho hi\n#AIOS --frobnicate\n" >late.sh &&
	id=$(aios-submit --parsable -H late.sh) &&
	aios-cancel $id
'

test_expect_success 'unknown options and bad values are usage errors (exit 2)' '
	test_expect_code 2 aios-submit --frobnicate x.sh 2>err &&
	grep "unknown or incomplete option \"--frobnicate\"" err &&
	test_expect_code 2 aios-submit --mem 4X --wrap true 2>err2 &&
	grep "invalid memory size \"4X\"" err2 &&
	test_expect_code 2 aios-submit -N zero --wrap true 2>err3 &&
	grep -- "--nodes" err3 &&
	test_expect_code 2 aios-queue --bogus 2>err4 &&
	test_expect_code 2 aios-nodes --bogus 2>err5
'

test_expect_success 'an invalid partition is refused by the controller' '
	test_must_fail aios-submit -p nope --wrap true 2>err &&
	grep "^aios-submit: invalid partition \"nope\"$" err
'

test_expect_success 'garbage on the wire gets an error reply, the controller lives on' '
	printf "\000\000\000\005hello" | tcp_exchange $(ctl_port) >reply &&
	grep "malformed frame" reply &&
	raw_frame "[1,2]" | tcp_exchange $(ctl_port) >reply2 &&
	grep "expected a JSON object" reply2 &&
	printf "\377\377\377\377" | tcp_exchange $(ctl_port) >reply3 &&
	grep "exceeds the limit" reply3 &&
	raw_frame "{\"op\":\"submit\",\"seq\":1}" | tcp_exchange $(ctl_port) >reply4 &&
	grep "expected hello before .*submit" reply4 &&
	raw_frame "{\"op\":\"hello\",\"seq\":0,\"version\":1,\"role\":\"client\"}" | tcp_exchange $(ctl_port) >reply5 &&
	grep "authentication required" reply5 &&
	raw_frame "{\"op\":\"hello\",\"seq\":0,\"version\":99,\"role\":\"client\"}" | tcp_exchange $(ctl_port) >reply6 &&
	grep "protocol version mismatch: client speaks 99, aiosctld speaks 1" reply6 &&
	raw_frame "{\"op\":\"hello\",\"seq\":0,\"version\":1,\"role\":\"client\",\"cred\":\"MUNGE:bogus\"}" | tcp_exchange $(ctl_port) >reply7 &&
	grep "munge credential rejected" reply7 &&
	aios-queue -j $(cat keep) -h -o %j >name &&
	echo keepme >name.exp &&
	test_cmp name.exp name
'

test_expect_success 'tools over TCP authenticate with munge' '
	AIOS_SOCKET=tcp aios-queue -j $(cat keep) -h -o %u >user &&
	id -un >user.exp &&
	test_cmp user.exp user
'

test_expect_success 'every tool has --help and --version' '
	for t in aios-submit aios-queue aios-cancel aios-nodes aios-local aiosctld aiosd; do
		$t --help >h.out && grep -i usage h.out &&
		$t --version | grep -E "^$t [0-9]" || return 1
	done
'

test_expect_success 'aios-local run exits with the status of its command' '
	test_expect_code 3 aios-local run --nodes 1 -- sh -c "exit 3" &&
	test_expect_code 2 aios-local run --nodes 1 2>err &&
	grep "no command given" err
'

test_done
