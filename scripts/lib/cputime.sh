# CPU time (user + system, seconds) of the processes a load run measures, read from /proc.
# Sourced by scripts/loadtest and scripts/synctest: latency on a shared 2-core machine varies
# from run to run, CPU time per ticket much less, so both print it.

# Seconds of CPU used so far by process $1 (0 when it is gone).
cpu_of_pid() {
  local fields
  fields=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
  # shellcheck disable=SC2086
  set -- $fields
  awk -v t=$((${12} + ${13})) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}

# Seconds of CPU used so far by the local PostgreSQL cluster: its live processes plus the
# children its postmaster has reaped (a connection's backend exits with the gateway). Empty
# when no local postmaster is visible.
cpu_of_postgres() {
  local postmaster ticks=0 p fields
  postmaster=$(pgrep -o -x postgres) || return 0
  for p in $(pgrep -x postgres); do
    fields=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null) || continue
    # shellcheck disable=SC2086
    set -- $fields
    ticks=$((ticks + ${12} + ${13}))
    if [ "$p" = "$postmaster" ]; then ticks=$((ticks + ${14} + ${15})); fi
  done
  awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}

# Runs a load generator ("$@"), then prints the CPU the gateway (pid $server) and, on
# PostgreSQL, the database spent on the run, in all and per ticket (the first "N tickets" the
# generator printed). Exits with the generator's status.
measured_run() {
  local gateway0 postgres0 out status=0 tickets
  gateway0=$(cpu_of_pid "$server")
  postgres0=$(cpu_of_postgres)
  out=$(mktemp)
  "$@" | tee "$out" || status=$?
  tickets=$(grep -oE '[0-9]+ tickets' "$out" | head -1 | cut -d' ' -f1)
  rm -f "$out"
  awk -v n="${tickets:-0}" -v g0="$gateway0" -v g1="$(cpu_of_pid "$server")" \
    'BEGIN { if (n > 0) printf "gateway CPU: %.2f s, %.2f ms a ticket\n", g1 - g0, (g1 - g0) * 1000 / n }'
  if [ "$backend" = postgres ] && [ -n "$postgres0" ]; then
    awk -v n="${tickets:-0}" -v p0="$postgres0" -v p1="$(cpu_of_postgres)" \
      'BEGIN { if (n > 0) printf "PostgreSQL CPU (local cluster, every process): %.2f s, %.2f ms a ticket\n", p1 - p0, (p1 - p0) * 1000 / n }'
  fi
  return "$status"
}
