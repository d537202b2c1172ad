# Sourced by the integration tests (not a test itself: ctest runs only
# tests/integration/*.sh). Needs $out (a scratch directory) and fail().
# expect_exit WANT CMD...: runs CMD, checks its exit code; stdout in
# $out/stdout, stderr in $out/stderr.
expect_exit() {
  local want=$1
  shift
  set +e
  "$@" >"$out/stdout" 2>"$out/stderr"
  local got=$?
  set -e
  [[ $got == "$want" ]] || fail "$* exited $got, want $want; stderr: $(cat "$out/stderr")"
}
