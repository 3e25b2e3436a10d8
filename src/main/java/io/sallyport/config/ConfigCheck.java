package io.sallyport.config;

import java.util.List;

/**
 * A validation that needs another room's knowledge (what a valid public key line is, how a rule
 * compiles) but must still report through the loader, so that one run lists every problem of a
 * file, not the loader's first and the rest after they are fixed.
 *
 * <p>It runs on the config as read, even when the loader has already found problems: values that
 * were bad are then at their defaults, so a check must not report on them twice.
 *
 * <p>A check may add warnings ({@link ConfigProblem#warning}) as well as errors: errors refuse the
 * file, warnings end up in {@link Config#warnings()}.
 */
@FunctionalInterface
public interface ConfigCheck {
    void check(Config config, List<ConfigProblem> problems);
}
