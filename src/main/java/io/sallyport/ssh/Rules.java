package io.sallyport.ssh;

import io.sallyport.config.Config;
import io.sallyport.identity.Logins;
import io.sallyport.policy.ForwardingPolicy;

/**
 * What the server decides by: who may log in ({@link Logins}), where they may go
 * ({@link ForwardingPolicy}), and the config the limits and timeouts come from. A reload builds a
 * whole new value from a validated config and swaps it in at once, so no decision ever sees half of
 * an old config and half of a new one.
 */
public record Rules(Config config, Logins logins, ForwardingPolicy policy) {}
