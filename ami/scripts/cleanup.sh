#!/usr/bin/env bash
# Leaves the image clean: nothing of this build instance (keys, logs, caches, identity) is baked
# into the instances launched from it. Runs last.
set -euo pipefail

rm -f "${SALLYPORT_RPM:-/tmp/sallyport.rpm}"
dnf clean all
rm -rf /var/cache/dnf/*

# sallyport: every instance generates its own host key on first start.
find /var/lib/sallyport /var/log/sallyport -mindepth 1 -delete

# OpenSSH host keys are generated per instance at first boot; the build's temporary key pair
# goes (cloud-init installs the instance's own key at launch).
rm -f /etc/ssh/ssh_host_*
rm -f /home/ec2-user/.ssh/authorized_keys /root/.ssh/authorized_keys

# cloud-init runs on the next boot as on a new instance.
if command -v cloud-init >/dev/null 2>&1; then
  cloud-init clean --logs
fi

# A fresh machine id per instance (an empty file makes systemd generate one at boot).
truncate -s 0 /etc/machine-id

rm -f /root/.bash_history /home/ec2-user/.bash_history
journalctl --rotate
journalctl --vacuum-time=1s
find /var/log -type f \( -name '*.log' -o -name '*.gz' \) -delete
