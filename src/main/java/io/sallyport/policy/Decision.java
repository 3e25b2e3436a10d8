package io.sallyport.policy;

import java.net.InetAddress;
import java.util.Optional;

/**
 * The answer to "may this user open a tunnel to this target?". Audit events and
 * {@code sallyport explain} print the same value, so what an operator reads is what was decided.
 */
public sealed interface Decision {

    /**
     * @param role    the role whose rule matched
     * @param rule    the matching allow rule exactly as written in the config
     * @param address the checked address; the tunnel connects to this address and no other
     */
    record Allow(String role, String rule, InetAddress address) implements Decision {}

    /**
     * @param reason  why, in words fit for an audit event (never shown to the client)
     * @param address the address that was refused, when one was known
     */
    record Deny(String reason, Optional<InetAddress> address) implements Decision {
        public Deny(String reason) {
            this(reason, Optional.empty());
        }
    }
}
