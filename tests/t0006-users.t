#!/bin/sh
test_description='jobs run as their submitter; users cannot touch others'"'"' jobs'

. "${SHARNESS:-/usr/share/sharness/sharness.sh}"

test_expect_success ROOT 'start a cluster as root' '
	aios_start --nodes 2 &&
	cleanup aios_stop &&
	mkdir -m 0777 shared
'

test_expect_success ROOT 'a job submitted by nobody runs as nobody, never as root' '
	id=$(cd shared && as_nobody aios-submit --parsable --wrap "id -un; id -u; id -G; echo HOME=\$HOME") &&
	aios_wait_state $id COMPLETED &&
	test "$(job_field $id %u)" = nobody &&
	sed -n 1p shared/aios-$id.out >user &&
	echo nobody >user.exp &&
	test_cmp user.exp user &&
	test "$(sed -n 2p shared/aios-$id.out)" = "$(id -u nobody)" &&
	! sed -n 3p shared/aios-$id.out | grep -w 0 &&
	test "$(stat -c %U shared/aios-$id.out)" = nobody
'

test_expect_success ROOT 'a job of nobody cannot write where nobody cannot' '
	mkdir -m 0755 rootonly &&
	out="$PWD/rootonly/x.out" &&
	id=$(cd shared && as_nobody aios-submit --parsable -o "$out" --wrap true) &&
	aios_wait_state $id FAILED &&
	job_field $id %r >reason &&
	grep "cannot open output file $PWD/rootonly/x.out: Permission denied" reason &&
	test_path_is_missing rootonly/x.out
'

test_expect_success ROOT 'nobody cannot cancel a job of root' '
	id=$(aios-submit --parsable --wrap "sleep 300") &&
	aios_wait_state $id RUNNING &&
	test_must_fail as_nobody aios-cancel $id 2>err &&
	grep "^aios-cancel: job $id: permission denied: it belongs to root, and only its owner, an operator or root may cancel it$" err &&
	test "$(job_state $id)" = RUNNING &&
	aios-cancel $id && aios_wait_state $id CANCELLED
'

test_expect_success ROOT 'nobody can cancel its own job; root can cancel anyone'"'"'s' '
	a=$(cd shared && as_nobody aios-submit --parsable -H --wrap true) &&
	as_nobody aios-cancel $a &&
	test "$(job_state $a)" = CANCELLED &&
	b=$(cd shared && as_nobody aios-submit --parsable -H --wrap true) &&
	aios-cancel $b &&
	test "$(job_state $b)" = CANCELLED
'

test_expect_success ROOT 'cancel -u by nobody leaves root'"'"'s jobs alone' '
	r=$(aios-submit --parsable -H --wrap true) &&
	test_must_fail as_nobody aios-cancel -u root 2>err &&
	grep "permission denied" err &&
	test "$(job_state $r)" = PENDING &&
	aios-cancel $r
'

test_expect_success ROOT 'nobody can read the queue' '
	as_nobody aios-queue >q &&
	grep JOBID q
'

test_expect_success ROOT 'aios-local runs a whole cluster as a non-root user' '
	mkdir -m 0777 nr &&
	(cd nr && setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env -i PATH="$PATH" TMPDIR="$PWD" \
		aios-local run --nodes 2 -- sh -c "aios-submit --wait -o \"\$PWD/nr.out\" --wrap \"id -un\" && aios-nodes --noheader | wc -l") >nr.log &&
	grep -x "2" nr.log &&
	echo nobody >nr.exp &&
	test_cmp nr.exp nr/nr.out &&
	test "$(ls nr | grep -c aios-local)" = 0
'

test_done
