# Sourced by the scripts: `phase NAME COMMAND...` runs COMMAND and prints how long it took
# ("== phase NAME: 123 s"), also when it fails (its exit status is kept).
phase() {
  local name="$1" start status=0
  shift
  start=$(date +%s)
  "$@" || status=$?
  echo "== phase $name: $(( $(date +%s) - start )) s$([ "$status" -eq 0 ] || echo " (failed: exit $status)")"
  return "$status"
}
