package io.sallyport.identity.iam;

/**
 * What one refresh cost and found. The call count is the budget docs/iam.md promises:
 * {@code pages + allowed + fetchedKeys}, where {@code pages = ceil(U / 1000)} for U IAM users in
 * the account (IAM may cut a page shorter), one {@code ListSSHPublicKeys} per allowed user, and one
 * {@code GetSSHPublicKey} per key (any status) not fetched by an earlier refresh.
 *
 * @param pages        {@code GetAccountAuthorizationDetails} calls
 * @param keyListings  {@code ListSSHPublicKeys} calls
 * @param fetchedKeys  {@code GetSSHPublicKey} calls
 * @param users        users in the account
 * @param inPath       of those, users under {@code path_prefix}
 * @param allowed      of those, users allowed by tag or group
 * @param activeKeys   Active keys of allowed users (SSH public key API and tags)
 */
public record RefreshStats(int pages, int keyListings, int fetchedKeys, int users, int inPath, int allowed, int activeKeys) {

    public int calls() {
        return pages + keyListings + fetchedKeys;
    }

    /**
     * The documented worst case for a refresh: {@code ceil(U / pageSize) + A + K}, with K the
     * SSH-public-key-API keys of allowed users not yet cached, whatever their status (at most 5 per user).
     */
    public static int budget(int users, int allowed, int uncachedKeys, int pageSize) {
        return Math.max(1, (users + pageSize - 1) / pageSize) + allowed + uncachedKeys;
    }

    @Override
    public String toString() {
        return calls() + " IAM calls (" + pages + " GetAccountAuthorizationDetails, " + keyListings + " ListSSHPublicKeys, "
                + fetchedKeys + " GetSSHPublicKey); " + users + " users, " + inPath + " under path_prefix, "
                + allowed + " allowed, " + activeKeys + " active keys";
    }
}
