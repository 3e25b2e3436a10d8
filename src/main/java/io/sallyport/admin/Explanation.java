package io.sallyport.admin;

import io.sallyport.identity.Identity;
import io.sallyport.policy.Decision;
import java.util.List;
import java.util.Optional;

/**
 * The answer to {@code sallyport explain}: who a login as the user would be, and what the server
 * would decide for their tunnel to the target. A running server sends it over the admin socket
 * (with its live identities); without one the CLI works it out from the config alone. Either way
 * it is printed the same.
 *
 * @param question what was asked
 * @param identity who a plain-key login as the user would be; empty when no identity source knows
 *                 the user
 * @param decision the tunnel's decision for the identity's roles, or a {@link Decision.Deny} with
 *                 why the login itself would be refused
 * @param notes    what the answer cannot say (a certificate's roles, IAM without a server), in
 *                 words for the operator
 */
public record Explanation(AdminProtocol.Request.Explain question, Optional<Identity> identity, Decision decision,
                          List<String> notes) {
    public Explanation {
        notes = List.copyOf(notes);
    }
}
