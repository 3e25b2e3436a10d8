# shellcheck shell=sh
# %postun: let systemd see the changed or removed unit file.
# Unlike %systemd_postun_with_restart, an upgrade ($1 >= 1) does not restart a running server:
# a restart ends every live session, so the operator chooses when (docs/packaging.md). Until
# then the old version keeps running, from the jar it already has open.
if command -v systemctl >/dev/null 2>&1; then
  systemctl daemon-reload >/dev/null 2>&1 || :
  if [ "$1" -ge 1 ] && systemctl is-active --quiet sallyport.service; then
    echo "sallyport: upgraded; the running server stays on the previous version until 'systemctl restart sallyport' (which ends live sessions)"
  fi
fi
