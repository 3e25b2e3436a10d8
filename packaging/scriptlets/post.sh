# shellcheck shell=sh
# %post, as %systemd_post: on first install ($1 = 1) apply the system's preset for the unit.
# Amazon Linux presets leave a new service disabled; the AMI build enables it explicitly.
if [ "$1" -eq 1 ] && command -v systemctl >/dev/null 2>&1; then
  systemctl --no-reload preset sallyport.service >/dev/null 2>&1 || :
fi
