package io.sallyport.aws;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;

class AwsErrorsTest {
    private static AwsServiceException answer(String code, String message) {
        return (AwsServiceException) AwsServiceException.builder().statusCode(503)
                .awsErrorDetails(AwsErrorDetails.builder().errorCode(code).errorMessage(message).build()).build();
    }

    @Test
    void serviceAnswerReadsAsCodeAndMessage() {
        assertThat(AwsErrors.serviceError(answer("Throttling", "Rate exceeded"))).contains("Throttling: Rate exceeded");
    }

    @Test
    void answerWithoutCodeNamesTheHttpStatusAndOneWithoutMessageHasNoMessagePart() {
        assertThat(AwsErrors.serviceError(answer(null, "down"))).contains("HTTP 503: down");
        assertThat(AwsErrors.serviceError(answer("ServiceUnavailable", null))).contains("ServiceUnavailable");
        assertThat(AwsErrors.serviceError(answer("ServiceUnavailable", " "))).contains("ServiceUnavailable");
    }

    @Test
    void failureThatIsNoAnswerFromTheServiceIsLeftToTheCaller() {
        assertThat(AwsErrors.serviceError(SdkClientException.create("Unable to execute HTTP request"))).isEmpty();
        assertThat(AwsErrors.serviceError(AwsServiceException.builder().statusCode(500).build())).isEmpty();
    }
}
