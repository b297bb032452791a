# check WHAT COMMAND...: one check of a script test. Runs the command with its output kept in
# $WORK/check.out, prints "ok   WHAT" or "FAIL WHAT" and the first lines of that output, and
# counts into OK and BAD; the script ends with "$OK passed, $BAD failed" (test/lib/tally.py reads
# that line). Sourced by test/upgrade/run and test/install/run, which set WORK.
OK=0 BAD=0
check() {
  local what=$1; shift
  if "$@" >"$WORK/check.out" 2>&1; then
    OK=$((OK + 1)); echo "ok   $what"
  else
    BAD=$((BAD + 1)); echo "FAIL $what"; head -n 60 "$WORK/check.out" | sed 's/^/       /'
  fi
}
