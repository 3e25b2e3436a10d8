#!/usr/bin/env bash
# Gives port 22 to sallyport. SSH_MODE=move: the OS's OpenSSH moves to OS_SSHD_PORT (for
# administrators only). SSH_MODE=disable: it is masked, and administrators use SSM Session
# Manager. Either takes effect at the image's first boot; this build's own SSH session, on
# port 22, keeps running until then.
set -euo pipefail

mode=${SSH_MODE:?SSH_MODE must be move or disable}
port=${OS_SSHD_PORT:-2222}

case $mode in
  move)
    if ! [[ $port =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535 || port == 22)); then
      echo "OS_SSHD_PORT must be a port other than 22, not '$port'" >&2
      exit 1
    fi
    # AL2023's sshd_config includes sshd_config.d/*.conf first, and sshd keeps the first value
    # it reads for a keyword, so this file decides the port.
    conf=/etc/ssh/sshd_config.d/01-sallyport-port.conf
    printf '# Port 22 belongs to sallyport (sallyport AMI build).\nPort %s\n' "$port" > "$conf"
    chmod 0600 "$conf"
    # SELinux is permissive on AL2023; label the port anyway so sshd still starts if enforcing.
    if command -v semanage >/dev/null 2>&1; then
      semanage port -a -t ssh_port_t -p tcp "$port" 2>/dev/null \
        || semanage port -m -t ssh_port_t -p tcp "$port"
    fi
    sshd -t
    if ! sshd -T | grep -qx "port $port"; then
      echo "sshd would not listen on $port:" >&2
      sshd -T | grep '^port ' >&2
      exit 1
    fi
    ;;
  disable)
    # Session Manager is the way in instead (needs an instance profile allowing SSM).
    rpm -q amazon-ssm-agent >/dev/null || dnf -y -q install amazon-ssm-agent
    systemctl enable amazon-ssm-agent.service
    # Masked, not only disabled: systemd re-applies presets (which enable sshd) on an
    # instance's first boot, and a preset cannot enable a masked unit.
    systemctl disable sshd.service
    systemctl mask sshd.service
    if systemctl list-unit-files sshd.socket >/dev/null 2>&1; then
      systemctl disable sshd.socket || true
      systemctl mask sshd.socket
    fi
    ;;
  *)
    echo "SSH_MODE must be move or disable, not '$mode'" >&2
    exit 1
    ;;
esac
