package io.sallyport.aws;

import java.util.Optional;
import software.amazon.awssdk.awscore.exception.AwsServiceException;

/** How an AWS service's error reads in sallyport's logs and messages, the same for IAM and CloudWatch Logs. */
public final class AwsErrors {
    private AwsErrors() {}

    /**
     * The service's answer as {@code CODE: message} ({@code HTTP 503} when it sent no code; no
     * message part when it sent none), or empty when {@code e} is not an answer from the service
     * (a network or client failure) or carries no error details.
     */
    public static Optional<String> serviceError(Throwable e) {
        if (!(e instanceof AwsServiceException ase) || ase.awsErrorDetails() == null) {
            return Optional.empty();
        }
        String code = ase.awsErrorDetails().errorCode();
        String message = ase.awsErrorDetails().errorMessage();
        return Optional.of((code == null ? "HTTP " + ase.statusCode() : code)
                + (message == null || message.isBlank() ? "" : ": " + message));
    }
}
