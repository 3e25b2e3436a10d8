package io.sallyport.identity;

import java.util.List;

/**
 * A CA trusted to vouch for users ({@code identity.certificates.authorities[]}).
 *
 * @param grantableRoles the only roles a certificate of this CA can give, whatever it claims
 */
public record CertificateAuthority(String name, SshPublicKey key, List<String> grantableRoles) {
    public CertificateAuthority {
        grantableRoles = List.copyOf(grantableRoles);
    }
}
