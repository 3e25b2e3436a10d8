package io.sallyport.aws;

import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.testing.FakeImds;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class InstanceMetadataTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(2);
    private static final String DISABLE = "aws.disableEc2Metadata";
    private String disabledBefore;

    /**
     * Other tests in this JVM switch the SDK's metadata lookups off for good (FakeIam); these
     * tests are about reading the environment the SDK way, against a fake, so they start clean.
     */
    @BeforeEach
    void noGlobalSwitch() {
        disabledBefore = System.getProperty(DISABLE);
        System.clearProperty(DISABLE);
    }

    @AfterEach
    void restoreGlobalSwitch() {
        if (disabledBefore != null) {
            System.setProperty(DISABLE, disabledBefore);
        }
    }

    @Test
    void readsInstanceIdAndRegionWithAnImdsV2Token() throws Exception {
        try (FakeImds imds = FakeImds.start("i-0123456789abcdef0", "eu-central-1")) {
            InstanceMetadata.Answer a = new InstanceMetadata(URI.create(imds.endpoint()), TIMEOUT).lookup();

            assertThat(a.instanceId()).contains("i-0123456789abcdef0");
            assertThat(a.region()).contains("eu-central-1");
            assertThat(a.problem()).isEmpty();
            assertThat(imds.unauthorizedReads()).as("never an IMDSv1 read").isZero();
        }
    }

    @Test
    void endpointComesFromTheEnvironmentVariableTheSdksUse() throws Exception {
        try (FakeImds imds = FakeImds.start("i-0fedcba9876543210", "us-west-2")) {
            InstanceMetadata m = InstanceMetadata.fromEnvironment(Map.of("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.endpoint() + "/"), TIMEOUT);

            assertThat(m.endpoint()).isEqualTo(URI.create(imds.endpoint()));
            assertThat(m.lookup().instanceId()).contains("i-0fedcba9876543210");
        }
    }

    @Test
    void answersThatDoNotLookLikeAnInstanceIdAreNotBelieved() throws Exception {
        try (FakeImds imds = FakeImds.start("<script>", "eu-central-1")) {
            InstanceMetadata.Answer a = new InstanceMetadata(URI.create(imds.endpoint()), TIMEOUT).lookup();

            assertThat(a.instanceId()).isEmpty();
            assertThat(a.region()).contains("eu-central-1");
            assertThat(a.problem()).hasValueSatisfying(p -> assertThat(p).contains("no usable instance id"));
        }
    }

    @Test
    void nothingListeningIsAProblemNotAnException() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        InstanceMetadata.Answer a = new InstanceMetadata(URI.create("http://127.0.0.1:" + port), TIMEOUT).lookup();

        assertThat(a.instanceId()).isEmpty();
        assertThat(a.problem()).hasValueSatisfying(p -> assertThat(p).contains("did not answer"));
    }

    @Test
    void disabledLikeTheSdksWhenAskedTo() {
        InstanceMetadata.Answer a = InstanceMetadata.fromEnvironment(Map.of("AWS_EC2_METADATA_DISABLED", "true"), TIMEOUT).lookup();

        assertThat(a.problem()).hasValueSatisfying(p -> assertThat(p).contains("disabled"));
    }
}
