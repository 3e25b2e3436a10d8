package io.sallyport.aws;

import io.sallyport.config.Config;
import java.net.URI;
import java.time.Duration;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.retries.api.RetryStrategy;
import software.amazon.awssdk.services.iam.IamClient;

/**
 * Builds the IAM client of the IAM identity source. This package is the only place that builds
 * AWS SDK clients, so every choice below is made once and stated here:
 *
 * <ul>
 *   <li>Credentials from the SDK's default chain: on EC2 that is the instance profile (IMDSv2);
 *       tests set {@code aws.accessKeyId}/{@code aws.secretAccessKey} system properties, which the
 *       same chain reads first. No credentials are ever read from sallyport's own config.</li>
 *   <li>{@code url-connection-client}, passed explicitly: the SDK's default clients (apache5,
 *       netty) are excluded from the build, so there is one HTTP stack and no surprise threads.</li>
 *   <li>Explicit timeouts, so a hung IAM endpoint costs a refresh, never a thread forever.</li>
 *   <li>The STANDARD retry strategy (the SDK still defaults to LEGACY) with {@link Timings#attempts}
 *       attempts, exponential backoff with jitter, and a longer backoff for throttling. Its circuit
 *       breaker is off: the refresher already backs off between refreshes, and a drained token
 *       bucket would silently turn "3 attempts" into one and make error messages lie.</li>
 * </ul>
 */
public final class IamClients {
    private IamClients() {}

    /**
     * Timeouts and retries of one client.
     *
     * @param attempts         tries per API call, the first included
     * @param backoffBase      first retry delay for errors other than throttling (doubles, with jitter)
     * @param throttlingBase   first retry delay after {@code Throttling} (doubles, with jitter)
     * @param maxBackoff       longest single retry delay
     * @param connectTimeout   TCP connect to the endpoint
     * @param socketTimeout    silence on an open connection
     * @param attemptTimeout   one HTTP attempt, end to end
     * @param callTimeout      one API call, all attempts and backoff included
     */
    public record Timings(int attempts, Duration backoffBase, Duration throttlingBase, Duration maxBackoff,
                          Duration connectTimeout, Duration socketTimeout, Duration attemptTimeout, Duration callTimeout) {
        /** What {@code sallyport run} uses. */
        public static final Timings PRODUCTION = new Timings(3, Duration.ofMillis(200), Duration.ofSeconds(1),
                Duration.ofSeconds(20), Duration.ofSeconds(3), Duration.ofSeconds(10), Duration.ofSeconds(15),
                Duration.ofSeconds(60));
    }

    /** The client for {@code identity.iam}, with {@link Timings#PRODUCTION}. */
    public static IamClient iam(Config.Iam iam) {
        return iam(iam, Timings.PRODUCTION);
    }

    public static IamClient iam(Config.Iam iam, Timings timings) {
        var builder = IamClient.builder()
                .region(Region.of(iam.region()))
                .credentialsProvider(DefaultCredentialsProvider.builder().build())
                .httpClient(UrlConnectionHttpClient.builder()
                        .connectionTimeout(timings.connectTimeout())
                        .socketTimeout(timings.socketTimeout())
                        .build())
                .overrideConfiguration(ClientOverrideConfiguration.builder()
                        .retryStrategy(retryStrategy(timings))
                        .apiCallAttemptTimeout(timings.attemptTimeout())
                        .apiCallTimeout(timings.callTimeout())
                        .build());
        iam.endpoint().ifPresent(e -> builder.endpointOverride(URI.create(e)));
        return builder.build();
    }

    static RetryStrategy retryStrategy(Timings timings) {
        return AwsRetryStrategy.standardRetryStrategy().toBuilder()
                .maxAttempts(timings.attempts())
                .backoffStrategy(BackoffStrategy.exponentialDelay(timings.backoffBase(), timings.maxBackoff()))
                .throttlingBackoffStrategy(BackoffStrategy.exponentialDelay(timings.throttlingBase(), timings.maxBackoff()))
                .circuitBreakerEnabled(false)
                .build();
    }
}
