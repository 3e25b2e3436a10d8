package io.sallyport.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.aws.AwsClients;
import io.sallyport.config.Config;
import io.sallyport.testing.FakeCloudWatchLogs;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipper against a fake CloudWatch Logs that speaks the real protocol to the real SDK
 * client: limits, throttling, failures, stalls, outages, rejected events, restarts.
 */
class CloudWatchShipperTest {
    private static final String GROUP = "/sallyport/test";
    private static final Duration WAIT = Duration.ofSeconds(20);
    static final CloudWatchShipper.Tuning FAST = new CloudWatchShipper.Tuning(Duration.ofMillis(20), Duration.ofMillis(20),
            Duration.ofMillis(200), Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(5));

    @TempDir
    Path dir;

    private FakeCloudWatchLogs cloudwatch;
    private Spool spool;
    private final List<CloudWatchShipper> shippers = new ArrayList<>();
    private int next;

    @BeforeAll
    static void credentials() {
        // The default credentials chain, as in production; system properties are its first link.
        System.setProperty("aws.accessKeyId", "AKIDTESTTESTTEST");
        System.setProperty("aws.secretAccessKey", "test-secret");
    }

    @AfterAll
    static void noCredentials() {
        System.clearProperty("aws.accessKeyId");
        System.clearProperty("aws.secretAccessKey");
    }

    @BeforeEach
    void start() throws Exception {
        cloudwatch = FakeCloudWatchLogs.start();
        spool = Spool.open(dir, 64L << 20, Config.SpoolFullAction.REFUSE_NEW_SESSIONS, written -> {});
    }

    @AfterEach
    void stop() {
        shippers.forEach(CloudWatchShipper::close);
        spool.close();
        cloudwatch.close();
    }

    private CloudWatchShipper shipper(boolean createLogGroup, CloudWatchShipper.Tuning tuning) {
        CloudWatchShipper s = new CloudWatchShipper(spool,
                AwsClients.cloudWatchLogs("eu-west-1", Optional.of(cloudwatch.endpoint()), tuning.attemptTimeout()),
                new CloudWatchShipper.Destination(GROUP, "{instance_id}", createLogGroup, "i-0123456789abcdef0", "host"),
                tuning, Clock.systemUTC());
        shippers.add(s);
        s.start();
        return s;
    }

    private CloudWatchShipper shipper() {
        return shipper(true, FAST);
    }

    /** Appends events stamped now; returns their ids in order. */
    private List<String> append(int n) {
        return append(n, System.currentTimeMillis(), 40);
    }

    private List<String> append(int n, long timestamp, int padding) {
        List<String> ids = new ArrayList<>();
        List<Spool.Append> pending = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String id = "ev-" + (next++);
            ids.add(id);
            pending.add(spool.append(timestamp, "{\"id\":\"" + id + "\",\"event\":\"session.open\",\"pad\":\"" + "p".repeat(padding) + "\"}"));
        }
        pending.forEach(p -> assertThat(p.awaitDurable(WAIT)).isTrue());
        return ids;
    }

    private void awaitShipped(List<String> ids) throws InterruptedException {
        assertThat(cloudwatch.awaitIds(ids, WAIT)).as("all events reach CloudWatch; calls: %s", cloudwatch.putCalls()).isTrue();
    }

    private static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() < deadline).as("condition within " + WAIT).isTrue();
            Thread.sleep(20);
        }
    }

    private Map<String, Integer> copies() {
        Map<String, Integer> n = new HashMap<>();
        cloudwatch.events().forEach(e -> n.merge(e.id(), 1, Integer::sum));
        return n;
    }

    @Test
    void shipsInSpoolOrderToOneStreamCreatingGroupAndStream() throws Exception {
        List<String> ids = append(50);

        CloudWatchShipper s = shipper();
        awaitShipped(ids);

        assertThat(cloudwatch.groups()).containsExactly(GROUP);
        assertThat(cloudwatch.streams(GROUP)).containsExactly("i-0123456789abcdef0");
        assertThat(cloudwatch.distinctIds()).containsExactlyElementsOf(ids);
        assertThat(cloudwatch.events()).hasSize(50);
        await(() -> spool.status().unshippedEvents() == 0);
        assertThat(s.stats().shippedEvents()).isEqualTo(50);
    }

    @Test
    void throttlingSlowsTheShipperDownWithoutLosingOrDuplicatingEvents() throws Exception {
        List<String> ids = append(30);
        cloudwatch.throttleNext(6);
        long start = System.nanoTime();

        CloudWatchShipper s = shipper();
        awaitShipped(ids);
        long elapsedMs = (System.nanoTime() - start) / 1_000_000;

        assertThat(cloudwatch.distinctIds()).containsExactlyElementsOf(ids);
        assertThat(cloudwatch.events()).as("nothing accepted twice").hasSize(30);
        assertThat(s.stats().throttled()).isEqualTo(6);
        // Equal jitter: each retry waits at least half its step: 10+20+40+80+100+100 ms.
        assertThat(elapsedMs).isGreaterThanOrEqualTo(350);
    }

    @Test
    void serverErrorsAndAnOutageAreRetriedUntilTheBacklogDrainsInOrder() throws Exception {
        cloudwatch.failNext(2, 503);
        cloudwatch.failNext(2, 500);
        CloudWatchShipper s = shipper();
        List<String> ids = new ArrayList<>(append(10));
        awaitShipped(ids);

        cloudwatch.goAway();
        for (int i = 0; i < 5; i++) {
            ids.addAll(append(20));
            Thread.sleep(50);
        }
        await(() -> s.stats().failedAttempts() >= 6);
        assertThat(spool.status().unshippedEvents()).isPositive();
        cloudwatch.comeBack();
        awaitShipped(ids);

        assertThat(cloudwatch.distinctIds()).containsExactlyElementsOf(ids);
        assertThat(cloudwatch.events()).hasSize(ids.size());
        await(() -> spool.status().unshippedEvents() == 0);
    }

    @Test
    void aStalledCallIsSentAgainAndOnlyThatCallIsDuplicated() throws Exception {
        List<String> ids = append(20);
        cloudwatch.stallNext(1, Duration.ofSeconds(2), true); // accepted, but answered after the 1 s attempt timeout

        shipper();
        awaitShipped(ids);
        await(() -> cloudwatch.events().size() >= 40);

        assertThat(cloudwatch.distinctIds()).containsExactlyElementsOf(ids);
        assertThat(copies().values()).containsOnly(2);
        assertThat(cloudwatch.events()).hasSize(40);
    }

    @Test
    void eventsCloudWatchRejectsOneByOneAreCountedAndNotRetried() throws Exception {
        long fifteenDaysAgo = System.currentTimeMillis() - Duration.ofDays(15).toMillis();
        List<String> old = append(2, fifteenDaysAgo, 10);
        List<String> fresh = append(3);

        CloudWatchShipper s = shipper();
        awaitShipped(fresh);
        await(() -> spool.status().unshippedEvents() == 0);

        assertThat(s.stats().rejectedEvents()).isEqualTo(2);
        assertThat(cloudwatch.distinctIds()).containsExactlyElementsOf(fresh).doesNotContainAnyElementsOf(old);
        assertThat(cloudwatch.putCalls()).filteredOn(c -> c.status() == 200).hasSize(2); // each once
    }

    @Test
    void aClockSteppedBackAfterRunningHoursAheadLosesNoEventAsTooNew() throws Exception {
        long now = System.currentTimeMillis();
        long right = now - 5_000;
        // Stamped while the clock ran 3 h ahead, then (NTP stepped it back) stamped right.
        List<String> ahead = append(2, now + Duration.ofHours(3).toMillis(), 10);
        List<String> after = append(3, right, 10);
        List<String> all = new ArrayList<>(ahead);
        all.addAll(after);

        CloudWatchShipper s = shipper();
        awaitShipped(all);
        await(() -> spool.status().unshippedEvents() == 0);
        long shippedBy = System.currentTimeMillis();

        assertThat(s.stats().rejectedEvents()).as("CloudWatch rejected none as too new").isZero();
        assertThat(cloudwatch.distinctIds()).containsExactlyElementsOf(all);
        assertThat(cloudwatch.events()).filteredOn(e -> after.contains(e.id()))
                .as("later events keep their own time, not an earlier event's future one")
                .extracting(FakeCloudWatchLogs.Event::timestamp).containsOnly(right);
        assertThat(cloudwatch.events()).filteredOn(e -> ahead.contains(e.id()))
                .as("sent as of when they were shipped, never later").hasSize(2)
                .allSatisfy(e -> assertThat(e.timestamp()).isBetween(now, shippedBy));
    }

    @Test
    void theFakeRefusesWhatCloudWatchRefusesSoTheShipperTestsCanFail() throws Exception {
        cloudwatch.createGroup(GROUP);
        cloudwatch.retentionDays(GROUP, 7);
        long now = System.currentTimeMillis();
        try (var client = AwsClients.cloudWatchLogs("eu-west-1", Optional.of(cloudwatch.endpoint()), Duration.ofSeconds(5))) {
            client.createLogStream(b -> b.logGroupName(GROUP).logStreamName("s"));
            java.util.function.Function<long[], software.amazon.awssdk.services.cloudwatchlogs.model.PutLogEventsResponse> put =
                    ts -> client.putLogEvents(b -> b.logGroupName(GROUP).logStreamName("s").logEvents(
                            java.util.Arrays.stream(ts).mapToObj(t -> software.amazon.awssdk.services.cloudwatchlogs.model
                                    .InputLogEvent.builder().timestamp(t).message("{\"id\":\"" + t + "\"}").build()).toList()));

            assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> put.apply(new long[] {now, now - 1})))
                    .isInstanceOf(software.amazon.awssdk.services.cloudwatchlogs.model.InvalidParameterException.class)
                    .hasMessageContaining("chronological order");
            assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> put.apply(new long[] {now - Duration.ofHours(25).toMillis(), now})))
                    .isInstanceOf(software.amazon.awssdk.services.cloudwatchlogs.model.InvalidParameterException.class)
                    .hasMessageContaining("24 hours");
            var info = put.apply(new long[] {now - Duration.ofDays(15).toMillis(), now - Duration.ofDays(8).toMillis(), now,
                    now + Duration.ofMinutes(119).toMillis(), now + Duration.ofMinutes(121).toMillis()}).rejectedLogEventsInfo();
            assertThat(info.tooOldLogEventEndIndex()).isEqualTo(1);
            assertThat(info.expiredLogEventEndIndex()).isEqualTo(2);
            assertThat(info.tooNewLogEventStartIndex()).isEqualTo(4);
            assertThat(cloudwatch.events(GROUP, "s")).extracting(FakeCloudWatchLogs.Event::timestamp)
                    .containsExactly(now, now + Duration.ofMinutes(119).toMillis());
        }
    }

    @Test
    void aBacklogLargerThanOneCallIsCutWithinEveryLimit() throws Exception {
        List<String> ids = append(25_000, System.currentTimeMillis(), 150);

        shipper();
        awaitShipped(ids);

        assertThat(cloudwatch.putCalls()).allSatisfy(c -> assertThat(c.error()).satisfiesAnyOf(
                e -> assertThat(e).isNull(), e -> assertThat(e).startsWith("ResourceNotFoundException")));
        assertThat(cloudwatch.putCalls()).filteredOn(c -> c.status() == 200)
                .allSatisfy(c -> assertThat(c.events()).isLessThanOrEqualTo(10_000));
        // Full calls, not a full one and a stub per read.
        long cost = cloudwatch.events().stream().mapToLong(e -> e.message().length() + 26).sum();
        long fewest = (cost + 1_048_575) / 1_048_576;
        assertThat(cloudwatch.putCalls()).filteredOn(c -> c.status() == 200).hasSizeLessThanOrEqualTo((int) fewest + 1);
        assertThat(cloudwatch.distinctIds()).containsExactlyElementsOf(ids);
    }

    @Test
    void afterARestartShippingResumesWithoutResendingWhatWasAccepted() throws Exception {
        List<String> ids = new ArrayList<>(append(10));
        CloudWatchShipper first = shipper();
        awaitShipped(ids);
        await(() -> spool.status().unshippedEvents() == 0);
        first.close();
        shippers.remove(first);
        spool.close();

        spool = Spool.open(dir, 64L << 20, Config.SpoolFullAction.REFUSE_NEW_SESSIONS, written -> {});
        ids.addAll(append(5));
        shipper();
        awaitShipped(ids);

        assertThat(cloudwatch.events()).hasSize(15);
        assertThat(cloudwatch.distinctIds()).containsExactlyElementsOf(ids);
    }

    @Test
    void anEventCloudWatchCallsInvalidIsIsolatedAndSkippedTheRestShip() throws Exception {
        cloudwatch.invalidWhen(m -> m.contains("ev-4\""));
        List<String> ids = append(10);

        CloudWatchShipper s = shipper();
        List<String> good = ids.stream().filter(i -> !i.equals("ev-4")).toList();
        awaitShipped(good);
        await(() -> spool.status().unshippedEvents() == 0);

        assertThat(s.stats().unshippable()).isEqualTo(1);
        assertThat(cloudwatch.distinctIds()).containsExactlyElementsOf(good);
    }

    @Test
    void withoutCreateLogGroupAMissingGroupIsReportedAndRetriedUntilItExists() throws Exception {
        List<String> ids = append(3);

        CloudWatchShipper s = shipper(false, FAST);
        await(() -> s.stats().failedAttempts() >= 2);
        assertThat(s.stats().lastError()).hasValueSatisfying(e -> assertThat(e).contains("create_log_group is false"));
        assertThat(cloudwatch.groups()).isEmpty();
        cloudwatch.createGroup(GROUP);
        awaitShipped(ids);

        assertThat(cloudwatch.distinctIds()).containsExactlyElementsOf(ids);
    }

    @Test
    void theHeartbeatLineEndsWithTheNumbersAMetricFilterReads() throws Exception {
        cloudwatch.goAway();
        append(3);
        CloudWatchShipper s = shipper();
        await(() -> s.stats().failedAttempts() >= 1);

        String line = s.pipelineLine(spool.status(), s.stats());

        assertThat(line).startsWith("audit pipeline: 3 unshipped events (oldest ");
        String[] tail = line.substring(line.lastIndexOf(" | ") + 3).split(" ");
        assertThat(tail).hasSize(11);
        assertThat(tail[0]).isEqualTo("audit-pipeline");
        assertThat(tail[1]).isEqualTo("i-0123456789abcdef0");
        assertThat(tail[2]).isEqualTo("3");
        assertThat(Long.parseLong(tail[6])).isPositive(); // failed attempts
        for (int i = 2; i < tail.length; i++) {
            assertThat(tail[i]).containsOnlyDigits();
        }
    }

    @Test
    void closingDrainsWhatIsInTheSpool() throws Exception {
        CloudWatchShipper s = shipper(true, new CloudWatchShipper.Tuning(Duration.ofSeconds(30), Duration.ofMillis(20),
                Duration.ofMillis(200), Duration.ofSeconds(1), Duration.ofSeconds(3), Duration.ofSeconds(1)));
        List<String> ids = append(5); // the 30 s linger would hold these back

        s.close();

        assertThat(cloudwatch.distinctIds()).containsExactlyElementsOf(ids);
        assertThat(spool.status().unshippedEvents()).isZero();
    }
}
