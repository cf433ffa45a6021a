#!/usr/bin/env bash
# Checks what bookcast needs to build and test, and installs only what is missing.
#
#   scripts/deps.sh           check, then install the missing Debian packages (apt-get)
#   scripts/deps.sh --check   check only; exit 1 and name the packages when something is missing
#
# The toolchain (C compiler, make, cmake, pkg-config) is found by command, each library by its
# pkg-config module, each test tool (openssl, for the simulator's throwaway certificates) by
# command, and each Python module the tests use (zmq) by importing it with Debian's
# /usr/bin/python3: the python3 first on PATH may be another installation (pyenv, a venv) that
# does not see Debian's packages, so the tests run /usr/bin/python3. apt-get update runs first
# when the package lists are missing or older than a day. sudo is used when not root. On a
# machine without apt the script prints the packages to install and stops.
set -u

check_only=0
[ "${1:-}" = "--check" ] && check_only=1

# command -> Debian package
tools=(
  "cc:gcc"
  "make:make"
  "cmake:cmake"
  "pkg-config:pkg-config"
  "openssl:openssl"
)
# pkg-config module -> Debian package
modules=(
  "libzmq:libzmq3-dev"
  "libczmq:libczmq-dev"
  "libwebsockets:libwebsockets-dev"
  "openssl:libssl-dev"
  "libcjson:libcjson-dev"
  "sqlite3:libsqlite3-dev"
  "cmocka:libcmocka-dev"
)

# Python module (imported by /usr/bin/python3) -> Debian package
python_modules=(
  "zmq:python3-zmq"
)

missing=()
add_missing() {
  local p
  for p in "${missing[@]}"; do [ "$p" = "$1" ] && return; done
  missing+=("$1")
}

for entry in "${tools[@]}"; do
  cmd=${entry%%:*}
  pkg=${entry#*:}
  command -v "$cmd" >/dev/null 2>&1 || add_missing "$pkg"
done
# A compiler without the C library headers cannot build anything.
if ! command -v cc >/dev/null 2>&1; then
  add_missing libc6-dev
elif ! printf '#include <stdio.h>\nint main(void){return 0;}\n' |
  cc -x c -o /dev/null - >/dev/null 2>&1; then
  add_missing libc6-dev
fi
for entry in "${modules[@]}"; do
  mod=${entry%%:*}
  pkg=${entry#*:}
  if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists "$mod" 2>/dev/null; then
    add_missing "$pkg"
  fi
done

for entry in "${python_modules[@]}"; do
  mod=${entry%%:*}
  pkg=${entry#*:}
  if [ ! -x /usr/bin/python3 ]; then
    add_missing python3
    add_missing "$pkg"
  elif ! /usr/bin/python3 -c "import $mod" >/dev/null 2>&1; then
    add_missing "$pkg"
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: toolchain and libraries present"
  exit 0
fi

if [ $check_only -eq 1 ]; then
  echo "deps: missing: ${missing[*]} (run 'make deps' to install them)" >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "deps: this machine has no apt-get; install these packages (Debian names) and run again:" >&2
  echo "  ${missing[*]}" >&2
  exit 1
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "deps: not root and no sudo; as root run: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
lists=/var/lib/apt/lists
fresh=$(find "$lists" -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | head -n 1)
if [ -z "$fresh" ]; then
  echo "deps: package lists missing or older than a day: apt-get update"
  "${sudo[@]}" apt-get update -q || { echo "deps: apt-get update failed" >&2; exit 1; }
fi

echo "deps: installing ${missing[*]}"
if ! "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"; then
  echo "deps: install failed; refreshing the package lists and trying once more"
  "${sudo[@]}" apt-get update -q &&
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" ||
    { echo "deps: could not install: ${missing[*]}" >&2; exit 1; }
fi
echo "deps: installed ${missing[*]}"
