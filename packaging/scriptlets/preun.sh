# shellcheck shell=sh
# %preun, as %systemd_preun: on removal ($1 = 0), not upgrade, stop and disable the service.
if [ "$1" -eq 0 ] && command -v systemctl >/dev/null 2>&1; then
  systemctl --no-reload disable --now sallyport.service >/dev/null 2>&1 || :
fi
