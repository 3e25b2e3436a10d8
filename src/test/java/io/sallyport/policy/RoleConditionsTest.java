package io.sallyport.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.config.Config;
import io.sallyport.config.ConfigLoader;
import io.sallyport.net.IpLiterals;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** A role's {@code from} and {@code require}, judged on what one login proved. */
class RoleConditionsTest {
    private static final LoginFacts.FidoProof TOUCHED = new LoginFacts.FidoProof("sk-ssh-ed25519@openssh.com", true, false);
    private static final LoginFacts.FidoProof TOUCHED_AND_PIN = new LoginFacts.FidoProof("sk-ssh-ed25519@openssh.com", true, true);
    private static final LoginFacts.FidoProof NO_TOUCH = new LoginFacts.FidoProof("sk-ecdsa-sha2-nistp256@openssh.com", false, false);

    private static RoleConditions conditions(String roles) throws Exception {
        Config c = ConfigLoader.parse("policy:\n  roles:\n" + roles, Path.of("test.yaml"));
        return RoleConditions.of(c.policy());
    }

    private static final String SEED = """
                admin:
                  allow: ["10.0.0.0/16:22"]
                  from: [203.0.113.0/24, "2001:db8:7::/48"]
                  require: [fido]
                db:
                  allow: ["10.0.20.0/24:5432"]
                  require: [fido-verified]
                dev:
                  allow: ["10.1.0.0/16:22"]
                  from: [203.0.113.0/24]
                anywhere:
                  allow: ["10.2.0.0/16:22"]
            """;

    private static LoginFacts from(String ip, LoginFacts.FidoProof fido) {
        return new LoginFacts(IpLiterals.parse(ip).orElseThrow(), Optional.ofNullable(fido));
    }

    private static RoleConditions.Dropped dropped(String role, String reason) {
        return new RoleConditions.Dropped(role, reason);
    }

    @Test
    void rolesWithoutConditionsAreKeptWhateverTheLoginProved() throws Exception {
        RoleConditions c = conditions(SEED);

        RoleConditions.Qualified q = c.qualify(List.of("anywhere"), from("198.51.100.7", null));

        assertThat(q.kept()).containsExactly("anywhere");
        assertThat(q.dropped()).isEmpty();
        assertThat(RoleConditions.NONE.qualify(List.of("admin", "db"), from("198.51.100.7", null)).kept())
                .containsExactly("admin", "db");
    }

    @Test
    void loginFromOutsideARolesCidrsLosesThatRoleAndKeepsTheOthers() throws Exception {
        RoleConditions c = conditions(SEED);

        RoleConditions.Qualified q = c.qualify(List.of("dev", "anywhere"), from("198.51.100.7", null));

        assertThat(q.kept()).containsExactly("anywhere");
        assertThat(q.dropped()).containsExactly(dropped("dev", "from: 198.51.100.7 is not in 203.0.113.0/24"));
    }

    @Test
    void loginFromInsideARolesCidrsKeepsIt() throws Exception {
        RoleConditions c = conditions(SEED);

        assertThat(c.qualify(List.of("dev"), from("203.0.113.250", null)).kept()).containsExactly("dev");
        assertThat(c.qualify(List.of("admin"), from("2001:db8:7:1::5", TOUCHED)).kept()).containsExactly("admin");
    }

    @Test
    void ipv4MappedIpv6ClientAddressIsJudgedAsTheIpv4AddressItCarries() throws Exception {
        RoleConditions c = conditions(SEED);
        // A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d.
        InetAddress mappedInside = InetAddress.getByAddress(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff,
                (byte) 203, 0, 113, 9});
        InetAddress mappedOutside = InetAddress.getByAddress(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff,
                (byte) 198, 51, 100, 7});

        assertThat(c.qualify(List.of("dev"), new LoginFacts(mappedInside, Optional.empty())).kept()).containsExactly("dev");
        assertThat(c.qualify(List.of("dev"), new LoginFacts(mappedOutside, Optional.empty())).dropped())
                .containsExactly(dropped("dev", "from: 198.51.100.7 is not in 203.0.113.0/24"));
    }

    @Test
    void unknownClientAddressMeetsNoFrom() throws Exception {
        RoleConditions c = conditions(SEED);

        RoleConditions.Qualified q = c.qualify(List.of("dev", "anywhere"), new LoginFacts(null, Optional.empty()));

        assertThat(q.kept()).containsExactly("anywhere");
        assertThat(q.dropped()).extracting(RoleConditions.Dropped::role).containsExactly("dev");
    }

    @Test
    void requireFidoRefusesAPlainKeyAndAFidoSignatureWithoutPresence() throws Exception {
        RoleConditions c = conditions("""
                    prod:
                      allow: ["10.0.0.0/16:22"]
                      require: [fido]
                """);

        assertThat(c.qualify(List.of("prod"), from("10.9.9.9", null)).dropped())
                .containsExactly(dropped("prod", "require fido: not a FIDO key"));
        assertThat(c.qualify(List.of("prod"), from("10.9.9.9", NO_TOUCH)).dropped())
                .containsExactly(dropped("prod", "require fido: no user presence on this login's signature"));
        assertThat(c.qualify(List.of("prod"), from("10.9.9.9", TOUCHED)).kept()).containsExactly("prod");
    }

    @Test
    void requireFidoVerifiedAlsoNeedsUserVerification() throws Exception {
        RoleConditions c = conditions(SEED);

        assertThat(c.qualify(List.of("db"), from("10.9.9.9", TOUCHED)).dropped())
                .containsExactly(dropped("db", "require fido-verified: no user verification on this login's signature"));
        assertThat(c.qualify(List.of("db"), from("10.9.9.9", NO_TOUCH)).dropped())
                .containsExactly(dropped("db", "require fido-verified: no user presence on this login's signature"));
        assertThat(c.qualify(List.of("db"), from("10.9.9.9", null)).dropped())
                .containsExactly(dropped("db", "require fido-verified: not a FIDO key"));
        assertThat(c.qualify(List.of("db"), from("10.9.9.9", TOUCHED_AND_PIN)).kept()).containsExactly("db");
    }

    @Test
    void everyUnmetConditionOfARoleIsNamed() throws Exception {
        RoleConditions c = conditions(SEED);

        assertThat(c.qualify(List.of("admin"), from("198.51.100.7", null)).dropped()).containsExactly(dropped("admin",
                "from: 198.51.100.7 is not in 203.0.113.0/24, 2001:db8:7::/48; require fido: not a FIDO key"));
    }

    @Test
    void keptRolesKeepTheOrderTheLoginWasGivenThem() throws Exception {
        RoleConditions c = conditions(SEED);

        RoleConditions.Qualified q = c.qualify(List.of("anywhere", "admin", "db", "dev"), from("203.0.113.1", TOUCHED));

        assertThat(q.kept()).containsExactly("anywhere", "admin", "dev");
        assertThat(q.dropped()).extracting(RoleConditions.Dropped::role).containsExactly("db");
    }

    @Test
    void aRoleNotInThePolicyHasNoConditions() throws Exception {
        assertThat(conditions(SEED).qualify(List.of("ghost"), from("198.51.100.7", null)).kept()).containsExactly("ghost");
    }

    @Test
    void addressOnlyQualificationIgnoresRequire() throws Exception {
        RoleConditions c = conditions(SEED);

        RoleConditions.Qualified q = c.qualifyAddress(List.of("admin", "db", "dev"), IpLiterals.parse("198.51.100.7").orElseThrow());

        assertThat(q.kept()).containsExactly("db");
        assertThat(q.dropped()).containsExactly(
                dropped("admin", "from: 198.51.100.7 is not in 203.0.113.0/24, 2001:db8:7::/48"),
                dropped("dev", "from: 198.51.100.7 is not in 203.0.113.0/24"));
    }

    @Test
    void explainJudgesFromOnTheGivenAddressAndListsWhatTheLoginMustStillMeet() throws Exception {
        RoleConditions c = conditions(SEED);

        RoleConditions.Explained outside = c.explain(List.of("admin", "db", "anywhere"), IpLiterals.parse("198.51.100.7"));
        assertThat(outside.kept()).containsExactly("db", "anywhere");
        assertThat(outside.dropped()).extracting(RoleConditions.Dropped::role).containsExactly("admin");
        assertThat(outside.pending()).containsExactly(new RoleConditions.Pending("db", "require fido-verified (a FIDO key,"
                + " with user presence and verification (PIN, biometric) on the login's signature)"));

        RoleConditions.Explained anywhere = c.explain(List.of("dev"), Optional.empty());
        assertThat(anywhere.kept()).containsExactly("dev");
        assertThat(anywhere.pending())
                .containsExactly(new RoleConditions.Pending("dev", "from 203.0.113.0/24 only (not judged: no client address given)"));
    }

    @Test
    void conditionsAreDescribedAsWritten() throws Exception {
        RoleConditions c = conditions(SEED);

        assertThat(c.describe("admin")).contains("from 203.0.113.0/24, 2001:db8:7::/48; require fido");
        assertThat(c.describe("db")).contains("require fido-verified");
        assertThat(c.describe("anywhere")).isEmpty();
    }

    @Test
    void compiledPolicyCarriesTheConditions() throws Exception {
        Config config = ConfigLoader.parse("policy:\n  roles:\n" + SEED, Path.of("test.yaml"));
        ForwardingPolicy p = PolicyCompiler.compile(config, new FakeDns(), List::of, new java.util.ArrayList<>());

        assertThat(p.conditions().qualify(List.of("dev", "anywhere"), from("198.51.100.7", null)).kept())
                .containsExactly("anywhere");
    }
}
