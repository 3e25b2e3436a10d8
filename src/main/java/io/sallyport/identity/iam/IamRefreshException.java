package io.sallyport.identity.iam;

/** A refresh that did not complete; the message says which call failed and how, for the log and {@code auth.reject}. */
final class IamRefreshException extends Exception {
    private final boolean throttled;

    IamRefreshException(String message, boolean throttled, Throwable cause) {
        super(message, cause);
        this.throttled = throttled;
    }

    /** IAM said {@code Throttling}: the refresher backs off before the next try. */
    boolean throttled() {
        return throttled;
    }
}
