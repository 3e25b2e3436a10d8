package io.sallyport.identity.iam;

import io.sallyport.identity.SshPublicKey;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An IAM user who may use the bastion, as of one refresh.
 *
 * @param name  as IAM spells it (audited so)
 * @param keys  every key known for the user, with where it came from and whether it counts: the
 *              user's SSH public key API keys in any status, and the keys of their key tags, which
 *              carry the status IAM lists for the same key ({@code Inactive}, {@code Expired}) when
 *              IAM lists it for any allowed user, else {@code Active}
 */
record IamUser(String name, String arn, List<String> roles, Map<SshPublicKey, KeyState> keys) {
    IamUser {
        roles = List.copyOf(roles);
        keys = Map.copyOf(keys);
    }

    /**
     * @param origin {@code IAM SSH public key APKA...} or {@code tag sallyport:ssh-key-2}
     * @param status {@code Active}, {@code Inactive} or {@code Expired}; tag keys are {@code Active}
     * @param date   when the key was put in place: IAM's {@code UploadDate}, or the tag's {@code date=}
     */
    record KeyState(String origin, String status, io.sallyport.identity.KeyDate date) {
        KeyState(String origin, String status) {
            this(origin, status, new io.sallyport.identity.KeyDate.Unknown(origin + " has no date"));
        }

        boolean active() {
            return status.equals("Active");
        }
    }

    Optional<KeyState> key(SshPublicKey key) {
        return Optional.ofNullable(keys.get(key));
    }

    boolean hasActiveKey(String fingerprint) {
        return keys.entrySet().stream().anyMatch(e -> e.getValue().active() && e.getKey().fingerprint().equals(fingerprint));
    }
}
