# Installs what building, testing and the demo need, from Debian 12's packages (run as root).
# Sourced by test/run-all, demo/run and bench/run; quick when everything is present.
ABDM_DEBIAN_PACKAGES=(
  build-essential cmake pkg-config git
  postgresql-15 postgresql-server-dev-15 postgresql-contrib
  libssl-dev libcurl4-openssl-dev nlohmann-json3-dev libmicrohttpd-dev
  libcjose-dev libjansson-dev  # cjose: gateway JWTs; cjose.pc requires jansson.pc, not pulled in
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-cryptography python3-psycopg2 python3-jsonschema
  libipc-run-perl nghttp2-server
  wrk   # only the benchmarks use it (bench/bridge_bench.py: the bridge listener under load)
  clang libclang-rt-14-dev  # the fuzz targets and the sanitizer run (test/fuzz/run): libFuzzer, ASan, UBSan
)
# The FHIR profile layer runs on Node.js (npm packages from test/fhir/package-lock.json); a
# machine that already has node and npm keeps its own.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || ABDM_DEBIAN_PACKAGES+=(nodejs npm)

abdm_install_deps() {
  local missing=()
  for p in "${ABDM_DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
      echo "missing Debian packages: ${missing[*]} (run as root to install them)" >&2
      return 1
    fi
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # Build against Debian 12's PostgreSQL 15 (PGXS and the cluster scripts read PG_CONFIG), known
  # only now that it is installed.
  [[ -z ${PG_CONFIG:-} && -x /usr/lib/postgresql/15/bin/pg_config ]] && export PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
  return 0
}
