package io.sallyport.aws;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Reads this instance's id and region from the EC2 instance metadata service, IMDSv2 only (a
 * session token first, then reads that carry it). Plain HTTP with the JDK client: the SDK's
 * {@code imds} module is not available at the SDK version used here, and two GETs need no more.
 *
 * <p>Where it asks, as the AWS SDKs do: {@code AWS_EC2_METADATA_SERVICE_ENDPOINT} (environment)
 * or {@code aws.ec2MetadataServiceEndpoint} (system property), else {@code http://169.254.169.254};
 * {@code AWS_EC2_METADATA_DISABLED=true} turns it off. Off EC2 the lookup fails within its
 * timeout and the caller falls back (host name; a configured region).
 */
public final class InstanceMetadata {
    static final String DEFAULT_ENDPOINT = "http://169.254.169.254";
    private static final Pattern INSTANCE_ID = Pattern.compile("i-[0-9a-f]{8,32}");
    private static final Pattern REGION = Pattern.compile("[a-z]{2}(-[a-z]+)+-[0-9]+");
    private static final Duration TOKEN_TTL = Duration.ofMinutes(5);

    /** What the lookup found; {@code problem} says why something is missing. */
    public record Answer(Optional<String> instanceId, Optional<String> region, Optional<String> problem) {
        static Answer failed(String problem) {
            return new Answer(Optional.empty(), Optional.empty(), Optional.of(problem));
        }
    }

    private final URI endpoint;
    private final boolean disabled;
    private final Duration timeout;

    public InstanceMetadata(URI endpoint, Duration timeout) {
        this(endpoint, false, timeout);
    }

    private InstanceMetadata(URI endpoint, boolean disabled, Duration timeout) {
        this.endpoint = endpoint;
        this.disabled = disabled;
        this.timeout = timeout;
    }

    /** Configured the way the AWS SDKs are (see the class comment). */
    public static InstanceMetadata fromEnvironment(Map<String, String> env, Duration timeout) {
        String configured = env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT");
        if (configured == null || configured.isBlank()) {
            configured = System.getProperty("aws.ec2MetadataServiceEndpoint");
        }
        if (configured == null || configured.isBlank()) {
            configured = DEFAULT_ENDPOINT;
        }
        boolean disabled = "true".equalsIgnoreCase(env.getOrDefault("AWS_EC2_METADATA_DISABLED",
                System.getProperty("aws.disableEc2Metadata", "false")));
        return new InstanceMetadata(URI.create(configured.replaceAll("/+$", "")), disabled, timeout);
    }

    public URI endpoint() {
        return endpoint;
    }

    /** Asks once for a token, then for the instance id and region. Never throws. */
    public Answer lookup() {
        if (disabled) {
            return Answer.failed("instance metadata disabled (AWS_EC2_METADATA_DISABLED)");
        }
        HttpClient http = HttpClient.newBuilder().connectTimeout(timeout).version(HttpClient.Version.HTTP_1_1).build();
        try {
            HttpResponse<String> token = http.send(HttpRequest.newBuilder(endpoint.resolve("/latest/api/token"))
                    .timeout(timeout)
                    .header("X-aws-ec2-metadata-token-ttl-seconds", Long.toString(TOKEN_TTL.toSeconds()))
                    .PUT(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            if (token.statusCode() != 200 || token.body().isBlank()) {
                return Answer.failed("IMDSv2 token request to " + endpoint + " answered HTTP " + token.statusCode());
            }
            Optional<String> id = get(http, token.body(), "/latest/meta-data/instance-id", INSTANCE_ID);
            Optional<String> region = get(http, token.body(), "/latest/meta-data/placement/region", REGION);
            String problem = id.isEmpty() || region.isEmpty() ? "instance metadata at " + endpoint + " gave no usable "
                    + (id.isEmpty() ? "instance id" : "region") : null;
            return new Answer(id, region, Optional.ofNullable(problem));
        } catch (IOException e) {
            return Answer.failed("instance metadata at " + endpoint + " did not answer (" + e + ")");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Answer.failed("interrupted while asking the instance metadata service");
        }
    }

    private Optional<String> get(HttpClient http, String token, String path, Pattern valid)
            throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(endpoint.resolve(path)).timeout(timeout)
                .header("X-aws-ec2-metadata-token", token).GET().build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        String body = r.body().trim();
        // What goes into stream names and every audit event must look like what it claims to be.
        return r.statusCode() == 200 && valid.matcher(body).matches() ? Optional.of(body) : Optional.empty();
    }
}
