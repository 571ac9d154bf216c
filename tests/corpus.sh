#!/bin/bash
# Check `snilb sni` against every ClientHello we have an answer for.
#
# usage: tests/corpus.sh SNILB_BINARY
#
# Inputs: $CORPUS/hello/*.bin with $CORPUS/MANIFEST.tsv (CORPUS defaults to
# <repo>/../shared/corpus) and our own captures in $HELLOS/*.bin with
# $HELLOS/expect.tsv (HELLOS defaults to <repo>/build/hellos, written by
# tests/capture-hellos.sh). A listed SNI means `sni=` that name lower-cased,
# the listed ALPN, records and bytes, exit 0; no SNI means
# `rejected reason=no-sni`, exit 1. tests/corpus-expect.tsv overrides that
# where the bytes call for another answer.
# Per file also: -o json agrees with the text, and (as root) --kernel gives
# byte-identical output. Then a few command-line checks.
set -euo pipefail
shopt -s nullglob

if [ $# -ne 1 ]; then
	echo "usage: $0 SNILB_BINARY" >&2
	exit 2
fi
snilb=$1
if [ ! -x "$snilb" ]; then
	echo "$0: $snilb: not an executable" >&2
	exit 2
fi
repo=$(cd "$(dirname "$0")/.." && pwd)
corpus=${CORPUS:-$repo/../shared/corpus}
hellos=${HELLOS:-$repo/build/hellos}
overrides=$repo/tests/corpus-expect.tsv

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
skipped=0
pass() { passed=$((passed + 1)); }
fail() {
	echo "FAIL $*"
	failed=$((failed + 1))
}
skip() { skipped=$((skipped + 1)); }

# Fields travel with \x1f between them: with IFS=tab, read would merge
# the empty SNI and ALPN columns into their neighbours.
US=$'\x1f'

# table TSV FILE SNI ALPN RECORDS BYTES: those columns, found by header
# name, one row a line.
table() {
	local tsv=$1
	shift
	awk -F'\t' -v OFS="$US" -v want="$*" -v tsv="$tsv" '
	NR == 1 {
		n = split(want, w, " ")
		for (i = 1; i <= NF; i++)
			col[$i] = i
		for (i = 1; i <= n; i++)
			if (!(w[i] in col)) {
				print tsv ": no column " w[i] > "/dev/stderr"
				exit 2
			}
		next
	}
	/^$/ { next }
	{
		line = $col[w[1]]
		for (i = 2; i <= n; i++)
			line = line OFS $col[w[i]]
		print line
	}' "$tsv"
}

declare -A override=() override_used=()
if [ -f "$overrides" ]; then
	while IFS=$US read -r f want; do
		override[$f]=$want
	done < <(table "$overrides" file expected)
fi

# Cases: DIR, file, sni, alpn, records, bytes.
: >"$tmp/cases"
add_cases() {
	local dir=$1 tsv=$2
	shift 2
	local f listed=" "
	table "$tsv" "$@" | sed "s|^|$dir$US|" >>"$tmp/cases"
	# Every hello needs an answer and every answer a hello.
	while IFS=$US read -r f _; do
		listed+="$f "
		[ -f "$dir/$f" ] || fail "$dir/$f: listed in $tsv but missing"
	done < <(table "$tsv" "$@")
	for f in "$dir"/*.bin; do
		[[ $listed == *" ${f##*/} "* ]] ||
			fail "$f: not listed in $tsv, no expected answer"
	done
}

all_sources=1
if [ -d "$corpus/hello" ] && [ -f "$corpus/MANIFEST.tsv" ]; then
	add_cases "$corpus/hello" "$corpus/MANIFEST.tsv" \
		file sni_tshark alpn_tshark tls_records total_len
else
	echo "skipped: no corpus at $corpus (set CORPUS=DIR with hello/ and" \
		"MANIFEST.tsv)"
	skip
	all_sources=0
fi
if [ -f "$hellos/expect.tsv" ]; then
	add_cases "$hellos" "$hellos/expect.tsv" file sni alpn records bytes
else
	fail "$hellos/expect.tsv: no captures (run tests/capture-hellos.sh" \
		"$hellos)"
	all_sources=0
fi

kernel=1
if [ "$(id -u)" -ne 0 ]; then
	kernel=0
	echo "skipped: --kernel checks need root (BPF_PROG_TEST_RUN)"
fi

# run OUT ARGS...: snilb's stdout in OUT, stderr in OUT.err, exit status
# in $rc.
run() {
	local out=$1
	shift
	rc=0
	"$snilb" "$@" >"$out" 2>"$out.err" || rc=$?
}

# JSON lines are checked against the text in one python3 run at the end.
: >"$tmp/json-pairs"
found_file=
rejected_file=
n=0
while IFS=$US read -r dir f sni alpn records bytes; do
	path=$dir/$f
	[ -f "$path" ] || continue
	n=$((n + 1))
	if [ -n "${override[$f]+set}" ]; then
		want=${override[$f]}
		override_used[$f]=1
	elif [ -n "$sni" ]; then
		want=sni=$sni
	else
		want="rejected reason=no-sni"
	fi

	run "$tmp/$n.txt" sni "$path"
	got=$(cat "$tmp/$n.txt")
	text_rc=$rc
	if [[ $want == sni=* ]]; then
		name=${want#sni=}
		want_line="sni=${name,,} alpn=$alpn records=$records bytes=$bytes"
		re="^(.*): sni=([^ ]*) alpn=([^ ]*) tls13=(yes|no) ech=(yes|no)"
		re+=" records=([0-9]+) bytes=([0-9]+)$"
		ok=0
		if [ "$rc" -eq 0 ] && [[ $got =~ $re ]] &&
			[ "${BASH_REMATCH[1]}" = "$path" ] &&
			[ "${BASH_REMATCH[2]}" = "${name,,}" ] &&
			[ "${BASH_REMATCH[6]}" = "$records" ] &&
			[ "${BASH_REMATCH[7]}" = "$bytes" ]; then
			a=${BASH_REMATCH[3]}
			if [ "$a" = "$alpn" ]; then
				ok=1
			elif [[ $a == *... ]]; then
				# snilb keeps the first bytes of a long list
				# and marks the cut: a proper prefix is right.
				kept=${a%...}
				if [ ${#kept} -lt ${#alpn} ] &&
					{ [ -z "$kept" ] ||
						[[ "$alpn," == "$kept,"* ]]; }; then
					ok=1
				fi
			fi
		fi
		if [ "$ok" = 1 ]; then
			pass
			[ -n "$found_file" ] || found_file=$path
		else
			fail "$path: expected '$want_line' (exit 0), got" \
				"'$got' (exit $rc)"
		fi
	else
		if [ "$rc" -eq 1 ] && [ "$got" = "$path: $want" ]; then
			pass
			[ -n "$rejected_file" ] || rejected_file=$path
		else
			fail "$path: expected '$want' (exit 1), got '$got'" \
				"(exit $rc)"
		fi
	fi

	run "$tmp/$n.json" sni -o json "$path"
	printf '%s\t%s\t%s\t%s\n' "$path" "$text_rc" "$rc" "$n" \
		>>"$tmp/json-pairs"

	if [ "$kernel" = 0 ]; then
		skip
		continue
	fi
	run "$tmp/$n.ktxt" sni --kernel "$path"
	krc=$rc
	run "$tmp/$n.kjson" sni --kernel -o json "$path"
	if [ "$krc" = "$text_rc" ] && cmp -s "$tmp/$n.txt" "$tmp/$n.ktxt" &&
		cmp -s "$tmp/$n.json" "$tmp/$n.kjson"; then
		pass
	else
		fail "$path: --kernel differs from userspace: expected" \
			"'$got' (exit $text_rc), got '$(cat "$tmp/$n.ktxt")'" \
			"(exit $krc) $(head -c 200 "$tmp/$n.ktxt.err")"
	fi
done <"$tmp/cases"

# Only with every source there can an unused override be stale.
for f in "${!override[@]}"; do
	[ "$all_sources" = 0 ] || [ -n "${override_used[$f]+set}" ] ||
		fail "$overrides: $f matches no hello (stale override?)"
done

# -o json must say what the text says, and exit the same.
if [ "$n" -gt 0 ]; then
	python3 - "$tmp" <<'EOF' >"$tmp/json-result"
import json, sys

tmp = sys.argv[1]
ok = bad = 0


def as_text(o):
	if o["status"] == "found":
		alpn = ",".join(o["alpn"]) + ("..." if o["alpn_truncated"] else "")
		yn = lambda v: "yes" if v else "no"
		return "%s: sni=%s alpn=%s tls13=%s ech=%s records=%d bytes=%d" % (
			o["file"], o["sni"], alpn, yn(o["tls13"]), yn(o["ech"]),
			o["records"], o["bytes"])
	if o["status"] == "rejected":
		return "%s: rejected reason=%s" % (o["file"], o["reason"])
	if o["status"] == "incomplete":
		return "%s: incomplete need=%d" % (o["file"], o["need"])
	raise ValueError("status %r" % o["status"])


for row in open(tmp + "/json-pairs"):
	path, text_rc, json_rc, n = row.rstrip("\n").split("\t")
	text = open("%s/%s.txt" % (tmp, n)).read()
	raw = open("%s/%s.json" % (tmp, n)).read()
	try:
		lines = raw.splitlines()
		if len(lines) != 1:
			raise ValueError("%d lines" % len(lines))
		got = as_text(json.loads(lines[0])) + "\n"
	except (ValueError, KeyError, TypeError) as e:
		got = "unusable JSON (%s): %s" % (e, raw.strip())
	if got == text and text_rc == json_rc:
		ok += 1
	else:
		bad += 1
		print("FAIL %s: -o json disagrees with text: expected '%s' "
		      "(exit %s), json says '%s' (exit %s)" % (
			path, text.strip(), text_rc, got.strip(), json_rc))
print(ok, bad)
EOF
	sed '$d' "$tmp/json-result"
	read -r ok bad < <(tail -n 1 "$tmp/json-result")
	passed=$((passed + ok))
	failed=$((failed + bad))
fi

# --- command line --------------------------------------------------------

# check WHAT WANT_RC: the last run's exit status.
check_rc() {
	if [ "$rc" -eq "$2" ]; then
		pass
	else
		fail "$1: expected exit $2, got exit $rc:" \
			"$(head -c 200 "$tmp/cli.err")"
	fi
}

missing=$tmp/no-such-hello.bin
run "$tmp/cli" sni "$missing"
if [ "$rc" -eq 2 ] && grep -qF "$missing" "$tmp/cli.err"; then
	pass
else
	fail "missing file: expected exit 2 and its name on stderr, got" \
		"exit $rc: $(head -c 200 "$tmp/cli.err")"
fi
run "$tmp/cli" sni
check_rc "no FILE" 2
# An HTTP request is no TLS at all: rejected whatever the corpus holds.
printf 'GET / HTTP/1.1\r\nHost: example.com\r\n\r\n' >"$tmp/http.bin"
[ -n "$rejected_file" ] || rejected_file=$tmp/http.bin
run "$tmp/cli" sni --cap 100 "$rejected_file"
check_rc "--cap 100" 2

if [ -n "$found_file" ]; then
	run "$tmp/cli" sni "$found_file" "$rejected_file" "$found_file"
	if [ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/cli")" -eq 3 ]; then
		pass
	else
		fail "several files, one rejected: expected 3 lines, exit 1;" \
			"got $(wc -l <"$tmp/cli") lines, exit $rc"
	fi
	run "$tmp/stdin-want" sni "$found_file"
	want=$(cat "$tmp/stdin-want")
	want="-: ${want#"$found_file: "}"
	rc=0
	"$snilb" sni - <"$found_file" >"$tmp/cli" 2>"$tmp/cli.err" || rc=$?
	if [ "$rc" -eq 0 ] && [ "$(cat "$tmp/cli")" = "$want" ]; then
		pass
	else
		fail "'-' (stdin): expected '$want' (exit 0), got" \
			"'$(cat "$tmp/cli")' (exit $rc)"
	fi
else
	echo "skipped: several-files and stdin checks, no hello with an SNI"
	skip
	skip
fi

if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
