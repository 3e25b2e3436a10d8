#!/usr/bin/env bash
# Installs the sallyport RPM and its Java runtime from the Amazon Linux repositories, checks the
# shipped config, and enables the service for the image's first boot (it is not started here:
# the OS's sshd holds port 22 on this build instance).
set -euo pipefail

rpm_file=${SALLYPORT_RPM:?SALLYPORT_RPM must name the uploaded RPM}

dnf -y -q upgrade --refresh
# The newest Corretto LTS the repositories have: any of 17, 21 and 25 satisfies the package, and the
# newer ones are markedly faster at SSH's ciphers (Java 20+ compiles ChaCha20 to vector code;
# docs/BENCHMARKS.md). Without this dnf could settle on 17.
runtime=
for v in 25 21; do
  if dnf -q list --available "java-$v-amazon-corretto-headless" >/dev/null 2>&1; then
    runtime=java-$v-amazon-corretto-headless
    break
  fi
done
dnf -y -q install ${runtime:+"$runtime"} "$rpm_file"
rpm -q sallyport

# The shipped config must be valid, and the unit must load cleanly on the real OS. verify also
# loads the units sallyport depends on; what it says about those is shown, not fatal.
sallyport check-config -c /etc/sallyport/sallyport.yaml >/dev/null
verify_output=$(systemd-analyze verify sallyport.service 2>&1) || true
if [[ -n $verify_output ]]; then
  echo "systemd-analyze verify sallyport.service:" >&2
  echo "$verify_output" >&2
  if grep -q sallyport <<<"$verify_output"; then
    exit 1
  fi
fi

# Start after cloud-init has run, so a config written from user data (write_files) is the one
# the first start reads.
install -d -m 0755 /etc/systemd/system/sallyport.service.d
cat > /etc/systemd/system/sallyport.service.d/10-after-cloud-init.conf <<'UNIT'
# Added by the sallyport AMI build: read the config cloud-init writes from user data.
[Unit]
After=cloud-init.service
UNIT

systemctl daemon-reload
systemctl enable sallyport.service
