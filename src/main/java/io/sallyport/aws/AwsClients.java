package io.sallyport.aws;

import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.cloudwatchlogs.CloudWatchLogsClient;

/**
 * The one place AWS SDK clients are built, each the same way:
 * <ul>
 *   <li>HTTP: the JDK-based {@code UrlConnectionHttpClient}, passed explicitly (the SDK would
 *       otherwise look for Apache or Netty clients on the class path; the pom excludes them);</li>
 *   <li>credentials: the default chain (environment, system properties, profile, container,
 *       the instance role through IMDSv2);</li>
 *   <li>retries: none in the SDK. The caller owns retrying, with its own capped, jittered backoff
 *       and its own bookkeeping (the audit shipper retries forever and counts every attempt; an
 *       SDK retry inside one of its attempts would hide throttling from it);</li>
 *   <li>timeouts: every attempt is bounded, so a stalled endpoint cannot hold a thread forever.</li>
 * </ul>
 */
public final class AwsClients {
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(3);

    private AwsClients() {}

    /**
     * @param endpoint       an override such as {@code http://127.0.0.1:4566}; empty for AWS's own
     * @param attemptTimeout the most one HTTP attempt may take, connection included
     */
    public static CloudWatchLogsClient cloudWatchLogs(String region, Optional<String> endpoint, Duration attemptTimeout) {
        var builder = CloudWatchLogsClient.builder()
                .region(Region.of(region))
                .credentialsProvider(DefaultCredentialsProvider.builder().build())
                .httpClient(UrlConnectionHttpClient.builder()
                        .connectionTimeout(min(CONNECT_TIMEOUT, attemptTimeout))
                        .socketTimeout(attemptTimeout)
                        .build())
                .overrideConfiguration(o -> o
                        .retryStrategy(AwsRetryStrategy.doNotRetry())
                        .apiCallAttemptTimeout(attemptTimeout)
                        .apiCallTimeout(attemptTimeout.plus(CONNECT_TIMEOUT)));
        endpoint.ifPresent(e -> builder.endpointOverride(URI.create(e)));
        return builder.build();
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
