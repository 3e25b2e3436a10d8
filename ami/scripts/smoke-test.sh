#!/usr/bin/env bash
# Starts sallyport once under its real, sandboxed unit on a loopback port and waits for its SSH
# banner: the sandbox (seccomp filter, capabilities, read-only OS) is first exercised here, on the
# real OS, rather than at an instance's first boot. Leaves nothing behind.
set -euo pipefail

port=2022
smoke=/run/sallyport-smoke
dropin=/run/systemd/system/sallyport.service.d

cleanup() {
  systemctl stop sallyport.service || true
  rm -rf "$dropin" "$smoke"
  systemctl daemon-reload
  # First start on an instance generates its own host key; none may be baked into the image.
  find /var/lib/sallyport /var/log/sallyport -mindepth 1 -delete
}
trap cleanup EXIT

install -d -m 0755 "$smoke" "$dropin"
cat > "$smoke/sallyport.yaml" <<YAML
listen: ["127.0.0.1:$port"]
host_keys: [/var/lib/sallyport/smoke_host_key]
audit:
  file: /var/log/sallyport/smoke.jsonl
YAML
chmod 0644 "$smoke/sallyport.yaml"
cat > "$dropin/50-smoke.conf" <<UNIT
[Service]
ExecStart=
ExecStart=/usr/bin/sallyport run -c $smoke/sallyport.yaml
UNIT
systemctl daemon-reload
systemctl start sallyport.service

banner=""
for _ in $(seq 1 60); do
  if banner=$(timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port && head -c 8 <&3" 2>/dev/null) \
      && [[ $banner == SSH-2.0-* ]]; then
    break
  fi
  sleep 1
done
if [[ $banner != SSH-2.0-* ]]; then
  echo "sallyport did not answer on 127.0.0.1:$port under its unit:" >&2
  systemctl status --no-pager sallyport.service >&2 || true
  journalctl --no-pager -u sallyport.service -n 50 >&2 || true
  exit 1
fi
grep -q '"event":"server.start"' /var/log/sallyport/smoke.jsonl
echo "sallyport smoke test: answered on 127.0.0.1:$port as $(systemctl show -p User --value sallyport.service)"
