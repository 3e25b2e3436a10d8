package io.sallyport.admission;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class AllowedSourcesTest {

    @Test
    void emptyListAllowsEveryAddress() throws Exception {
        AllowedSources allowed = new AllowedSources(List.of());

        assertThat(allowed.allows(InetAddress.getByName("203.0.113.9"))).isTrue();
        assertThat(allowed.restricts()).isFalse();
    }

    @Test
    void addressOutsideTheListIsRefused() throws Exception {
        AllowedSources allowed = new AllowedSources(List.of("127.0.0.5/32", "2001:db8::/32"));

        assertThat(allowed.allows(InetAddress.getByName("127.0.0.5"))).isTrue();
        assertThat(allowed.allows(InetAddress.getByName("127.0.0.6"))).isFalse();
        assertThat(allowed.allows(InetAddress.getByName("2001:db8::1"))).isTrue();
        assertThat(allowed.allows(InetAddress.getByName("2001:db9::1"))).isFalse();
    }

    @Test
    void ipv4MappedPeerIsJudgedAsItsIpv4Address() throws Exception {
        AllowedSources allowed = new AllowedSources(List.of("127.0.0.5/32"));
        // what a dual-stack socket reports for an IPv4 client; Java turns the literal into IPv4, so build the bytes
        byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 127, 0, 0, 5};
        InetAddress peer = java.net.Inet6Address.getByAddress(null, mapped, -1);
        byte[] other = mapped.clone();
        other[15] = 6;

        assertThat(allowed.allows(peer)).isTrue();
        assertThat(allowed.allows(java.net.Inet6Address.getByAddress(null, other, -1))).isFalse();
    }

    @Test
    void reloadReplacesTheListForNewConnections() throws Exception {
        AllowedSources allowed = new AllowedSources(List.of("127.0.0.5/32"));
        allowed.replace(List.of("127.0.0.6/32"));

        assertThat(allowed.allows(InetAddress.getByName("127.0.0.5"))).isFalse();
        assertThat(allowed.allows(InetAddress.getByName("127.0.0.6"))).isTrue();
        allowed.replace(List.of());
        assertThat(allowed.allows(InetAddress.getByName("127.0.0.5"))).isTrue();
    }
}
