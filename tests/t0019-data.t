#!/bin/sh
test_description='aios-data: the catalog of datasets and models (import, list, show, verify, rm) and its errors'

. "${SHARNESS:-/usr/share/sharness/sharness.sh}"

GEN_DATA="$AIOS_BUILDDIR/examples/train/gen-data"
command -v jq >/dev/null 2>&1 && test_set_prereq JQ
command -v h5dump >/dev/null 2>&1 && command -v h5repack >/dev/null 2>&1 &&
	test_set_prereq H5TOOLS

# write_conf FILE [SHARED_ROOT]: a config with no daemons, only a catalog
write_conf() {
	{
		if test -n "$2"; then
			printf "staging:\n  shared_root: %s\n" "$2"
		fi
		printf "nodes:\n  - name: n1\n"
	} >"$1"
}

# field JQ_EXPR FILE
field() {
	jq -r "$1" "$2"
}

test_expect_success 'set up a catalog and two data files' '
	mkdir -m 1777 shared &&
	write_conf aios.yaml "$PWD/shared" &&
	AIOS_CONF=$PWD/aios.yaml && export AIOS_CONF &&
	"$GEN_DATA" -o blobs.h5 --train 5000 --test 1000 >/dev/null &&
	"$GEN_DATA" -o blobs2.h5 --train 6000 --test 1000 --seed 2 >/dev/null &&
	printf "not hdf5\n" >notes.txt
'

test_expect_success 'without staging.shared_root there is no catalog' '
	write_conf none.yaml &&
	test_expect_code 1 env AIOS_CONF="$PWD/none.yaml" aios-data list 2>err &&
	test_cmp - err <<-EOF &&
	aios-data: no catalog: staging.shared_root is not set in $PWD/none.yaml
	EOF
	write_conf gone.yaml "$PWD/gone" &&
	test_expect_code 1 env AIOS_CONF="$PWD/gone.yaml" aios-data list 2>err &&
	grep "^aios-data: catalog $PWD/gone: No such file or directory$" err
'

test_expect_success 'an empty catalog lists nothing' '
	aios-data list >out &&
	test_cmp - out <<-EOF
	NAME VERSION SIZE CREATED OWNER SHA256
	EOF
'

test_expect_success 'import stores a byte-identical copy as version 1, then 2' '
	aios-data import blobs.h5 --name blobs >out1 &&
	sum=$(sha256sum <blobs.h5 | cut -c1-12) &&
	grep "^Imported dataset blobs:1 (.*, sha256 $sum)$" out1 &&
	aios-data import blobs2.h5 -n blobs >out2 &&
	grep "^Imported dataset blobs:2 " out2 &&
	cmp blobs.h5 shared/datasets/blobs/1/blobs.h5 &&
	cmp blobs2.h5 shared/datasets/blobs/2/blobs.h5
'

test_expect_success 'the layout: sticky shared directories, read-only versions' '
	test "$(stat -c %a shared/datasets)" = 1777 &&
	test "$(stat -c %a shared/datasets/blobs)" = 1777 &&
	test "$(stat -c %a shared/datasets/blobs/1)" = 755 &&
	test "$(stat -c %a shared/datasets/blobs/1/blobs.h5)" = 444 &&
	test "$(stat -c %a shared/datasets/blobs/1/meta.json)" = 444 &&
	test_path_is_missing shared/datasets/blobs/1/meta.json.tmp &&
	test_path_is_missing shared/datasets/blobs/1/blobs.h5.part &&
	test_path_is_missing shared/models
'

test_expect_success 'list: one line per version, sorted' '
	"$GEN_DATA" -o a.h5 --train 100 --test 10 >/dev/null &&
	aios-data import a.h5 --name alpha >/dev/null &&
	aios-data list --noheader >out &&
	test_line_count = 3 out &&
	awk "{print \$1 \":\" \$2 \" \" \$5}" out >names &&
	test_cmp - names <<-EOF &&
	alpha:1 $(id -un)
	blobs:1 $(id -un)
	blobs:2 $(id -un)
	EOF
	aios-data list blobs >out &&
	head -n 1 out | grep "^NAME  *VERSION SIZE  *CREATED  *OWNER SHA256$" &&
	test_line_count = 3 out
'

test_expect_success JQ 'import and list --json: the records' '
	aios-data import blobs2.h5 --name beta --json >imp.json &&
	test "$(field .version imp.json)" = 1 &&
	test "$(field .dataset.kind imp.json)" = dataset &&
	test "$(field .dataset.name imp.json)" = beta &&
	test "$(field .dataset.version imp.json)" = 1 &&
	test "$(field .dataset.sha256 imp.json)" = "$(sha256sum <blobs2.h5 | cut -d" " -f1)" &&
	test "$(field .dataset.size imp.json)" = "$(stat -c %s blobs2.h5)" &&
	test "$(field .dataset.file imp.json)" = "$PWD/shared/datasets/beta/1/beta.h5" &&
	test "$(field .dataset.source imp.json)" = "$PWD/blobs2.h5" &&
	test "$(field .dataset.owner imp.json)" = "$(id -un)" &&
	test "$(field .dataset.uid imp.json)" = "$(id -u)" &&
	aios-data list --json >list.json &&
	test "$(field "[.datasets[] | \"\(.name):\(.version)\"] | join(\" \")" list.json)" = \
		"alpha:1 beta:1 blobs:1 blobs:2" &&
	aios-data list blobs --json >one.json &&
	test "$(field ".datasets | length" one.json)" = 2
'

test_expect_success 'show: the record and the contents' '
	aios-data show blobs >out &&
	head -n 1 out | grep "^Dataset blobs:2$" &&
	grep "^  File:     $PWD/shared/datasets/blobs/2/blobs.h5$" out &&
	grep "^  SHA256:   $(sha256sum <blobs2.h5 | cut -d" " -f1)$" out &&
	grep "^  Owner:    $(id -un) (uid $(id -u))$" out &&
	grep "^  seed = 2$" out &&
	grep "^  PATH  *SHAPE  *TYPE  *CHUNKS  *COMPRESSION SIZE  *STORED$" out &&
	grep "^  /train/x 6000x16 float32 1024x16 deflate(4)  *375K  *3[0-9.]*K$" out &&
	grep "^  /test/y  *1000  *int32  *1000  *deflate(4) " out &&
	aios-data show blobs:1 >out1 &&
	grep "^  /train/x 5000x16 float32 1024x16 deflate(4) " out1 &&
	aios-data show blobs:latest | head -n 1 | grep "^Dataset blobs:2$"
'

test_expect_success 'show prints control characters in the source path as ?' '
	esc=$(printf "\033") &&
	cp blobs2.h5 "x${esc}[2Jy.h5" &&
	aios-data import "x${esc}[2Jy.h5" --name esc &&
	test_when_finished "aios-data rm esc" &&
	aios-data show esc >out && cat out &&
	grep "^  Source:   .*/x?\[2Jy.h5$" out &&
	! grep -q "$esc" out
'

test_expect_success JQ 'show --json: shapes, types, chunks, compression, attributes' '
	aios-data show blobs:1 --json >show.json &&
	test "$(field .dataset.version show.json)" = 1 &&
	test "$(field ".dataset.contents.datasets | map(.path) | join(\" \")" show.json)" = \
		"/test/x /test/y /train/x /train/y" &&
	test "$(field ".dataset.contents.datasets[2].shape | join(\"x\")" show.json)" = 5000x16 &&
	test "$(field ".dataset.contents.datasets[2].chunks | join(\"x\")" show.json)" = 1024x16 &&
	test "$(field ".dataset.contents.datasets[2].type" show.json)" = float32 &&
	test "$(field ".dataset.contents.datasets[2].compression" show.json)" = "deflate(4)" &&
	test "$(field ".dataset.contents.datasets[3].bytes" show.json)" = 20000 &&
	test "$(field ".dataset.contents.attributes.features" show.json)" = 16 &&
	test "$(field ".dataset.contents.attributes.classes" show.json)" = 4
'

test_expect_success H5TOOLS 'h5dump reads the catalog copy like the original' '
	h5dump -d /train/y -c 20 blobs.h5 | sed 1d >orig.dump &&
	h5dump -d /train/y -c 20 shared/datasets/blobs/1/blobs.h5 | sed 1d >copy.dump &&
	test_cmp orig.dump copy.dump &&
	grep "DATASET \"/train/y\"" copy.dump
'

test_expect_success H5TOOLS 'a file repacked with other chunks and gzip is described as such' '
	h5repack -f GZIP=1 -l /train/x:CHUNK=500x16 blobs.h5 repacked.h5 &&
	aios-data import repacked.h5 --name repacked >/dev/null &&
	aios-data show repacked >out &&
	grep "^  /train/x 5000x16 float32 500x16  *deflate(1) " out
'

test_expect_success 'verify: every version ok' '
	aios-data verify >out &&
	grep -v "^repacked:1 ok$" out >out2 &&
	test_cmp - out2 <<-EOF &&
	alpha:1 ok
	beta:1 ok
	blobs:1 ok
	blobs:2 ok
	EOF
	aios-data verify blobs:1 >out &&
	test_cmp - out <<-EOF
	blobs:1 ok
	EOF
'

test_expect_success 'verify names a corrupt file: sha256 mismatch, exit 1' '
	want=$(sha256sum <shared/datasets/beta/1/beta.h5 | cut -d" " -f1) &&
	chmod u+w shared/datasets/beta/1/beta.h5 &&
	printf X | dd of=shared/datasets/beta/1/beta.h5 bs=1 seek=10000 conv=notrunc 2>/dev/null &&
	got=$(sha256sum <shared/datasets/beta/1/beta.h5 | cut -d" " -f1) &&
	test_expect_code 1 aios-data verify >out 2>err &&
	test_cmp - err <<-EOF &&
	aios-data: dataset beta:1: sha256 mismatch: catalog says $want, file is $got
	EOF
	grep "^blobs:2 ok$" out &&
	! grep beta out &&
	test_expect_code 1 aios-data verify beta
'

test_expect_success 'verify names a missing file' '
	rm -f shared/datasets/beta/1/beta.h5 &&
	test_expect_code 1 aios-data verify beta:1 2>err &&
	grep "^aios-data: dataset beta:1: $PWD/shared/datasets/beta/1/beta.h5: No such file or directory$" err
'

test_expect_success 'import refuses what is not HDF5, or not there, or badly named' '
	test_expect_code 1 aios-data import notes.txt --name notes 2>err &&
	test_cmp - err <<-EOF &&
	aios-data: notes.txt: not an HDF5 file
	EOF
	test_expect_code 1 aios-data import missing.h5 --name x 2>err &&
	grep "^aios-data: missing.h5: No such file or directory$" err &&
	test_expect_code 1 aios-data import blobs.h5 --name ../etc 2>err &&
	grep "^aios-data: invalid name \"../etc\": expected letters, digits" err &&
	test_path_is_missing shared/datasets/notes &&
	test_path_is_missing shared/datasets/x
'

test_expect_success 'unknown names and versions name what there is' '
	names="alpha, beta, blobs" &&
	if test_have_prereq H5TOOLS; then names="$names, repacked"; fi &&
	test_expect_code 1 aios-data show nope 2>err &&
	test_cmp - err <<-EOF &&
	aios-data: no dataset named "nope" (the catalog has: $names)
	EOF
	test_expect_code 1 aios-data show blobs:9 2>err &&
	test_cmp - err <<-EOF &&
	aios-data: dataset blobs has no version 9 (it has 1, 2)
	EOF
	test_expect_code 1 aios-data list nope 2>err &&
	grep "no dataset named \"nope\"" err &&
	test_expect_code 1 aios-data show blobs:x 2>err &&
	grep "^aios-data: invalid version \"x\" in \"blobs:x\": expected a positive integer or latest$" err &&
	test_expect_code 1 aios-data show blobs --model 2>err &&
	grep "^aios-data: no model named \"blobs\" (the catalog has no models)$" err
'

test_expect_success 'usage errors exit 2' '
	test_expect_code 2 aios-data 2>err &&
	grep "no command given" err &&
	test_expect_code 2 aios-data frob 2>err &&
	grep "unknown command \"frob\"" err &&
	test_expect_code 2 aios-data import blobs.h5 2>err &&
	grep "import: --name NAME is required" err &&
	test_expect_code 2 aios-data show 2>err &&
	grep "show: expected NAME\[:VERSION\]" err &&
	test_expect_code 2 aios-data list --bogus 2>err &&
	aios-data --help | grep "^Usage: aios-data COMMAND" &&
	aios-data --version | grep "^aios-data "
'

test_expect_success 'models: import --model, list --models' '
	aios-data import blobs.h5 --name clf --model >out &&
	grep "^Imported model clf:1 " out &&
	aios-data list --models >out &&
	head -n 1 out | grep "OWNER SHA256  *JOB$" &&
	grep "^clf  *1 .* -$" out &&
	aios-data show clf --model | head -n 1 | grep "^Model clf:1$" &&
	test "$(stat -c %a shared/models)" = 1777 &&
	test_expect_code 1 aios-data show clf 2>err &&
	grep "no dataset named \"clf\"" err
'

test_expect_success 'concurrent imports of one name get distinct versions' '
	for i in 1 2 3 4; do
		aios-data import a.h5 --name race >race.$i &
	done &&
	wait &&
	cat race.* | sed -n "s/^Imported dataset race:\([0-9]*\) .*/\1/p" | sort -n >versions &&
	test_cmp - versions <<-EOF
	1
	2
	3
	4
	EOF
'

test_expect_success ROOT 'rm: another user is refused, the owner and root may' '
	chmod 0644 a.h5 &&
	as_nobody aios-data import "$PWD/a.h5" --name alpha >out &&
	grep "^Imported dataset alpha:2 " out &&
	test "$(stat -c %U shared/datasets/alpha/2)" = nobody &&
	test_expect_code 1 as_nobody aios-data rm alpha:1 2>err &&
	test_cmp - err <<-EOF &&
	aios-data: cannot remove dataset alpha:1: it belongs to $(id -un) (uid $(id -u)); only its owner or root may remove it
	EOF
	test_expect_code 1 as_nobody aios-data rm alpha 2>err &&
	grep "cannot remove dataset alpha:1: it belongs to" err &&
	aios-data list alpha --noheader >out &&
	test_line_count = 2 out &&
	as_nobody aios-data rm alpha:2 &&
	aios-data import a.h5 --name alpha >out &&
	grep "^Imported dataset alpha:2 " out &&
	as_nobody aios-data import "$PWD/a.h5" --name alpha >/dev/null &&
	aios-data rm alpha:3 &&
	aios-data list alpha --noheader >out &&
	test_line_count = 2 out
'

test_expect_success 'rm: one version, then every version of a name' '
	aios-data rm blobs:1 &&
	test_path_is_missing shared/datasets/blobs/1 &&
	aios-data list blobs --noheader >out &&
	test_line_count = 1 out &&
	aios-data rm race &&
	test_path_is_missing shared/datasets/race &&
	test_expect_code 1 aios-data show race 2>err &&
	grep "no dataset named \"race\"" err &&
	test_expect_code 1 aios-data rm blobs:7 2>err &&
	grep "dataset blobs has no version 7 (it has 2)" err &&
	aios-data import blobs.h5 --name blobs >out &&
	grep "^Imported dataset blobs:3 " out
'

test_expect_success 'aios-local gives its clusters a catalog' '
	aios_start --nodes 1 &&
	cleanup aios_stop &&
	test "$(stat -c %a cluster/shared)" = 1777 &&
	grep "^  shared_root: $PWD/cluster/shared$" cluster/aios.yaml &&
	grep "^  scratch: $PWD/cluster/scratch/%n$" cluster/aios.yaml &&
	aios-data import blobs.h5 --name blobs >out &&
	grep "^Imported dataset blobs:1 " out &&
	test -f cluster/shared/datasets/blobs/1/meta.json
'

test_done
