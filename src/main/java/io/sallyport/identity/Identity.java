package io.sallyport.identity;

import java.util.List;
import java.util.Optional;

/**
 * Who a login turned out to be. {@code user} is spelled as the identity source spells it (IAM's
 * spelling for IAM users), which is what audit events carry.
 *
 * @param source  {@code local}, {@code iam} or {@code ca}
 * @param iamArn  the IAM user's ARN, for IAM identities
 */
public record Identity(String user, List<String> roles, String source, Optional<String> iamArn) {
    public Identity {
        roles = List.copyOf(roles);
    }
}
