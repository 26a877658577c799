# Shared by the setup steps that install a Debian package. Source it, then call
# `apt_install_if_missing PROGRAM PACKAGE`.
#
# It installs PACKAGE only when PROGRAM is missing, and refreshes the package lists only when
# apt does not know PACKAGE yet (a fresh machine has empty lists), so a machine that already has
# the program pays nothing. On a machine without apt-get it says what to install and returns 0,
# because the tests that need the program skip themselves when it is absent.

apt_install_if_missing() {
  local program=$1 package=$2

  if [ -x "$program" ]; then
    return 0
  fi

  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: $program is missing and this machine has no apt-get; install '$package' by hand" \
      "(the tests that need it are skipped until then)" >&2
    return 0
  fi

  local sudo=()
  if [ "$(id -u)" != 0 ]; then
    sudo=(sudo)
  fi

  if ! apt-cache show "$package" >/dev/null 2>&1; then
    echo "setup: refreshing the apt package lists to find '$package'"
    "${sudo[@]}" apt-get update -qq
  fi

  echo "setup: installing Debian package '$package' (for $program)"
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "$package" >/dev/null

  if [ ! -x "$program" ]; then
    echo "setup: installed '$package' but $program is still missing" >&2
    return 1
  fi
}
