package io.sallyport.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.regex.Pattern;

/**
 * Checks names that AWS itself will judge (regions, IAM tag keys, paths and group names,
 * CloudWatch log groups and streams) at load time, so a typo fails {@code check-config} instead of
 * the first API call, minutes after start. Each method returns its argument or throws
 * {@link IllegalArgumentException} with a message fit for the operator.
 */
final class AwsNames {
    private static final Pattern REGION = Pattern.compile("[a-z]{2}(-[a-z]+)+-[0-9]+");
    // IAM: "letters, numbers, spaces representable in UTF-8, and _ . : / = + - @", 1-128 characters.
    private static final Pattern TAG_KEY = Pattern.compile("[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]{1,128}");
    private static final Pattern IAM_PATH = Pattern.compile("/([\\x21-\\x7e]{0,510}/)?");
    private static final Pattern IAM_GROUP = Pattern.compile("[A-Za-z0-9+=,.@_-]{1,128}");
    private static final Pattern LOG_GROUP = Pattern.compile("[A-Za-z0-9._/#-]{1,512}");
    private static final Pattern LOG_STREAM_PLACEHOLDER = Pattern.compile("\\{(instance_id|hostname|date)}");
    /** Tag keys {@code PREFIX}, {@code PREFIX-2} ... {@code PREFIX-50}: IAM allows 50 tags a user. */
    private static final int KEY_TAG_SUFFIX_ROOM = 3;

    private AwsNames() {}

    static String region(String s) {
        if (!REGION.matcher(s).matches()) {
            throw new IllegalArgumentException("'" + s + "' is not an AWS region name (e.g. us-east-1, eu-central-1)");
        }
        return s;
    }

    static String tagKey(String s) {
        if (!TAG_KEY.matcher(s).matches() || s.startsWith("aws:")) {
            throw new IllegalArgumentException("'" + s + "' is not a usable IAM tag key (1-128 letters, digits, spaces"
                    + " and _ . : / = + - @; not starting with aws:)");
        }
        return s;
    }

    static String keyTagPrefix(String s) {
        tagKey(s);
        if (s.length() + KEY_TAG_SUFFIX_ROOM > 128) {
            throw new IllegalArgumentException("'" + s + "' leaves no room for the -2, -3 ... suffixes within"
                    + " IAM's 128-character tag keys");
        }
        return s;
    }

    static String iamPath(String s) {
        if (!IAM_PATH.matcher(s).matches()) {
            throw new IllegalArgumentException("'" + s + "' is not an IAM path (starts and ends with '/', e.g. / or /engineering/)");
        }
        return s;
    }

    static String iamGroup(String s) {
        if (!IAM_GROUP.matcher(s).matches()) {
            throw new IllegalArgumentException("'" + s + "' is not an IAM group name (1-128 of A-Z a-z 0-9 + = , . @ _ -)");
        }
        return s;
    }

    static String logGroup(String s) {
        if (!LOG_GROUP.matcher(s).matches()) {
            throw new IllegalArgumentException("'" + s + "' is not a CloudWatch log group name (1-512 of A-Z a-z 0-9 . _ / # -)");
        }
        return s;
    }

    /** Placeholders are filled in at start; what is left must be a valid stream name. */
    static String logStream(String s) {
        if (s.isEmpty() || s.length() > 512) {
            throw new IllegalArgumentException("a log stream name needs 1-512 characters");
        }
        if (s.indexOf(':') >= 0 || s.indexOf('*') >= 0) {
            throw new IllegalArgumentException("'" + s + "' contains ':' or '*', which CloudWatch does not allow in a log stream name");
        }
        String rest = LOG_STREAM_PLACEHOLDER.matcher(s).replaceAll("");
        if (rest.indexOf('{') >= 0 || rest.indexOf('}') >= 0) {
            throw new IllegalArgumentException("'" + s + "' has an unknown placeholder; only {instance_id}, {hostname} and {date} are filled in");
        }
        return s;
    }

    /** An {@code http(s)://host[:port]} override for an AWS endpoint (LocalStack, a VPC endpoint). */
    static String endpoint(String s) {
        URI uri;
        try {
            uri = new URI(s);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("'" + s + "' is not a URL (e.g. https://iam.amazonaws.com, http://127.0.0.1:4566)");
        }
        String scheme = uri.getScheme();
        if (scheme == null || !(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
            throw new IllegalArgumentException("'" + s + "' is not an http(s) URL with a host (e.g. http://127.0.0.1:4566)");
        }
        if (uri.getRawUserInfo() != null) {
            // The endpoint is printed by check-config and logged at start; credentials do not belong in it.
            throw new IllegalArgumentException("'" + uri.getHost() + "' endpoint must not carry user:password; AWS credentials come from the instance role");
        }
        return s;
    }
}
