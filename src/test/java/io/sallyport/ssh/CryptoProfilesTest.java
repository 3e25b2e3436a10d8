package io.sallyport.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.config.Config.CryptoProfile;
import io.sallyport.ssh.cipher.ChaCha20Poly1305;
import java.util.List;
import org.apache.sshd.common.cipher.BuiltinCiphers;
import org.apache.sshd.common.cipher.CipherFactory;
import org.apache.sshd.common.kex.KeyExchangeFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class CryptoProfilesTest {
    @ParameterizedTest
    @EnumSource(CryptoProfile.class)
    void chachaIsOursUnderMinasNameInMinasPlace(CryptoProfile profile) {
        assertThat(CryptoProfiles.names(CryptoProfiles.ciphers(profile))).containsExactly(
                "aes256-gcm@openssh.com", "aes128-gcm@openssh.com", "chacha20-poly1305@openssh.com",
                "aes256-ctr", "aes192-ctr", "aes128-ctr");
        CipherFactory chacha = CryptoProfiles.ciphers(profile).get(2);
        assertThat(chacha).isNotSameAs(BuiltinCiphers.cc20p1305_openssh);
        assertThat(chacha.create()).isInstanceOf(ChaCha20Poly1305.class);
    }

    @ParameterizedTest
    @EnumSource(CryptoProfile.class)
    void groupExchangeIsOursWithItsFloorAndEveryOtherKeyExchangeIsMinas(CryptoProfile profile) {
        List<KeyExchangeFactory> server = CryptoProfiles.serverKeyExchanges(profile);

        assertThat(CryptoProfiles.names(server)).containsExactlyElementsOf(CryptoProfiles.names(CryptoProfiles.keyExchanges(profile)));
        for (KeyExchangeFactory f : server) {
            assertThat(f instanceof GroupExchangeServer.Factory)
                    .as(f.getName()).isEqualTo(f.getName().startsWith("diffie-hellman-group-exchange"));
        }
        assertThat(GroupExchangeServer.MIN_BITS).as("README, crypto profiles: no finite-field group below 4096 bits").isEqualTo(4096);
    }
}
