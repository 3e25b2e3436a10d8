package io.sallyport.admission;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PreAuthSlotsTest {
    private static final Source USER = new Source("192.0.2.1", false);
    private static final Source OFFICE = new Source("203.0.113.1", true);

    private static Source flooder(int i) {
        return new Source("198.51.100." + i, false);
    }

    private static boolean admitted(PreAuthSlots.Admission<String> a) {
        return a instanceof PreAuthSlots.Admission.Admitted<String>;
    }

    private static Optional<String> displaced(PreAuthSlots.Admission<String> a) {
        return ((PreAuthSlots.Admission.Admitted<String>) a).displaced();
    }

    private static String refusal(PreAuthSlots.Admission<String> a) {
        return ((PreAuthSlots.Admission.Refused<String>) a).reason().wireName();
    }

    @Test
    void oneSourceCannotHoldMoreThanItsShare() {
        PreAuthSlots<String> slots = new PreAuthSlots<>(100, 10);
        for (int i = 0; i < 10; i++) {
            assertThat(admitted(slots.admit(flooder(9), "f" + i))).isTrue();
        }

        assertThat(refusal(slots.admit(flooder(9), "f10"))).isEqualTo("max_unauthenticated_per_source");
        assertThat(admitted(slots.admit(USER, "user"))).isTrue();
        assertThat(slots.held()).isEqualTo(11);
    }

    @Test
    void releasingGivesTheSlotBackOnce() {
        PreAuthSlots<String> slots = new PreAuthSlots<>(2, 1);
        slots.admit(USER, "a");

        assertThat(slots.release("a")).isTrue();
        assertThat(slots.release("a")).isFalse();
        assertThat(slots.held()).isZero();
        assertThat(slots.sources()).isZero();
        assertThat(admitted(slots.admit(USER, "b"))).isTrue();
    }

    @Test
    void whenFullTheNewcomerDisplacesTheOldestConnectionOfTheLargestHolder() {
        PreAuthSlots<String> slots = new PreAuthSlots<>(6, 3);
        slots.admit(flooder(1), "a1");
        slots.admit(flooder(2), "b1");
        slots.admit(flooder(2), "b2");
        slots.admit(flooder(2), "b3");
        slots.admit(flooder(3), "c1");
        slots.admit(flooder(3), "c2");

        PreAuthSlots.Admission<String> user = slots.admit(USER, "user");

        assertThat(displaced(user)).contains("b1");
        assertThat(slots.held()).isEqualTo(6);
        assertThat(slots.holdersFrom(flooder(2))).containsExactly("b2", "b3");
    }

    @Test
    void floodFromManyAddressesCrowdsOutOnlyItself() {
        PreAuthSlots<String> slots = new PreAuthSlots<>(20, 10);
        for (int i = 0; i < 20; i++) {
            slots.admit(flooder(i % 2), "f" + i);
        }
        slots.admit(USER, "user");
        // The flood goes on from more addresses (fewer than the slots); each newcomer takes from the largest holder.
        for (int i = 0; i < 500; i++) {
            slots.admit(flooder(2 + i % 17), "g" + i);
        }

        assertThat(slots.holdersFrom(USER)).containsExactly("user");
        assertThat(slots.held()).isEqualTo(20);
    }

    @Test
    void floodFromMoreAddressesThanSlotsDisplacesTheOldestSingleHolders() {
        PreAuthSlots<String> slots = new PreAuthSlots<>(20, 10);
        slots.admit(USER, "user");
        for (int i = 0; i < 19; i++) {
            slots.admit(flooder(i), "f" + i);
        }

        // The documented limit: with every holder down to one slot, the oldest goes first.
        assertThat(displaced(slots.admit(flooder(100), "late"))).contains("user");
    }

    @Test
    void aSourceCannotDisplaceItselfOrAnEqualHolder() {
        PreAuthSlots<String> slots = new PreAuthSlots<>(4, 10);
        slots.admit(flooder(1), "a1");
        slots.admit(flooder(1), "a2");
        slots.admit(flooder(2), "b1");
        slots.admit(flooder(2), "b2");

        assertThat(refusal(slots.admit(flooder(1), "a3"))).isEqualTo("max_unauthenticated");
        assertThat(displaced(slots.admit(flooder(3), "c1"))).contains("a1");
        assertThat(displaced(slots.admit(flooder(3), "c2"))).contains("b1");
        // Now everyone holds one or two; c (2) may not take from a or b (1 each).
        assertThat(refusal(slots.admit(flooder(3), "c3"))).isEqualTo("max_unauthenticated");
    }

    @Test
    void exemptSourcesAreNotCappedButCountTowardTheTotalAndAreNeverDisplaced() {
        PreAuthSlots<String> slots = new PreAuthSlots<>(5, 2);
        for (int i = 0; i < 5; i++) {
            assertThat(admitted(slots.admit(OFFICE, "o" + i))).isTrue();
        }

        assertThat(refusal(slots.admit(USER, "user"))).isEqualTo("max_unauthenticated");
        assertThat(slots.held()).isEqualTo(5);
    }

    @Test
    void anExemptNewcomerDisplacesTheLargestOtherHolder() {
        PreAuthSlots<String> slots = new PreAuthSlots<>(3, 3);
        slots.admit(flooder(1), "f1");
        slots.admit(flooder(1), "f2");
        slots.admit(OFFICE, "o1");

        assertThat(displaced(slots.admit(OFFICE, "o2"))).contains("f1");
        assertThat(displaced(slots.admit(OFFICE, "o3"))).contains("f2");
        assertThat(refusal(slots.admit(OFFICE, "o4"))).isEqualTo("max_unauthenticated");
    }

    @Test
    void memoryIsBoundedByTheSlotsHeld() {
        PreAuthSlots<String> slots = new PreAuthSlots<>(50, 10);
        for (int i = 0; i < 100_000; i++) {
            slots.admit(new Source("2001:db8:" + Integer.toHexString(i) + "::/64", false), "c" + i);
        }

        assertThat(slots.held()).isEqualTo(50);
        assertThat(slots.sources()).isEqualTo(50);
    }

    @Test
    void oneIpv6Slash56CannotDisplaceAnEngineerMidLogin() throws Exception {
        SourceBlocks blocks = new SourceBlocks(List.of());
        PreAuthSlots<String> slots = new PreAuthSlots<>(100, 10);
        slots.admit(blocks.of(InetAddress.getByName("192.0.2.7")), "engineer");
        // One attacker with a /56: 256 /64s, each a source of its own for the per-source cap.
        for (int i = 0; i < 256; i++) {
            Source s = blocks.of(InetAddress.getByName("2001:db8:0:" + Integer.toHexString(i) + "::1"));
            for (int k = 0; k < 3; k++) {
                PreAuthSlots.Admission<String> a = slots.admit(s, "atk" + i + "-" + k);
                if (admitted(a)) {
                    assertThat(displaced(a)).as("attacker connection %d-%d", i, k).isNotEqualTo(Optional.of("engineer"));
                }
            }
        }

        assertThat(slots.holdersFrom(blocks.of(InetAddress.getByName("192.0.2.7")))).containsExactly("engineer");
    }

    @Test
    void aSlash48HoldsNoMoreThanItsFairShareWhenOthersArrive() throws Exception {
        SourceBlocks blocks = new SourceBlocks(List.of());
        PreAuthSlots<String> slots = new PreAuthSlots<>(20, 10);
        for (int i = 0; i < 20; i++) {
            slots.admit(blocks.of(InetAddress.getByName("2001:db8:0:" + i + "::1")), "atk" + i);
        }
        for (int u = 0; u < 10; u++) {
            PreAuthSlots.Admission<String> a = slots.admit(flooder(100 + u), "user" + u);
            assertThat(displaced(a)).as("user %d", u).hasValueSatisfying(v -> assertThat(v).startsWith("atk"));
        }

        assertThat(slots.held()).isEqualTo(20);
        assertThat(refusal(slots.admit(blocks.of(InetAddress.getByName("2001:db8:0:ff::1")), "atk-late")))
                .isEqualTo("max_unauthenticated");
    }

    @Test
    void aConnectionThatOfferedAKeyIsDisplacedOnlyWhenNoOtherCandidateExists() {
        PreAuthSlots<String> slots = new PreAuthSlots<>(3, 3);
        slots.admit(flooder(1), "offered");
        slots.admit(flooder(1), "silent");
        slots.admit(flooder(2), "other");
        slots.keyOffered("offered");

        assertThat(displaced(slots.admit(USER, "u1"))).contains("silent");
        // Every holder is down to one slot; the only one that has not offered a key goes first.
        assertThat(displaced(slots.admit(flooder(3), "f3"))).contains("other");
        slots.keyOffered("u1");
        slots.keyOffered("f3");
        assertThat(displaced(slots.admit(flooder(4), "f4"))).contains("offered");
    }

    @Test
    void shrinkingTheCapKeepsHoldersAndRefusesNewcomersUntilBelowIt() {
        PreAuthSlots<String> slots = new PreAuthSlots<>(4, 2);
        for (int i = 0; i < 3; i++) {
            slots.admit(OFFICE, "o" + i);
        }

        slots.resize(2, 2);

        assertThat(slots.held()).isEqualTo(3);
        assertThat(slots.holdersFrom(OFFICE)).containsExactly("o0", "o1", "o2");
        assertThat(refusal(slots.admit(USER, "u1"))).isEqualTo("max_unauthenticated");
        slots.release("o0");
        assertThat(refusal(slots.admit(USER, "u2"))).as("2 held, still at the new cap").isEqualTo("max_unauthenticated");
        slots.release("o1");
        assertThat(displaced(slots.admit(USER, "u3"))).isEmpty();
        assertThat(slots.held()).isEqualTo(2);
    }

    @Test
    void whileOverAShrunkCapANewcomerOnlyDisplacesAndNeverAddsASlot() {
        PreAuthSlots<String> slots = new PreAuthSlots<>(6, 4);
        for (int i = 0; i < 4; i++) {
            slots.admit(flooder(1), "f" + i);
        }
        slots.admit(flooder(2), "g0");

        slots.resize(3, 4);

        assertThat(displaced(slots.admit(USER, "user"))).contains("f0");
        assertThat(slots.held()).isEqualTo(5);
        assertThat(displaced(slots.admit(flooder(2), "g1"))).contains("f1");
        assertThat(refusal(slots.admit(flooder(1), "f4"))).as("no one holds more than its two").isEqualTo("max_unauthenticated");
        assertThat(slots.held()).isEqualTo(5);
    }

    @Test
    void shrinkingThePerSourceCapKeepsTheSourcesConnectionsAndRefusesItsNextUntilBelowIt() {
        PreAuthSlots<String> slots = new PreAuthSlots<>(100, 10);
        for (int i = 0; i < 5; i++) {
            slots.admit(flooder(9), "f" + i);
        }

        slots.resize(100, 3);

        assertThat(slots.holdersFrom(flooder(9))).hasSize(5);
        assertThat(refusal(slots.admit(flooder(9), "f5"))).isEqualTo("max_unauthenticated_per_source");
        slots.release("f0");
        slots.release("f1");
        assertThat(refusal(slots.admit(flooder(9), "f6"))).isEqualTo("max_unauthenticated_per_source");
        slots.release("f2");
        assertThat(admitted(slots.admit(flooder(9), "f7"))).isTrue();
        assertThat(admitted(slots.admit(USER, "user"))).as("other sources are not affected").isTrue();
    }

    @Test
    void raisingTheCapAdmitsTheNextNewcomerWithoutDisplacingAnyone() {
        PreAuthSlots<String> slots = new PreAuthSlots<>(2, 2);
        slots.admit(flooder(1), "f0");
        slots.admit(flooder(1), "f1");
        assertThat(displaced(slots.admit(USER, "u0"))).contains("f0");

        slots.resize(4, 2);

        assertThat(displaced(slots.admit(flooder(2), "g0"))).isEmpty();
        assertThat(slots.held()).isEqualTo(3);
    }
}
