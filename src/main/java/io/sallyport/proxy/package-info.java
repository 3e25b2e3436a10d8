/**
 * The PROXY protocol (v1 text, v2 binary; haproxy's doc/proxy-protocol.txt): the header a load
 * balancer such as an AWS NLB puts before the SSH bytes to say who the real client is.
 *
 * <p>Plain Java on purpose: no MINA, no AWS SDK. The parser reads bytes and answers with a value;
 * the SSH accept path decides what to do with it (trusted sources, timeouts, audit).
 */
package io.sallyport.proxy;
