package io.sallyport.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** SPEC §4: the built-in deny list, checked before any allow rule and not removable. */
class DenyListTest {
    private static final DenyList BUILT_IN_ONLY = new DenyList(List.of(), false, List::of);

    private static InetAddress ip(String literal) {
        return IpLiterals.parse(literal).orElseThrow();
    }

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
            "169.254.169.254          | 169.254.169.254 is the cloud instance metadata service",
            "::ffff:169.254.169.254   | 169.254.169.254 is the cloud instance metadata service",
            "169.254.170.2            | 169.254.170.2 is the ECS task credentials endpoint",
            "169.254.170.23           | 169.254.170.23 is the EKS Pod Identity endpoint",
            "169.254.169.123          | 169.254.169.123 is link-local (cloud metadata, time and DNS services)",
            "169.254.0.1              | 169.254.0.1 is link-local (cloud metadata, time and DNS services)",
            "fd00:ec2::254            | fd00:ec2::254 is the AWS IPv6 service range (metadata, DNS, time)",
            "fd00:ec2::23             | fd00:ec2::23 is the AWS IPv6 service range (metadata, DNS, time)",
            "fe80::1                  | fe80::1 is link-local",
            "64:ff9b::a9fe:a9fe       | 64:ff9b::a9fe:a9fe is NAT64 (would reach any IPv4 address)",
            "64:ff9b::a00:1           | 64:ff9b::a00:1 is NAT64 (would reach any IPv4 address)",
            "64:ff9b:1::a9fe:a9fe     | 64:ff9b:1::a9fe:a9fe is local-use NAT64 (would reach any IPv4 address)",
            "2002:a9fe:a9fe::1        | 2002:a9fe:a9fe::1 is 6to4 (embeds an IPv4 address a relay would reach)",
            "2001:0:4136:e378::1      | 2001:0:4136:e378::1 is Teredo (embeds an IPv4 address a relay would reach)",
            "fec0::1                  | fec0::1 is site-local (deprecated, may still route inside the site)",
            "0.0.0.0                  | 0.0.0.0 is 'this network' (0.0.0.0 reaches the bastion itself)",
            "0.1.2.3                  | 0.1.2.3 is 'this network' (0.0.0.0 reaches the bastion itself)",
            "::                       | :: is the unspecified address (reaches the bastion itself)",
            "::a9fe:a9fe              | ::a9fe:a9fe is IPv4-compatible IPv6 (deprecated, embeds an IPv4 address)",
            "224.0.0.1                | 224.0.0.1 is multicast",
            "239.255.255.250          | 239.255.255.250 is multicast",
            "ff02::1                  | ff02::1 is multicast",
            "255.255.255.255          | 255.255.255.255 is reserved and broadcast",
            "240.0.0.1                | 240.0.0.1 is reserved and broadcast",
            "127.0.0.1                | 127.0.0.1 is loopback (the bastion itself)",
            "127.255.255.254          | 127.255.255.254 is loopback (the bastion itself)",
            "::1                      | ::1 is loopback (the bastion itself)",
            "::ffff:127.0.0.1         | 127.0.0.1 is loopback (the bastion itself)",
    })
    void builtInBlocksAreDeniedWithTheirReason(String address, String reason) {
        assertThat(BUILT_IN_ONLY.reasonToDeny(ip(address))).hasValue(reason);
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.0.3.17", "172.16.0.1", "192.168.1.1", "100.64.0.1", "fd00::1", "fc00::1",
            "203.0.113.9", "2001:db8::1", "169.253.255.255", "169.255.0.0", "1.0.0.0", "223.255.255.255"})
    void ordinaryAddressesAreNotOnTheList(String address) {
        assertThat(BUILT_IN_ONLY.reasonToDeny(ip(address))).isEmpty();
    }

    @Test
    void operatorDenyEntriesAreAddedAndNamedInTheReason() {
        DenyList deny = new DenyList(List.of(Cidr.parse("10.0.99.0/24"), Cidr.parse("fd00:99::/32")), false, List::of);

        assertThat(deny.reasonToDeny(ip("10.0.99.7"))).hasValue("10.0.99.7 is denied by policy.deny 10.0.99.0/24");
        assertThat(deny.reasonToDeny(ip("::ffff:10.0.99.7"))).hasValue("10.0.99.7 is denied by policy.deny 10.0.99.0/24");
        assertThat(deny.reasonToDeny(ip("fd00:99::5"))).isPresent();
        assertThat(deny.reasonToDeny(ip("10.0.98.7"))).isEmpty();
    }

    @Test
    void operatorDenyCannotRemoveTheBuiltInList() {
        DenyList deny = new DenyList(List.of(), false, List::of);
        assertThat(deny.reasonToDeny(ip("169.254.169.254"))).isPresent();
    }

    @Test
    void bastionsOwnAddressesAreDenied() {
        DenyList deny = new DenyList(List.of(), false, () -> List.of(ip("10.0.1.10"), ip("fd00::10")));

        assertThat(deny.reasonToDeny(ip("10.0.1.10"))).hasValue("10.0.1.10 is an address of the bastion itself");
        assertThat(deny.reasonToDeny(ip("::ffff:10.0.1.10"))).hasValue("10.0.1.10 is an address of the bastion itself");
        assertThat(deny.reasonToDeny(ip("fd00::10"))).isPresent();
        assertThat(deny.reasonToDeny(ip("10.0.1.11"))).isEmpty();
    }

    @Test
    void ownAddressGivenAsIpv4MappedIpv6IsStillDenied() throws Exception {
        byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 10, 0, 1, 10};
        InetAddress own = java.net.Inet6Address.getByAddress(null, mapped, -1);
        DenyList deny = new DenyList(List.of(), false, () -> List.of(own));

        assertThat(deny.reasonToDeny(ip("10.0.1.10"))).isPresent();
    }

    @Test
    void ownAddressesAreAskedOnEveryCheckSoALateInterfaceIsCovered() {
        List<InetAddress> own = new CopyOnWriteArrayList<>();
        AtomicInteger asked = new AtomicInteger();
        DenyList deny = new DenyList(List.of(), false, () -> {
            asked.incrementAndGet();
            return own;
        });

        assertThat(deny.reasonToDeny(ip("10.0.2.20"))).isEmpty();
        own.add(ip("10.0.2.20")); // a second ENI came up
        assertThat(deny.reasonToDeny(ip("10.0.2.20"))).hasValue("10.0.2.20 is an address of the bastion itself");
        assertThat(asked).hasValue(2);
    }

    @Test
    void unsafeAllowLoopbackLetsIpv4LoopbackThroughAndNothingElse() {
        DenyList deny = new DenyList(List.of(), true, () -> List.of(ip("127.0.0.1"), ip("10.0.1.10")));

        assertThat(deny.allowsLoopback()).isTrue();
        assertThat(deny.reasonToDeny(ip("127.0.0.1"))).isEmpty();
        assertThat(deny.reasonToDeny(ip("127.0.0.2"))).isEmpty();
        assertThat(deny.reasonToDeny(ip("169.254.169.254"))).isPresent();
        assertThat(deny.reasonToDeny(ip("0.0.0.0"))).isPresent();
        assertThat(deny.reasonToDeny(ip("::"))).isPresent();
        assertThat(deny.reasonToDeny(ip("10.0.1.10"))).hasValue("10.0.1.10 is an address of the bastion itself");
    }

    /** SPEC §4 names loopback as "127.0.0.0/8, ::1", and unsafe_allow_loopback lets loopback through. */
    @Test
    void unsafeAllowLoopbackLetsIpv6LoopbackThrough() {
        DenyList deny = new DenyList(List.of(), true, List::of);

        assertThat(deny.reasonToDeny(ip("::1"))).isEmpty();
    }

    @Test
    void loopbackIsDeniedByDefault() {
        assertThat(BUILT_IN_ONLY.allowsLoopback()).isFalse();
        assertThat(BUILT_IN_ONLY.reasonToDeny(ip("127.0.0.1"))).isPresent();
        assertThat(BUILT_IN_ONLY.reasonToDeny(ip("::1"))).isPresent();
    }

    @Test
    void ownAddressesIncludeTheExtraListenAddressesAndTheInterfaces() {
        InetAddress listen = ip("198.51.100.7");
        List<InetAddress> own = new OwnAddresses(List.of(listen)).get();

        assertThat(own).contains(listen);
        assertThat(own).anySatisfy(a -> assertThat(a.isLoopbackAddress()).isTrue());
    }

    @Test
    void wholeBlocksOnTheDenyListAreNamed() {
        DenyList deny = new DenyList(List.of(Cidr.parse("10.0.99.0/24"), Cidr.parse("10.0.98.0/24")), false, List::of);

        assertThat(deny.reasonToDenyAll(Cidr.parse("169.254.169.254"))).contains(
                "it lies inside 169.254.169.254/32, the cloud instance metadata service, on the built-in deny list");
        assertThat(deny.reasonToDenyAll(Cidr.parse("127.0.0.1"))).hasValueSatisfying(r -> assertThat(r)
                .startsWith("it lies inside 127.0.0.0/8, loopback").endsWith("lets loopback through"));
        assertThat(deny.reasonToDenyAll(Cidr.parse("10.0.99.0/25"))).contains("it lies inside policy.deny 10.0.99.0/24");
        assertThat(deny.reasonToDenyAll(Cidr.parse("10.0.98.0/23"))).hasValueSatisfying(r -> assertThat(r)
                .startsWith("every address of it is on the deny list: "));
        assertThat(deny.reasonToDenyAll(Cidr.parse("10.0.96.0/22"))).isEmpty();
        assertThat(deny.reasonToDenyAll(Cidr.parse("169.254.0.0/15"))).isEmpty();
    }

    @Test
    void loopbackLetThroughIsNotDeadUnlessPolicyDenyTakesItBack() {
        assertThat(new DenyList(List.of(), true, List::of).reasonToDenyAll(Cidr.parse("::1"))).isEmpty();
        assertThat(new DenyList(List.of(), true, List::of).reasonToDenyAll(Cidr.parse("127.0.0.0/8"))).isEmpty();
        assertThat(new DenyList(List.of(Cidr.parse("127.0.0.1")), true, List::of).reasonToDenyAll(Cidr.parse("127.0.0.1")))
                .isPresent();
    }

    @Test
    void firstAllowedOutsideSkipsDeniedAddresses() {
        List<Cidr> privateSpace = List.of(Cidr.parse("10.0.0.0/8"));

        assertThat(BUILT_IN_ONLY.firstAllowedOutside(Cidr.parse("0.0.0.0/0"), privateSpace)).contains(ip("1.0.0.0"));
        assertThat(BUILT_IN_ONLY.firstAllowedOutside(Cidr.parse("10.0.0.0/8"), privateSpace)).isEmpty();
        assertThat(BUILT_IN_ONLY.firstAllowedOutside(Cidr.parse("169.254.0.0/15"), privateSpace)).contains(ip("169.255.0.0"));
    }
}
