package io.sallyport.identity;

/**
 * An identity source whose answers change while sessions are live (IAM: a key turned Inactive, an
 * allow tag removed). After each refresh it tells its listeners to re-check every live session
 * with {@link IdentitySource#recheck}: the SSH layer ends those it refuses (audited
 * {@code session.terminate}, reason {@code revoked}) and gives the others their roles now.
 *
 * <p>Re-checking every live session against the current state, rather than sending a diff of
 * what changed, is deliberate: a session that logged in on the previous state while a refresh
 * was being swapped in is caught at the next refresh instead of slipping through forever.
 */
public interface RevokingSource extends IdentitySource {

    /**
     * Registers {@code listener}, run after every successful refresh on the refresh thread. It
     * must not block for long: the next refresh waits for it.
     */
    void onRefresh(Runnable listener);

}
