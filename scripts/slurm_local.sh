#!/usr/bin/env bash
# A throwaway single-node Slurm cluster on this machine, for the sweep's
# cluster test and for trying `npusim sweep --slurm` by hand.
#
#   scripts/slurm_local.sh start  [STATE_DIR]   # prints SLURM_CONF=... and NPUSIM_SLURM_DIR=...
#   scripts/slurm_local.sh status [STATE_DIR]   # exit 0 when the node is up
#   scripts/slurm_local.sh stop   [STATE_DIR]   # kills what start started, removes STATE_DIR
#
# STATE_DIR defaults to $NPUSIM_SLURM_DIR; `start` without either makes a fresh
# /tmp/npusim-slurm-XXXXXX. Everything lives in STATE_DIR: the munge key,
# slurm.conf, the controller's state and the logs (the sockets and the node's
# spool in a short /tmp/nslurm.XXXXXX it names, see make_socket_dir), so
# the machine's own /etc/slurm and /etc/munge are never touched and two clusters
# (on ports chosen free) can run side by side. Clients find the cluster through
# SLURM_CONF:
#   export "$(scripts/slurm_local.sh start /tmp/c | grep ^SLURM_CONF=)"   # or: source /tmp/c/env.sh
#   sbatch --array=0-3 --wrap hostname; squeue; scripts/slurm_local.sh stop /tmp/c
# With NPUSIM_SLURM_OWNER_PID=PID, `start` also leaves a watchdog that stops the
# cluster once process PID is gone (a test killed before its cleanup).
#
# Needs root (SlurmUser=root) and Debian's slurm-wlm and munge
# (scripts/install_deps.sh). No systemd and no cgroups: containers rarely
# delegate cgroup v2, so processes are tracked through /proc
# (proctrack/linuxproc) and tasks are not confined (task/none).
set -euo pipefail
# Root shells from su or sudo may lack the sbin directories the daemons live in.
PATH="$PATH:/usr/sbin:/sbin"
umask 022

readonly MARKER=".npusim-slurm"
readonly START_TIMEOUT_S="${NPUSIM_SLURM_START_TIMEOUT_S:-60}"

die() { echo "slurm_local.sh: $*" >&2; exit 1; }
log() { echo "slurm_local.sh: $*" >&2; }

usage() {
  echo "usage: $0 start|stop|status [STATE_DIR]" >&2
  exit 2
}

require_binaries() {
  local missing=()
  for b in munged mungekey slurmctld slurmd sinfo squeue scancel sbatch; do
    command -v "$b" >/dev/null 2>&1 || missing+=("$b")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    die "missing ${missing[*]}: install Debian's slurm-wlm and munge (run scripts/install_deps.sh)"
  fi
  [ "$(id -u)" -eq 0 ] || die "must run as root (the local cluster runs slurmctld and slurmd with SlurmUser=root)"
}

# A TCP port is taken when any socket (listening or lingering) has it as its
# local port; /proc/net/tcp{,6} needs no extra package.
port_in_use() {
  local hex
  hex=$(printf '%04X' "$1")
  cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v h="$hex" 'NR > 0 { split($2, a, ":"); if (a[2] == h) found = 1 } END { exit !found }'
}

pick_free_port() {
  local p tries=0
  while [ $tries -lt 200 ]; do
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 30000 ))
    tries=$((tries + 1))
    if ! port_in_use "$p" && ! grep -qx "$p" "$state/ports" 2>/dev/null; then
      echo "$p" >>"$state/ports"
      echo "$p"
      return 0
    fi
  done
  die "no free TCP port found in 20000-49999"
}

pid_alive() {
  local f=$1 pid
  [ -f "$f" ] || return 1
  pid=$(cat "$f" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# TERM, then KILL after a grace period; only the pids recorded in the files.
# All at once: each daemon takes a second or two to shut down.
kill_pidfiles() {
  local f pid pids=() alive
  for f in "$@"; do
    [ -f "$f" ] || continue
    pid=$(cat "$f" 2>/dev/null || true)
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
  done
  for _ in $(seq 100); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" -eq 0 ] && return 0
    sleep 0.05
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
}

# Job processes and slurmstepd of *this* cluster: their environment carries our
# SLURM_CONF (slurmstepd inherits slurmd's, job tasks the submitter's plus
# SLURM_JOB_ID). The caller's own shell may carry SLURM_CONF too, so a process
# only qualifies as a job process with SLURM_JOB_ID, and this script and its
# ancestors are never candidates.
kill_leftover_job_processes() {
  local conf=$1 self_chain=" $$ " p pid comm env
  p=$$
  while [ "$p" -gt 1 ] 2>/dev/null; do
    p=$(awk '/^PPid:/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)
    self_chain+="$p "
  done
  for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    case "$self_chain" in *" $pid "*) continue ;; esac
    env=$( { tr '\0' '\n' <"$p/environ"; } 2>/dev/null) || continue
    grep -qx "SLURM_CONF=$conf" <<<"$env" || continue
    comm=$(cat "$p/comm" 2>/dev/null || true)
    if [ "$comm" = slurmstepd ] || grep -q '^SLURM_JOB_ID=' <<<"$env"; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
}

node_state() {
  SLURM_CONF="$state/slurm.conf" timeout 10 sinfo -h -N -o '%T' 2>/dev/null | head -n1
}

print_env() {
  echo "SLURM_CONF=$state/slurm.conf"
  echo "NPUSIM_SLURM_DIR=$state"
}

show_logs() {
  local f
  for f in "$state"/log/*.log "$state"/log/*.out; do
    [ -s "$f" ] || continue
    echo "---- tail of $f" >&2
    tail -n 25 "$f" >&2
  done
}

cluster_up() {
  pid_alive "$state/run/munged.pid" && pid_alive "$state/run/slurmctld.pid" && pid_alive "$state/run/slurmd.pid" || return 1
  case "$(node_state)" in
    idle* | mixed* | allocated* | completing*) return 0 ;;
    *) return 1 ;;
  esac
}

write_slurm_conf() {
  local host=$1 ctld_port=$2 slurmd_port=$3 node_line cluster
  # slurmd -C describes this machine as Slurm sees it; a node configured with
  # more memory than it finds would be drained, so take its own figures.
  node_line=$(slurmd -C 2>/dev/null | head -n1)
  local cpus sockets cores threads mem
  cpus=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<<"$node_line")
  sockets=$(sed -n 's/.* SocketsPerBoard=\([0-9]*\).*/\1/p' <<<"$node_line")
  cores=$(sed -n 's/.* CoresPerSocket=\([0-9]*\).*/\1/p' <<<"$node_line")
  threads=$(sed -n 's/.* ThreadsPerCore=\([0-9]*\).*/\1/p' <<<"$node_line")
  mem=$(sed -n 's/.* RealMemory=\([0-9]*\).*/\1/p' <<<"$node_line")
  [ -n "$cpus" ] || cpus=$(nproc)
  [ -n "$mem" ] || mem=1000
  local topology="CPUs=$cpus"
  if [ -n "$sockets" ] && [ -n "$cores" ] && [ -n "$threads" ]; then
    topology+=" Boards=1 SocketsPerBoard=$sockets CoresPerSocket=$cores ThreadsPerCore=$threads"
  fi
  cluster="npusim$(basename "$state" | tr -cd 'a-zA-Z0-9' | tr '[:upper:]' '[:lower:]' | tail -c 9)"
  : >"$state/plugstack.conf"
  cat >"$state/slurm.conf" <<EOF
# Generated by scripts/slurm_local.sh for a throwaway single-node cluster.
ClusterName=$cluster
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock/munge/munge.socket
StateSaveLocation=$state/ctld-state
SlurmdSpoolDir=$sock/spool
SlurmctldPidFile=$state/run/slurmctld.pid
SlurmdPidFile=$state/run/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=$state/plugstack.conf
# No cgroups: processes are found through /proc, tasks are not confined.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
# Start batch jobs as soon as they are submitted (the default waits up to 3 s).
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=2
MinJobAge=600
Waittime=0
TmpFS=$state/tmp
NodeName=$host NodeAddr=127.0.0.1 $topology RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

start_munged() {
  mkdir -p "$state/munge"
  chmod 700 "$state/munge"
  [ -f "$state/munge/munge.key" ] || mungekey -c -k "$state/munge/munge.key" >/dev/null 2>&1 \
    || { dd if=/dev/urandom of="$state/munge/munge.key" bs=1024 count=1 status=none && chmod 600 "$state/munge/munge.key"; }
  # --force: munged refuses key and log paths under a group- or world-writable
  # directory (a test's temp dir under a lax umask); this key guards nothing else.
  munged --force -S "$sock/munge/munge.socket" --key-file="$state/munge/munge.key" \
    --pid-file="$state/run/munged.pid" --log-file="$state/log/munged.log" \
    --seed-file="$state/munge/munged.seed" </dev/null >>"$state/log/munged.out" 2>&1 9>&- \
    || { show_logs; die "munged failed to start (logs in $state/log)"; }
}

# Unix socket paths are limited to 108 bytes, and slurmstepd makes one per job
# step in the spool directory (<spool>/<node>_<job>.<step>), so the munge socket
# and the spool live in a short /tmp/nslurm.XXXXXX that STATE_DIR/sockdir names.
make_socket_dir() {
  remove_socket_dir
  sock=$(mktemp -d /tmp/nslurm.XXXXXX)
  touch "$sock/$MARKER"
  mkdir -p "$sock/munge" "$sock/spool"
  # munged insists that every client can reach its socket's directory.
  chmod 755 "$sock" "$sock/munge"
  echo "$sock" >"$state/sockdir"
}

remove_socket_dir() {
  local dir
  dir=$(cat "$state/sockdir" 2>/dev/null || true)
  if [ -n "$dir" ] && [ -f "$dir/$MARKER" ]; then rm -rf "$dir"; fi
  rm -f "$state/sockdir"
}

do_start() {
  require_binaries
  if [ -f "$state/$MARKER" ]; then
    if cluster_up; then
      print_env
      return 0
    fi
    log "stale cluster in $state; restarting it"
    do_stop_processes
  elif [ -d "$state" ] && [ -n "$(ls -A "$state" 2>/dev/null)" ]; then
    die "$state exists and is not a local Slurm state directory (no $MARKER); refusing to use it"
  fi
  mkdir -p "$state"
  touch "$state/$MARKER"
  rm -rf "$state/ctld-state" "$state/run" "$state/log" "$state/ports"
  mkdir -p "$state/ctld-state" "$state/run" "$state/log" "$state/tmp"
  make_socket_dir

  local host ctld_port slurmd_port
  host=$(hostname -s 2>/dev/null || uname -n | cut -d. -f1)
  # Two starts at once must not pick the same ports: pick and bind under a lock.
  exec 9>/tmp/npusim-slurm-ports.lock
  flock 9
  ctld_port=$(pick_free_port)
  slurmd_port=$(pick_free_port)
  write_slurm_conf "$host" "$ctld_port" "$slurmd_port"

  start_munged
  export SLURM_CONF="$state/slurm.conf"
  # Daemon mode: each forks, writes its pid file and detaches; its stdout
  # goes to a file so a caller reading ours through a pipe is not held open,
  # and the port lock (fd 9) is not inherited.
  slurmctld -f "$SLURM_CONF" -i </dev/null >>"$state/log/slurmctld.out" 2>&1 9>&- \
    || { show_logs; do_stop_processes; die "slurmctld failed to start (logs in $state/log)"; }
  slurmd -f "$SLURM_CONF" -N "$host" </dev/null >>"$state/log/slurmd.out" 2>&1 9>&- \
    || { show_logs; do_stop_processes; die "slurmd failed to start (logs in $state/log)"; }
  # Keep the lock until both ports are bound, so the next start sees them taken.
  for _ in $(seq 100); do
    port_in_use "$ctld_port" && port_in_use "$slurmd_port" && break
    sleep 0.1
  done
  flock -u 9
  exec 9>&-

  local waited=0 st=""
  while [ "$waited" -lt $((START_TIMEOUT_S * 5)) ]; do
    st=$(node_state || true)
    case "$st" in
      idle*)
        print_env_file
        start_watchdog
        print_env
        return 0
        ;;
    esac
    sleep 0.2
    waited=$((waited + 1))
  done
  show_logs
  do_stop_processes
  die "node $host did not become idle within ${START_TIMEOUT_S}s (sinfo says '${st:-nothing}'); daemons stopped, logs kept in $state ('$0 stop $state' removes them)"
}

# With NPUSIM_SLURM_OWNER_PID set, the cluster stops itself once that process
# is gone, so a test killed before its cleanup leaves no daemons behind.
start_watchdog() {
  local owner="${NPUSIM_SLURM_OWNER_PID:-}"
  [ -n "$owner" ] || return 0
  kill -0 "$owner" 2>/dev/null || die "NPUSIM_SLURM_OWNER_PID=$owner is not a running process"
  # shellcheck disable=SC2016  # expanded by the watchdog shell, from its arguments
  setsid bash -c 'while kill -0 "$1" 2>/dev/null && [ -d "$3" ]; do sleep 1; done; [ -d "$3" ] && exec "$2" stop "$3"' \
    slurm-local-watchdog "$owner" "$(realpath "$0")" "$state" </dev/null >/dev/null 2>&1 9>&- &
  echo $! >"$state/run/watchdog.pid"
}

print_env_file() {
  {
    echo "export SLURM_CONF='$state/slurm.conf'"
    echo "export NPUSIM_SLURM_DIR='$state'"
  } >"$state/env.sh"
}

do_stop_processes() {
  local conf="$state/slurm.conf"
  if pid_alive "$state/run/slurmctld.pid"; then
    local jobs
    jobs=$(SLURM_CONF="$conf" timeout 10 squeue -h -o '%A' 2>/dev/null | sort -u | tr '\n' ' ' || true)
    if [ -n "${jobs// /}" ]; then
      # shellcheck disable=SC2086
      SLURM_CONF="$conf" timeout 10 scancel $jobs 2>/dev/null || true
      for _ in $(seq 30); do
        [ -z "$(SLURM_CONF="$conf" timeout 5 squeue -h -o '%A' 2>/dev/null || true)" ] && break
        sleep 0.2
      done
    fi
  fi
  # The watchdog runs this very stop when the owner is gone; it is then our parent.
  local watchdog
  watchdog=$(cat "$state/run/watchdog.pid" 2>/dev/null || true)
  if [ -n "$watchdog" ] && [ "$watchdog" != "$$" ] && [ "$watchdog" != "$PPID" ]; then
    kill_pidfiles "$state/run/watchdog.pid"
  fi
  kill_pidfiles "$state/run/slurmd.pid" "$state/run/slurmctld.pid" "$state/run/munged.pid"
  if [ -f "$conf" ]; then kill_leftover_job_processes "$conf"; fi
}

do_stop() {
  [ -d "$state" ] || return 0
  [ -f "$state/$MARKER" ] || die "$state is not a local Slurm state directory (no $MARKER); not touching it"
  # Best effort from here: one failed step must not leave the daemons running.
  set +e
  do_stop_processes
  remove_socket_dir
  rm -rf "$state"
}

do_status() {
  [ -f "$state/$MARKER" ] || { echo "no local cluster in $state"; return 1; }
  local name
  for name in munged slurmctld slurmd; do
    if pid_alive "$state/run/$name.pid"; then
      echo "$name: running (pid $(cat "$state/run/$name.pid"))"
    else
      echo "$name: not running"
    fi
  done
  echo "node: $(node_state || true)"
  print_env
  cluster_up
}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
cmd=$1
state="${2:-${NPUSIM_SLURM_DIR:-}}"
case "$cmd" in
  start)
    [ -n "$state" ] || state=$(mktemp -d /tmp/npusim-slurm-XXXXXX)
    state=$(realpath -m "$state")
    do_start
    ;;
  stop)
    [ -n "$state" ] || die "stop needs STATE_DIR (argument or NPUSIM_SLURM_DIR)"
    state=$(realpath -m "$state")
    do_stop
    ;;
  status)
    [ -n "$state" ] || die "status needs STATE_DIR (argument or NPUSIM_SLURM_DIR)"
    state=$(realpath -m "$state")
    do_status
    ;;
  *) usage ;;
esac
