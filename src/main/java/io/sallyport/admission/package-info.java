/**
 * Who may hold a connection before login, and who is refused for a while: per-source pre-auth
 * slots ({@link io.sallyport.admission.PreAuthSlots}) and per-source penalties
 * ({@link io.sallyport.admission.SourcePenalties}), keyed by {@link io.sallyport.admission.Source}.
 *
 * <p>Plain Java, no SSH library: time comes from an injected ticker (nanoseconds, like Caffeine's
 * {@code Ticker}) so the windows and expiries are tested without waiting. The {@code ssh} package
 * adapts MINA's callbacks to these classes and audits every refusal they decide.
 */
package io.sallyport.admission;
