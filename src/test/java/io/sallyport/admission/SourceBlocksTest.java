package io.sallyport.admission;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class SourceBlocksTest {
    private final SourceBlocks blocks = new SourceBlocks(List.of("203.0.113.0/24", "2001:db8:ff::/48"));

    private Source of(String ip) throws Exception {
        return blocks.of(InetAddress.getByName(ip));
    }

    @Test
    void anIpv4AddressIsASourceOfItsOwn() throws Exception {
        assertThat(of("198.51.100.7")).isEqualTo(new Source("198.51.100.7", false));
        assertThat(of("198.51.100.7")).isNotEqualTo(of("198.51.100.8"));
    }

    @Test
    void ipv6AddressesOfOneSlash64AreOneSource() throws Exception {
        assertThat(of("2001:db8:1:2::1")).isEqualTo(of("2001:db8:1:2:ffff:ffff:ffff:ffff"));
        assertThat(of("2001:db8:1:2::1").block()).isEqualTo("2001:db8:1:2::/64");
        assertThat(of("2001:db8:1:3::1")).isNotEqualTo(of("2001:db8:1:2::1"));
    }

    @Test
    void anIpv4MappedAddressCountsAsTheIpv4Address() throws Exception {
        assertThat(of("::ffff:198.51.100.7")).isEqualTo(of("198.51.100.7"));
    }

    @Test
    void penaltyExemptAddressesAreMarked() throws Exception {
        assertThat(of("203.0.113.77").exempt()).isTrue();
        assertThat(of("2001:db8:ff:1::5").exempt()).isTrue();
        assertThat(of("203.0.114.1").exempt()).isFalse();
    }

    @Test
    void ipv6FairShareIsJudgedPerSlash48() throws Exception {
        assertThat(of("2001:db8:1:2::1").shareBlock()).isEqualTo("2001:db8:1::/48");
        assertThat(of("2001:db8:1:ff::1").shareBlock()).isEqualTo(of("2001:db8:1:2::1").shareBlock());
        assertThat(of("198.51.100.7").shareBlock()).isEqualTo("198.51.100.7");
    }

    @Test
    void exemptSlash128DoesNotShareItsSlash64CounterWithStrangers() throws Exception {
        SourceBlocks office = new SourceBlocks(List.of("2001:db8:1:2::10/128"));
        Source exempt = office.of(InetAddress.getByName("2001:db8:1:2::10"));
        Source neighbour = office.of(InetAddress.getByName("2001:db8:1:2::99"));
        PreAuthSlots<String> slots = new PreAuthSlots<>(100, 10);
        for (int k = 0; k < 10; k++) {
            slots.admit(exempt, "o" + k);
        }

        assertThat(slots.admit(neighbour, "n")).isInstanceOf(PreAuthSlots.Admission.Admitted.class);
        assertThat(slots.holdersFrom(neighbour)).containsExactly("n");
    }

    @Test
    void aNewExemptListClassifiesTheAddressesLookedUpFromThenOn() throws Exception {
        Source before = of("198.51.100.7");

        blocks.exempt(List.of("198.51.100.0/24"));

        assertThat(before.exempt()).isFalse();
        assertThat(of("198.51.100.7").exempt()).isTrue();
        assertThat(of("203.0.113.77").exempt()).as("no longer listed").isFalse();
        assertThat(of("2001:db8:ff:1::5").exempt()).isFalse();
    }

    @Test
    void exemptingAnOfficeLetsItsNextConnectionsPastThePerSourceCapAndItsHeldSlotsAreGivenBack() throws Exception {
        SourceBlocks office = new SourceBlocks(List.of());
        PreAuthSlots<String> slots = new PreAuthSlots<>(100, 2);
        Source before = office.of(InetAddress.getByName("192.0.2.50"));
        slots.admit(before, "a");
        slots.admit(before, "b");
        assertThat(slots.admit(before, "c")).isInstanceOf(PreAuthSlots.Admission.Refused.class);

        office.exempt(List.of("192.0.2.0/24"));
        Source after = office.of(InetAddress.getByName("192.0.2.50"));

        assertThat(slots.admit(after, "d")).isInstanceOf(PreAuthSlots.Admission.Admitted.class);
        assertThat(slots.admit(after, "e")).isInstanceOf(PreAuthSlots.Admission.Admitted.class);
        assertThat(slots.release("a")).isTrue();
        assertThat(slots.release("b")).isTrue();
        assertThat(slots.held()).isEqualTo(2);
        assertThat(slots.sources()).isEqualTo(1);
    }
}
