#!/bin/bash
# RoleShell: make sure every Linux user a permission set maps to exists on this
# instance, with its sudo rule. Run by the RoleShell-ProvisionLinuxUsers command
# document (State Manager) on instances tagged roleshell:permission-sets.
#
# Input: ROLESHELL_USERS, one mapped user per line: `<linux user>|<sudo>` where
# <sudo> is `-` (none), `ALL`, or commands separated by `,`.
#
# - A missing user is created with a home directory, no password (locked), no
#   SSH key: people reach it only through Session Manager's run-as.
# - Users that already exist are left as they are; users not in the input are
#   never touched.
# - Sudo rules go to one file in /etc/sudoers.d, checked with `visudo -c`
#   before it is installed; a rule removed from the input disappears from it.
# - Idempotent: a second run with the same input changes nothing.
set -euo pipefail
umask 077

spec="${ROLESHELL_USERS:?ROLESHELL_USERS is not set}"
sudoers_dir="${ROLESHELL_SUDOERS_DIR:-/etc/sudoers.d}"
sudoers_file="$sudoers_dir/roleshell"
changed=0
rules=""

say() { echo "roleshell: $*"; }
fail() {
  echo "roleshell: $*" >&2
  exit 1
}

command -v useradd >/dev/null || fail "useradd is not installed"

while IFS='|' read -r user sudo_spec; do
  [ -n "$user" ] || continue
  if ! [[ "$user" =~ ^[a-z_][a-z0-9_-]{0,31}$ ]] || [ "$user" = root ]; then
    fail "refusing Linux user name '$user'"
  fi
  if ! getent passwd "$user" >/dev/null; then
    useradd --create-home --shell /bin/bash --comment "RoleShell $user" "$user"
    # useradd leaves no usable password; lock it explicitly so that stays true.
    usermod --lock "$user"
    home="$(getent passwd "$user" | cut -d: -f6)"
    # A skeleton that ships SSH keys would defeat "Session Manager only".
    rm -rf -- "${home:?}/.ssh"
    say "created user $user"
    changed=1
  fi
  case "$sudo_spec" in
    - | '') ;;
    ALL) rules+="$user ALL=(ALL) NOPASSWD: ALL"$'\n' ;;
    *)
      if ! [[ "$sudo_spec" =~ ^/[A-Za-z0-9_./+@%*\ -]+(,/[A-Za-z0-9_./+@%*\ -]+)*$ ]]; then
        fail "refusing sudo rule for $user: '$sudo_spec'"
      fi
      rules+="$user ALL=(root) NOPASSWD: ${sudo_spec//,/, }"$'\n'
      ;;
  esac
done <<<"$spec"

if [ -z "$rules" ]; then
  if [ -e "$sudoers_file" ]; then
    rm -f -- "$sudoers_file"
    say "removed $sudoers_file (no sudo rules)"
    changed=1
  fi
else
  command -v visudo >/dev/null || fail "visudo is not installed; refusing to write sudo rules unchecked"
  content="# Managed by RoleShell (RoleShell-ProvisionLinuxUsers); changes here are overwritten."$'\n'"$rules"
  if [ ! -f "$sudoers_file" ] || [ "$(cat "$sudoers_file")"$'\n' != "$content" ]; then
    mkdir -p -- "$sudoers_dir"
    # sudo ignores files whose name contains a dot, so a half-written candidate is never read.
    candidate="$(mktemp "$sudoers_dir/.roleshell.XXXXXX")"
    trap 'rm -f -- "$candidate"' EXIT
    printf '%s' "$content" >"$candidate"
    chmod 0440 "$candidate"
    visudo -cqf "$candidate" >/dev/null || fail "the generated sudo rules do not pass visudo -c; nothing installed"
    previous=""
    if [ -f "$sudoers_file" ]; then
      previous="$(mktemp "$sudoers_dir/.roleshell-previous.XXXXXX")"
      cp -p -- "$sudoers_file" "$previous"
    fi
    mv -f -- "$candidate" "$sudoers_file"
    # The whole sudo configuration must still parse; otherwise put the old file back.
    if ! visudo -cq >/dev/null; then
      if [ -n "$previous" ]; then mv -f -- "$previous" "$sudoers_file"; else rm -f -- "$sudoers_file"; fi
      fail "sudo configuration did not pass visudo -c with the new rules; restored the previous one"
    fi
    [ -z "$previous" ] || rm -f -- "$previous"
    say "updated $sudoers_file"
    changed=1
  fi
fi

if [ "$changed" = 0 ]; then say "no change"; fi
