package io.sallyport.ssh;

import io.sallyport.audit.Auditor;
import io.sallyport.net.DenyList;
import io.sallyport.policy.ForwardingPolicy;
import java.time.Duration;

/**
 * What the SSH adapters share: where events go, the forwarding policy, the live sessions, the
 * queue that runs forwarding decisions (which may wait on DNS) off MINA's I/O threads, and the
 * after-login quotas: tunnels per session and user, the resolve timeout, the heap's high water.
 */
record BastionContext(Auditor auditor, ForwardingPolicy policy, DenyList denyList, SessionRegistry registry,
                      DecisionQueue decisions, TunnelQuota quota, HeapWatch heap, Duration resolveTimeout) {}
