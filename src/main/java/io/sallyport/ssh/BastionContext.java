package io.sallyport.ssh;

import io.sallyport.audit.Auditor;
import java.util.function.Supplier;

/**
 * What the SSH adapters share: where events go, the rules in force (read per decision, since a
 * reload replaces them), the live sessions, the queue that runs forwarding decisions (which may
 * wait on DNS) off MINA's I/O threads, and the after-login quotas: tunnels per session and user and
 * the heap's high water.
 */
record BastionContext(Auditor auditor, Supplier<Rules> rules, SessionRegistry registry, DecisionQueue decisions,
                      TunnelQuota quota, HeapWatch heap) {}
