# shellcheck shell=sh
# %pre: create the sallyport system user and group before rpm unpacks the files they own, and the
# sallyport-admin group whose members may use the admin socket.
# $1 is 1 on install, 2 on upgrade; both, so an upgrade repairs a deleted user.
# The lines are the ones in /usr/lib/sysusers.d/sallyport.conf (a test keeps them equal);
# systemd-sysusers applies that file at boot as well.
if command -v systemd-sysusers >/dev/null 2>&1; then
  systemd-sysusers --replace=/usr/lib/sysusers.d/sallyport.conf - <<'SYSUSERS'
u sallyport - "sallyport SSH jump server" /var/lib/sallyport /usr/sbin/nologin
g sallyport-admin -
SYSUSERS
else
  getent group sallyport >/dev/null || groupadd -r sallyport
  getent passwd sallyport >/dev/null || useradd -r -g sallyport -d /var/lib/sallyport \
    -s /usr/sbin/nologin -c "sallyport SSH jump server" sallyport
  getent group sallyport-admin >/dev/null || groupadd -r sallyport-admin
fi
