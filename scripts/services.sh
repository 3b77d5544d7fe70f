# Services the tests need, for scripts/test and scripts/with-services (sourced, not run).
# moto_server (the AWS API) runs on a free loopback port and is stopped by pid on exit;
# checkov is installed for the policy test. Both live in a cache outside the clone.

# Tools the tests need, installed once per machine outside the clone.
CACHE="${OMNIFORM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/omniform}"
mkdir -p "$CACHE"

venv() { # venv DIR REQUIREMENTS: a virtualenv with those requirements, made once
  local dir=$1 req=$2
  if [ ! -f "$dir/.installed" ] || ! cmp -s "$req" "$dir/.installed"; then
    rm -rf "$dir"
    python3 -m venv "$dir"
    "$dir/bin/pip" install -q --disable-pip-version-check -r "$req"
    cp "$req" "$dir/.installed"
  fi
}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

PIDS=()
stop_services() {
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
}
trap stop_services EXIT

start_moto() {
  venv "$CACHE/moto-venv" scripts/moto-requirements.txt
  "$CACHE/moto-venv/bin/python" scripts/moto-amis.py "$CACHE/moto-amis.json" > /dev/null
  local port; port=$(free_port)
  MOTO_AMIS_PATH="$CACHE/moto-amis.json" \
  MOTO_EC2_ENABLE_INSTANCE_TYPE_VALIDATION=true \
  MOTO_ENABLE_AMI_VALIDATION=true \
    "$CACHE/moto-venv/bin/moto_server" -H 127.0.0.1 -p "$port" > "$CACHE/moto.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 300); do
    if curl -sf -o /dev/null "http://127.0.0.1:$port/moto-api/"; then
      export MOTO_ENDPOINT="http://127.0.0.1:$port"
      echo "    moto_server (pid ${PIDS[-1]}) on $MOTO_ENDPOINT"
      return 0
    fi
    sleep 0.1
  done
  echo "moto_server did not start; see $CACHE/moto.log" >&2
  return 1
}

install_checkov() {
  venv "$CACHE/checkov-venv" scripts/checkov-requirements.txt
  export CHECKOV="$CACHE/checkov-venv/bin/checkov"
}

