# The stages of the test command and their count, sourced by test/run-all and by the counting
# self-test (test/counting/selftest), which runs the same functions on planted broken cases.
# Each stage runs a real runner, keeps its log, and hands the log and exit status to
# test/lib/tally.py, the one reader of every runner's results.
#
#   abdm_stage_ctest NAME BUILD_DIR
#   abdm_stage_regress NAME MAKE_DIR LOG [TARGET LIST_TARGET OUT_DIR]
#                                                 (make installcheck there; schedule from REGRESS;
#                                                  or isolationcheck print-isolation build-isolation)
#   abdm_stage_script NAME LOG COMMAND...         (a script that ends with "N passed, N failed")
#   abdm_stage_ctest_run DIR, abdm_stage_ctest_count NAME DIR,
#   abdm_stage_script_run LOG COMMAND..., abdm_stage_script_count NAME LOG
#                                                 (the same stages in two halves: run in the
#                                                  background, count when it is done)
#   abdm_stage_scripts NAME GLOB LOG_DIR          (each file of GLOB, and a failure when none)
#   abdm_stage_error NAME WHY                     (a stage that could not run: one failure)
#   abdm_stage_report                             prints the table, skips and the final line

ABDM_TALLY="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/tally.py"
# A stage that hangs fails after this long instead of holding the whole run (exit status 124).
ABDM_STAGE_TIMEOUT=${ABDM_STAGE_TIMEOUT:-900}
ABDM_PASSED=0 ABDM_FAILED=0 ABDM_SKIPPED=0
declare -a ABDM_REPORT=() ABDM_SKIPS=() ABDM_NOTES=()

# abdm_stage_count NAME TALLY_ARGS...: adds tally.py's reading to the totals.
abdm_stage_count() {
  local name=$1 out last p f s line; shift
  out=$(/usr/bin/python3 "$ABDM_TALLY" "$@" 2>&1)
  last=$(tail -n 1 <<<"$out")
  if [[ $last =~ ^([0-9]+)\ ([0-9]+)\ ([0-9]+)$ ]]; then
    p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]} s=${BASH_REMATCH[3]}
  else
    p=0 f=1 s=0; ABDM_NOTES+=("$name: tally.py failed: $out")
  fi
  while IFS= read -r line; do
    case $line in
      skip:*) ABDM_SKIPS+=("$name: ${line#skip: }") ;;
      note:*) ABDM_NOTES+=("$name: ${line#note: }") ;;
    esac
  done <<<"$out"
  ABDM_PASSED=$((ABDM_PASSED + p)) ABDM_FAILED=$((ABDM_FAILED + f)) ABDM_SKIPPED=$((ABDM_SKIPPED + s))
  ABDM_REPORT+=("$(printf '%-30s %5d passed %5d failed %4d skipped' "$name" "$p" "$f" "$s")")
  ABDM_LAST="$p $f $s"
}

abdm_stage_error() {
  ABDM_FAILED=$((ABDM_FAILED + 1))
  ABDM_REPORT+=("$(printf '%-30s %5s        %5d failed  (%s)' "$1" "" 1 "$2")")
  ABDM_NOTES+=("$1: $2")
  ABDM_LAST="0 1 0"
}

abdm_stage_ctest() {
  abdm_stage_ctest_run "$2"
  abdm_stage_ctest_count "$1" "$2"
}

# The two halves of a stage, for a stage run in the background (test/run-all's sanitizer lane):
# the run leaves its log and exit status (LOG.rc) and prints nothing; the count prints and adds.
abdm_stage_ctest_run() {
  local dir=$1
  rm -f "$dir/ctest-junit.xml"
  (cd "$dir" && ctest -j"$(nproc)" --timeout 600 --output-on-failure --output-junit ctest-junit.xml) >"$dir/ctest.log" 2>&1
  echo $? >"$dir/ctest.log.rc"
}

abdm_stage_ctest_count() {
  local name=$1 dir=$2 rc
  rc=$(cat "$dir/ctest.log.rc" 2>/dev/null || echo 1)
  tail -n 3 "$dir/ctest.log" | sed 's/^/   /'
  [[ $rc -ne 0 ]] && grep -E "\*\*\*Failed|FAILED" "$dir/ctest.log" | head -20
  abdm_stage_count "$name" ctest "$dir/ctest-junit.xml" "$rc"
}

abdm_stage_regress() {
  local name=$1 dir=$2 log=$3 target=${4:-installcheck} list=${5:-print-regress} out=${6:-build-regress} rc schedule
  schedule=$(make -s -C "$dir" "$list" 2>/dev/null) \
    || { abdm_stage_error "$name" "make $list failed in $dir"; return; }
  rm -f "$dir/$out/regression.diffs"
  timeout --kill-after=30 "$ABDM_STAGE_TIMEOUT" make -C "$dir" "$target" >"$log" 2>&1
  rc=$?
  grep -E "^(test| ?[0-9]+ of|All [0-9]+)|\.\.\. " "$log" | sed 's/^/   /'
  [[ $rc -ne 0 ]] && { tail -n 5 "$log"; cat "$dir/$out/regression.diffs" 2>/dev/null | head -80; }
  # shellcheck disable=SC2086  # the schedule is a list of names
  abdm_stage_count "$name" regress "$log" "$rc" $schedule
}

abdm_stage_script() {
  local name=$1; shift
  abdm_stage_script_run "$@"
  abdm_stage_script_count "$name" "$1"
}

abdm_stage_script_run() {
  local log=$1 rc; shift
  timeout --kill-after=30 "$ABDM_STAGE_TIMEOUT" "$@" >"$log" 2>&1
  rc=$?
  [[ $rc -eq 124 ]] && echo "timed out after $ABDM_STAGE_TIMEOUT s" >>"$log"
  echo "$rc" >"$log.rc"
}

abdm_stage_script_count() {
  local name=$1 log=$2 rc
  rc=$(cat "$log.rc" 2>/dev/null || echo 1)
  tail -n 15 "$log" | sed 's/^/   /'
  abdm_stage_count "$name" summary "$log" "$rc"
}

abdm_stage_scripts() {
  local name=$1 glob=$2 logdir=$3 t any=0
  mkdir -p "$logdir"
  for t in $glob; do
    [[ -f $t ]] || continue
    any=1
    echo "== $t"
    abdm_stage_script "$(basename "$t" .py)" "$logdir/$(basename "$t").log" /usr/bin/python3 "$t"
  done
  [[ $any -eq 1 ]] || abdm_stage_error "$name" "no test file matches $glob"
}

abdm_stage_report() {
  echo
  printf '%s\n' "${ABDM_REPORT[@]}"
  if ((${#ABDM_SKIPS[@]})); then
    echo "skipped:"; printf '  %s\n' "${ABDM_SKIPS[@]}"
  fi
  if ((${#ABDM_NOTES[@]})); then
    echo "notes:"; printf '  %s\n' "${ABDM_NOTES[@]}"
  fi
  echo "abdm_hip: $ABDM_PASSED passed, $ABDM_FAILED failed, $ABDM_SKIPPED skipped"
  [[ $ABDM_FAILED -eq 0 ]]
}

# abdm_stop_descendants PID: stops every process PID started, and theirs, deepest first, found
# from /proc (no procps needed on a minimal Debian). For the test command's exit: interrupted, it
# must not leave the sanitizer lane compiling and fuzzing, nor the stage that was running.
abdm_stop_descendants() {
  local parent=$1 stat fields child
  for stat in /proc/[0-9]*/stat; do
    { fields=$(<"$stat"); } 2>/dev/null || continue
    fields=${fields##*) }  # after the command name, which may hold spaces
    set -- $fields
    [[ $2 == "$parent" ]] || continue
    child=${stat//[^0-9]/}
    abdm_stop_descendants "$child"
    kill "$child" 2>/dev/null
  done
  return 0
}
