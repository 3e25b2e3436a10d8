package io.sallyport.ssh;

import io.sallyport.audit.Auditor;
import io.sallyport.net.DenyList;
import io.sallyport.policy.ForwardingPolicy;
import java.util.concurrent.ExecutorService;

/**
 * What the SSH adapters share: where events go, the forwarding policy, the live sessions, and the
 * executor that runs forwarding decisions (which may wait on DNS) off MINA's I/O threads.
 */
record BastionContext(Auditor auditor, ForwardingPolicy policy, DenyList denyList, SessionRegistry registry,
                      ExecutorService decisions) {}
